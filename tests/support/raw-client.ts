import WebSocket from 'ws'
import type { ServerMessage } from '../../src/protocol/tracker'

/** A raw tracker client for server tests: sends anything, waits for matching messages. */
export class RawClient {
  readonly received: ServerMessage[] = []
  private waiters: { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = []
  peerId = ''
  closed: Promise<number>
  /** Bytes of the largest frame received. */
  largestFrame = 0

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.largestFrame = Math.max(this.largestFrame, (data as Buffer).length)
      const message = JSON.parse(String(data)) as ServerMessage
      this.received.push(message)
      const waiter = this.waiters.find((w) => w.match(message))
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        waiter.resolve(message)
      }
    })
    this.closed = new Promise((resolve) => socket.on('close', (code) => resolve(code)))
  }

  static async connect(url: string, options: WebSocket.ClientOptions = {}): Promise<RawClient> {
    const socket = new WebSocket(url, options)
    await new Promise((resolve, reject) => {
      socket.once('open', resolve)
      socket.once('error', reject)
    })
    return new RawClient(socket)
  }

  /** Connects and says hello (with `hello`'s fields added); resolves once welcomed. */
  static async greeted(url: string, options: WebSocket.ClientOptions = {}, hello: Record<string, unknown> = {}): Promise<RawClient> {
    const client = await RawClient.connect(url, options)
    client.send({ type: 'hello', v: 1, ...hello })
    const welcome = await client.next((m) => m.type === 'welcome')
    client.peerId = (welcome as Extract<ServerMessage, { type: 'welcome' }>).peerId
    return client
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data)
  }

  /** The next message (already received or to come) that matches, in order. */
  next<T extends ServerMessage = ServerMessage>(match: (m: ServerMessage) => boolean, ms = 5000): Promise<T> {
    const seen = this.received.findIndex(match)
    if (seen >= 0) return Promise.resolve(this.received.splice(seen, 1)[0] as T)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message in ${ms} ms; got ${JSON.stringify(this.received)}`)), ms)
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer)
          this.received.splice(this.received.indexOf(m), 1)
          resolve(m as T)
        },
      })
    })
  }

  /** Sends a request with an id and waits for the reply carrying that id. */
  async ask<T extends ServerMessage = ServerMessage>(message: Record<string, unknown> & { id: number }): Promise<T> {
    this.send(message)
    return this.next<T>((m) => 'id' in m && m.id === message.id)
  }

  close(): void {
    this.socket.close()
  }
}
