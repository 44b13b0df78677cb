import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  MAX_RELAY_MESSAGE_BYTES,
  type RelayCloseReason,
  type RelayMessage,
} from '../src/protocol/relay-frame'
import type { Bus } from './bus'
import type { RelayLimits } from './config'
import type { Credentials } from './credentials'
import { RateBudget } from './limits'
import type { Log } from './log'
import type { Metrics } from './metrics'
import type { Registry } from './registry'

/** A route (the two peers share the swarm; where the addressee is) is trusted this long, then checked again. */
const ROUTE_TRUST_MS = 5_000
/** A relayed link that carried nothing this long no longer counts against its file. */
const LINK_IDLE_MS = 30_000
/** A relay socket that has this much waiting to be read by its peer is too slow: it is closed. */
const MAX_UNREAD_BYTES = 8 * 1024 * 1024

export interface RelayDeps {
  limits: RelayLimits
  registry: Registry
  bus: Bus
  credentials: Credentials
  log: Log
  metrics: Metrics | undefined
}

interface RelaySocket {
  peerId: string
  socket: WebSocket
  budget: RateBudget
  /** Messages are handled one after another: a wait on the budget holds the rest back. */
  queue: Promise<void>
  routes: Map<string, { instance: string; until: number } | { refused: true; until: number }>
}

/** What the relay carries and refuses, for the benchmark and the operator. */
export interface RelayFigures {
  sockets: number
  links: number
  bytes: number
  /** Messages refused, by reason (and 'malformed': the socket was closed). */
  refused: Record<RelayCloseReason | 'malformed', number>
}

/**
 * The last-resort relay: each peer that needs it opens one WebSocket at RELAY_PATH with a ticket
 * from the tracker, and the service forwards its wire frames to the peer they are addressed to
 * (on this instance, or through the bus on another), but only between two peers of the same
 * swarm, paced to each peer's byte budget and the instance's. It reads nothing but the envelope.
 */
