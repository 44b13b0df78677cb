import { decodeServerMessage, TRACKER_PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from '../protocol/tracker'
import type { IceServer, TrackerNotice, TrackerPort, TrackerRequest, TrackerStatus } from '../core/ports'

export const RECONNECT_BASE_MS = 500
/** Low enough that a peer is online within this of its tracker returning (a refused connection costs the service little). */
export const RECONNECT_MAX_MS = 3_000
export const REQUEST_TIMEOUT_MS = 10_000
/** A tracker that has not welcomed us this long after the socket opened is tried again (it may be stuck on its storage). */
export const WELCOME_TIMEOUT_MS = 10_000
/** A tracker that answered but could not welcome us is asked again within RECONNECT_BASE_MS × 2^this. */
const UNWELCOMED_ATTEMPT = 2

type Listener<T> = (value: T) => void

/** The subset of the WebSocket API used here, so Node tests can pass the `ws` package. */
export interface TrackerSocket {
  send(data: string): void
  close(): void
  onopen: (() => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: (() => void) | null
  /** A failure is followed by close, which handles it; Node's `ws` throws an error nobody listens to. */
  onerror: (() => void) | null
}
export type WebSocketConstructor = new (url: string) => TrackerSocket

/** Exponential backoff with full jitter, capped. */
export function reconnectDelay(attempt: number, random: () => number): number {
  const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** attempt)
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

/** The browser's connection to the tracker: one WebSocket, reopened with backoff when lost. */
export class TrackerClient implements TrackerPort {
  status: TrackerStatus = 'offline'
  peerId: string | undefined
  iceServers: IceServer[] = []
  private socket: TrackerSocket | undefined
  /** From the last welcome: lets a reconnect keep this tab's peer id, so open peer links stay valid. */
  private resume: { peerId: string; token: string } | undefined
  private nextId = 1
  private attempt = 0
  private stopped = false
  /** Cleared when the tracker refuses a hello that asks for `swarm-news` (a version that does not know it). */
  private trackerTakesNews = true
  private retry: ReturnType<typeof setTimeout> | undefined
  private welcomeDeadline: ReturnType<typeof setTimeout> | undefined
  /** The last socket opened but was not welcomed: the tracker is up, only its storage is not: try again soon. */
  private openedUnwelcomed = false
  private readonly pending = new Map<
    number,
    { resolve: Listener<ServerMessage>; reject: Listener<Error>; timer: ReturnType<typeof setTimeout> }
  >()
  private readonly pushListeners = new Set<Listener<ServerMessage>>()
  private readonly statusListeners = new Set<Listener<TrackerStatus>>()

  constructor(
    private readonly url: string,
    private readonly random: () => number = Math.random,
    private readonly Socket: WebSocketConstructor = WebSocket as unknown as WebSocketConstructor,
  ) {}

  start(): void {
    this.stopped = false
    this.connect()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.retry)
    clearTimeout(this.welcomeDeadline)
    this.socket?.close()
  }

  reconnectNow(): void {
    if (this.stopped || this.status !== 'offline') return
    clearTimeout(this.retry)
    this.attempt = 0
    this.reconnect()
  }

  request(message: TrackerRequest): Promise<ServerMessage> {
    if (this.status !== 'online') return Promise.reject(new Error('not connected to the tracker'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error('the tracker did not answer in time'))
      }, REQUEST_TIMEOUT_MS)
      this.pending.set(id, { resolve, reject, timer })
      this.write({ ...message, id } as ClientMessage)
    })
  }

  send(message: TrackerNotice): void {
    if (this.status === 'online') this.write(message)
  }

  onPush(listener: Listener<ServerMessage>): () => void {
    this.pushListeners.add(listener)
    return () => this.pushListeners.delete(listener)
  }

  onStatus(listener: Listener<TrackerStatus>): () => void {
    this.statusListeners.add(listener)
    return () => this.statusListeners.delete(listener)
  }

  private write(message: ClientMessage): void {
    this.socket?.send(JSON.stringify(message))
  }

  private setStatus(status: TrackerStatus): void {
    if (this.status === status) return
    this.status = status
    for (const listener of this.statusListeners) listener(status)
  }

  private connect(): void {
    this.setStatus('connecting')
    const socket = new this.Socket(this.url)
    this.socket = socket
    socket.onopen = () => {
      this.openedUnwelcomed = true
      this.hello()
      this.welcomeDeadline = setTimeout(() => this.socket === socket && this.status !== 'online' && socket.close(), WELCOME_TIMEOUT_MS)
    }
    socket.onerror = () => undefined
    socket.onmessage = (event) => this.receive(event.data)
    socket.onclose = () => {
      if (this.socket !== socket) return
      clearTimeout(this.welcomeDeadline)
      this.socket = undefined
      this.peerId = undefined
      for (const [id, entry] of this.pending) {
        clearTimeout(entry.timer)
        entry.reject(new Error('the connection to the tracker was lost'))
        this.pending.delete(id)
      }
      this.setStatus('offline')
      if (this.openedUnwelcomed) this.attempt = Math.min(this.attempt, UNWELCOMED_ATTEMPT)
      this.openedUnwelcomed = false
      if (!this.stopped) this.retry ??= setTimeout(() => this.reconnect(), reconnectDelay(this.attempt++, this.random))
    }
  }

  private reconnect(): void {
    this.retry = undefined
    this.connect()
  }

  private hello(): void {
    const news = this.trackerTakesNews ? { news: true as const } : {}
    this.write({ type: 'hello', v: TRACKER_PROTOCOL_VERSION, ...news, ...(this.resume ? { resume: this.resume } : {}) })
  }

  private receive(frame: unknown): void {
    const decoded = decodeServerMessage(frame)
    if (!decoded.ok) {
      console.warn(`Ignored a message from the tracker: ${decoded.message}`)
      return
    }
    const message = decoded.message
    if (message.type === 'error' && message.code === 'malformed' && this.peerId === undefined && this.trackerTakesNews) {
      // A tracker of the version before refuses the `news` field: greet it without.
      this.trackerTakesNews = false
      return this.hello()
    }
    if (message.type === 'error' && this.peerId === undefined && !('id' in message && message.id !== undefined)) {
      // Not welcomed (the tracker cannot register peers now): try again after the backoff.
      return this.socket?.close()
    }
    if (message.type === 'reconnect') {
      // This tracker instance is shutting down: come back (to another, behind a load balancer) after its delay.
      clearTimeout(this.retry)
      this.retry = setTimeout(() => this.reconnect(), message.afterMs)
      this.attempt = 0
      return this.socket?.close()
    }
    if (message.type === 'welcome') {
      this.openedUnwelcomed = false
      this.peerId = message.peerId
      this.resume = { peerId: message.peerId, token: message.resumeToken }
      const stun = message.stunPort === undefined ? [] : [{ urls: `stun:${new URL(this.url).hostname}:${message.stunPort}` }]
      this.iceServers = [...message.iceServers, ...stun]
      this.attempt = 0
      this.setStatus('online')
      return
    }
    const id = 'id' in message ? message.id : undefined
    const waiting = id === undefined ? undefined : this.pending.get(id)
    if (waiting && id !== undefined) {
      clearTimeout(waiting.timer)
      this.pending.delete(id)
      waiting.resolve(message)
      return
    }
    for (const listener of this.pushListeners) listener(message)
  }
}
