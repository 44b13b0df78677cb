// Load generator for the tracker benchmark, run as a child process with IPC: N plain `ws` clients
// (loopback only) join, form swarms, then send `have` and `locate` at a steady total rate. Against
// the echo server the same clients send frames of the same size and get them back.
import WebSocket from 'ws'
import { MAX_TRACKER_FRAME_BYTES } from '../../src/protocol/tracker'
import { fileIdOf, type Manifest } from '../../src/protocol/manifest'

export interface LoadOptions {
  /** Client i connects to urls[i % urls.length], so each swarm spans every instance. */
  urls: string[]
  mode: 'tracker' | 'echo'
  peers: number
  /** Messages per second, all clients together, in the steady phase. */
  rate: number
  seconds: number
  swarmSize: number
}

export interface LoadResult {
  sent: number
  answered: number
  /** Frames clients received in the steady phase (replies and pushes). */
  received: number
  seconds: number
  p50Ms: number
  p99Ms: number
}

const CHUNKS = 16
/** When any client last received a frame. */
let lastFrameAt = 0

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

class Client {
  readonly socket: WebSocket
  peerId = ''
  private waiting = new Map<number, (message: Record<string, unknown>) => void>()
  onFrame: () => void = () => undefined

  constructor(url: string) {
    this.socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_TRACKER_FRAME_BYTES * 4 })
    this.socket.on('message', (data) => {
      lastFrameAt = performance.now()
      this.onFrame()
      const message = JSON.parse(data.toString()) as Record<string, unknown>
      const id = typeof message.id === 'number' ? message.id : message.type === 'welcome' ? -1 : undefined
      if (id !== undefined) {
        this.waiting.get(id)?.(message)
        this.waiting.delete(id)
      }
    })
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve())
      this.socket.once('error', reject)
    })
  }

  ask(message: Record<string, unknown>, id: number): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve)
      this.socket.send(JSON.stringify(message))
    })
  }
}

function manifestFor(group: number): Manifest {
  const hashes = Array.from({ length: CHUNKS }, (_, i) => (group * CHUNKS + i).toString(16).padStart(64, '0'))
  return { v: 1, name: `file-${group}.bin`, size: CHUNKS * 262144, type: 'application/octet-stream', chunkSize: 262144, hashes }
}

async function run(options: LoadOptions, report: (event: unknown) => void): Promise<LoadResult> {
  const clients: Client[] = []
  // Join in batches, so the server is not asked for thousands of handshakes at once.
  for (let start = 0; start < options.peers; start += 250) {
    const batch = Array.from(
      { length: Math.min(250, options.peers - start) },
      (_, i) => new Client(options.urls[(start + i) % options.urls.length]!),
    )
    await Promise.all(batch.map((client) => client.opened()))
    if (options.mode === 'tracker') {
      await Promise.all(
        batch.map(async (client) => {
          const welcome = await client.ask({ type: 'hello', v: 1 }, -1)
          client.peerId = welcome.peerId as string
        }),
      )
    }
    clients.push(...batch)
  }
  report({ phase: 'connected' })

  const fileIds: string[] = []
  if (options.mode === 'tracker') {
    const groups = Math.ceil(clients.length / options.swarmSize)
    for (let group = 0; group < groups; group++) {
      const manifest = manifestFor(group)
      fileIds.push(await fileIdOf(manifest))
      await clients[group * options.swarmSize]!.ask({ type: 'publish', id: 1, manifest }, 1)
    }
    await Promise.all(
      clients.map((client, i) =>
        i % options.swarmSize === 0
          ? undefined
          : client.ask({ type: 'locate', id: 2, fileId: fileIds[Math.floor(i / options.swarmSize)] }, 2),
      ),
    )
  }
  // The steady phase starts once the set-up's pushes (joins) have all arrived: 250 ms of quiet.
  const quietBy = performance.now() + 30_000
  while (performance.now() - lastFrameAt < 250 && performance.now() < quietBy) await new Promise((r) => setTimeout(r, 50))
  report({ phase: 'steady' })

  // Steady phase: every 10 ms, rate/100 messages from clients in turn; every other one is a request.
  let received = 0
  for (const client of clients) client.onFrame = () => received++
  const latencies: number[] = []
  let sent = 0
  let next = 0
  let nextId = 10
  const padding = 'x'.repeat(80) // an echo frame about as long as a tracker message
  const started = performance.now()
  const total = Math.round(options.rate * options.seconds)
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.round(((performance.now() - started) / 1000) * options.rate))
      for (; sent < due; sent++) {
        const index = next++ % clients.length
        const client = clients[index]!
        const fileId = fileIds[Math.floor(index / options.swarmSize)]
        const asks = sent % 2 === 1
        const id = nextId++ % 2 ** 31
        if (!asks) {
          const message = options.mode === 'tracker' ? { type: 'have', fileId, indexes: [sent % CHUNKS] } : { type: 'have', padding }
          client.socket.send(JSON.stringify(message))
          continue
        }
        const t0 = performance.now()
        const message = options.mode === 'tracker' ? { type: 'locate', id, fileId } : { type: 'locate', id, padding }
        void client.ask(message, id).then(() => latencies.push(performance.now() - t0))
      }
      if (sent >= total) {
        clearInterval(tick)
        resolve()
      }
    }, 10)
  })
  // Let the last replies arrive.
  const deadline = performance.now() + 5000
  while (latencies.length < Math.floor(total / 2) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  const seconds = (performance.now() - started) / 1000
  report({ phase: 'done' })
  latencies.sort((a, b) => a - b)
  for (const client of clients) client.socket.terminate()
  return { sent, answered: latencies.length, received, seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) }
}

const options = JSON.parse(process.argv[2]!) as LoadOptions
const reply = (event: unknown) => process.send!(event)
const result = await run(options, reply)
reply({ phase: 'result', result })
process.disconnect()