export class RelayService {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_RELAY_MESSAGE_BYTES })
  private readonly sockets = new Map<string, RelaySocket>()
  private readonly total: RateBudget
  /** Relayed links by `<peer>|<peer>|<file>|<link>` (the two peers in order), with when each last carried a frame. */
  private readonly links = new Map<string, { fileId: string; lastSeen: number }>()
  private bytes = 0
  private readonly refused: RelayFigures['refused'] = { 'file-limit': 0, 'not-in-swarm': 0, gone: 0, malformed: 0 }
  private readonly sweep: ReturnType<typeof setInterval>

  constructor(private readonly deps: RelayDeps) {
    this.total = new RateBudget(deps.limits.totalBytesPerSecond, Math.max(deps.limits.totalBytesPerSecond, MAX_RELAY_MESSAGE_BYTES))
    deps.bus.listenRelay((to, bytes) => this.deliverLocally(to, bytes))
    this.sweep = setInterval(() => this.forgetIdleLinks(), LINK_IDLE_MS / 2)
    this.sweep.unref()
  }

  get bytesPerSecond(): number {
    return this.deps.limits.bytesPerSecond
  }

  stats(): RelayFigures {
    return { sockets: this.sockets.size, links: this.links.size, bytes: this.bytes, refused: { ...this.refused } }
  }

  /** Takes an upgrade on RELAY_PATH whose ticket names a peer; anything else is answered with a status. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, refuse: (status: number, reason: string, text: string) => void): void {
    const ticket = new URL(request.url ?? '/', 'http://localhost').searchParams.get('ticket') ?? ''
    const peerId = this.deps.credentials.relayTicketPeer(ticket)
    if (!peerId) return refuse(401, 'Unauthorized', 'A relay ticket from the tracker is needed (it may have expired).')
    if (!this.sockets.has(peerId) && this.sockets.size >= this.deps.limits.maxConnections) {
      return refuse(503, 'Service Unavailable', 'The relay is full; try again later.')
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, peerId))
  }

  close(): Promise<void> {
    clearInterval(this.sweep)
    for (const socket of this.wss.clients) socket.terminate()
    return new Promise((resolve) => this.wss.close(() => resolve()))
  }

  private accept(socket: WebSocket, peerId: string): void {
    // One relay socket per peer: a new one (a reconnect) replaces the old.
    this.sockets.get(peerId)?.socket.terminate()
    const { bytesPerSecond } = this.deps.limits
    const relay: RelaySocket = {
      peerId,
      socket,
      budget: new RateBudget(bytesPerSecond, Math.max(bytesPerSecond, MAX_RELAY_MESSAGE_BYTES)),
      queue: Promise.resolve(),
      routes: new Map(),
    }
    this.sockets.set(peerId, relay)
    socket.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = isBinary ? toBuffer(data) : undefined
      relay.queue = relay.queue
        .then(() => (bytes ? this.forward(relay, bytes) : socket.close(1003, 'binary relay messages only')))
        .catch((error: unknown) =>
          this.deps.log.error({ event: 'relay.failed', reason: (error as Error).message }, 'a relayed message could not be forwarded'),
        )
    })
    socket.on('error', () => socket.terminate())
    socket.on('close', () => {
      if (this.sockets.get(peerId) === relay) this.sockets.delete(peerId)
    })
  }

  private async forward(from: RelaySocket, bytes: Uint8Array): Promise<void> {
    const decoded = decodeRelayMessage(bytes)
    if (!decoded.ok) {
      this.refused.malformed++
      from.socket.close(1008, decoded.reason)
      return
    }
    const message = decoded.message
    const route = await this.route(from, message.peer, message.fileId)
    if (!route) return this.refuse(from, message, 'not-in-swarm')
    const key = [from.peerId, message.peer].sort().join('|') + `|${message.fileId}|${message.link}`
    if (!this.links.has(key)) {
      let ofFile = 0
      for (const link of this.links.values()) if (link.fileId === message.fileId) ofFile++
      if (ofFile >= this.deps.limits.linksPerFile) return this.refuse(from, message, 'file-limit')
    }
    this.links.set(key, { fileId: message.fileId, lastSeen: Date.now() })
    if (message.kind === 'data') await this.pace(from, bytes.length)
    // Readdressed: the peer it goes to learns who it came from.
    const out = encodeRelayMessage({ ...message, peer: from.peerId } as RelayMessage)
    if (message.kind === 'data') {
      this.bytes += message.frame.length
      this.deps.metrics?.relayedBytes.inc(message.frame.length)
    }
    if (route.instance === this.deps.bus.instance) {
      if (!this.deliverLocally(message.peer, out)) this.refuse(from, message, 'gone')
    } else {
      await this.deps.bus.relay(route.instance, message.peer, out)
    }
  }

  /** Waits for the peer's budget and the instance's, reading nothing more from the peer meanwhile. */
  private async pace(from: RelaySocket, bytes: number): Promise<void> {
    for (const budget of [from.budget, this.total]) {
      while (!budget.spend(bytes)) {
        from.socket.pause()
        await new Promise((resolve) => setTimeout(resolve, Math.max(10, budget.waitMs(bytes))))
      }
    }
    from.socket.resume()
  }

  /** The two peers share the swarm, and where the addressee is connected; checked again after ROUTE_TRUST_MS. */
  private async route(from: RelaySocket, to: string, fileId: string): Promise<{ instance: string } | undefined> {
    const key = `${to}/${fileId}`
    const known = from.routes.get(key)
    if (known && known.until > Date.now()) return 'refused' in known ? undefined : known
    const found =
      to === from.peerId ? ({ refused: 'unknown-peer' } as const) : await this.deps.registry.signalRoute(from.peerId, to, fileId)
    const until = Date.now() + ROUTE_TRUST_MS
    if ('refused' in found) {
      from.routes.set(key, { refused: true, until })
      return undefined
    }
    from.routes.set(key, { instance: found.instance, until })
    return found
  }

  /** Hands a relayed message to the addressee's relay socket on this instance; false when it has none. */
  private deliverLocally(to: string, bytes: Uint8Array): boolean {
    const target = this.sockets.get(to)
    if (!target || target.socket.readyState !== target.socket.OPEN) return false
    if (target.socket.bufferedAmount > MAX_UNREAD_BYTES) {
      target.socket.close(1008, 'not reading what is relayed to it')
      return false
    }
    target.socket.send(bytes)
    return true
  }

  private refuse(from: RelaySocket, message: RelayMessage, reason: RelayCloseReason): void {
    this.refused[reason]++
    this.deps.metrics?.refusals.inc({ reason: `relay-${reason}` })
    if (from.socket.readyState !== from.socket.OPEN) return
    from.socket.send(encodeRelayMessage({ kind: 'closed', peer: message.peer, link: message.link, fileId: message.fileId, reason }))
  }

  private forgetIdleLinks(): void {
    const now = Date.now()
    for (const [key, link] of this.links) if (now - link.lastSeen > LINK_IDLE_MS) this.links.delete(key)
  }
}

function toBuffer(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data
}
