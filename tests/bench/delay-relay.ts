// A user-space UDP forwarder that delays (and may drop) every datagram: the network lab's
// independent check on Chromium's own emulation (the kernel here has no netem). It stands in
// front of a UDP server (coturn): each client address gets its own upstream socket, as a NAT
// would give it, and every datagram waits `delayMs` in each direction. Run as its own process
// (`tsx delay-relay.ts <listen port> <target port> <delay ms> <loss>`) so the benchmark's driver
// never holds a datagram up; it prints `ready <port>` once listening.
import { createSocket, type Socket } from 'node:dgram'

export interface DelayRelayOptions {
  /** Where datagrams go on 127.0.0.1. */
  targetPort: number
  /** Added to each datagram, in each direction. */
  delayMs: number
  /** Each datagram is dropped with this probability (0–1), in each direction. */
  loss: number
}

interface Held {
  due: number
  bytes: Buffer
  send: (bytes: Buffer) => void
}

/** Datagrams waiting their turn, in arrival order (the same delay for all keeps them in order). */
class DelayLine {
  private readonly queue: Held[] = []
  private head = 0
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly delayMs: number) {}

  push(bytes: Buffer, send: (bytes: Buffer) => void): void {
    this.queue.push({ due: performance.now() + this.delayMs, bytes, send })
    this.schedule()
  }

  private schedule(): void {
    if (this.timer || this.head >= this.queue.length) return
    const wait = Math.max(0, this.queue[this.head]!.due - performance.now())
    this.timer = setTimeout(() => this.release(), wait)
  }

  private release(): void {
    this.timer = undefined
    const now = performance.now()
    while (this.head < this.queue.length && this.queue[this.head]!.due <= now + 0.5) {
      const held = this.queue[this.head++]!
      held.send(held.bytes)
    }
    if (this.head > 4096) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
    this.schedule()
  }
}

/** Starts the relay on `listenPort` (0: any) of 127.0.0.1; resolves with its port. */
export async function startDelayRelay(listenPort: number, options: DelayRelayOptions): Promise<{ port: number; close(): void }> {
  const front = createSocket('udp4')
  const line = new DelayLine(options.delayMs)
  const upstreams = new Map<string, Socket>()
  const dropped = () => options.loss > 0 && Math.random() < options.loss
  front.on('message', (bytes, from) => {
    const key = `${from.address}:${from.port}`
    let upstream = upstreams.get(key)
    if (!upstream) {
      const socket = createSocket('udp4')
      socket.bind(0, '127.0.0.1')
      socket.on('message', (reply) => {
        if (!dropped()) line.push(reply, (b) => front.send(b, from.port, from.address))
      })
      upstreams.set(key, (upstream = socket))
    }
    const out = upstream
    if (!dropped()) line.push(bytes, (b) => out.send(b, options.targetPort, '127.0.0.1'))
  })
  await new Promise<void>((resolve) => front.bind(listenPort, '127.0.0.1', resolve))
  return {
    port: front.address().port,
    close() {
      front.close()
      for (const socket of upstreams.values()) socket.close()
    },
  }
}

if (process.argv[1]?.endsWith('delay-relay.ts')) {
  const [listen, target, delay, loss] = process.argv.slice(2).map(Number)
  const relay = await startDelayRelay(listen!, { targetPort: target!, delayMs: delay!, loss: loss! })
  console.log(`ready ${relay.port}`)
}
