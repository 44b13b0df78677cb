import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import {
  decodeClientMessage,
  MAX_TRACKER_FRAME_BYTES,
  TRACKER_PATH,
  TRACKER_PROTOCOL_VERSION,
  type ClientMessageOf,
} from '../src/protocol/tracker'
import type { Registry } from './registry'
import type { Bus, BusMessage } from './bus'
import type { TrackerLimits } from './config'
import { newConnection, overLimit, refuse, send, type Connection } from './connection'
import { Credentials } from './credentials'
import { handle, type HandlerContext } from './handlers'
import { Rooms } from './rooms'
import { Upkeep } from './upkeep'

export { SWARM_PUSH_DELAY_MS } from './rooms'

/** Frames a little over the cap still get a typed `too-large` reply; far larger ones close the socket. */
const WS_MAX_PAYLOAD = MAX_TRACKER_FRAME_BYTES * 4

export interface TrackerOptions {
  registry: Registry
  bus: Bus
  /** A peer's registration lapses this long after its instance last refreshed it. */
  peerTtlMs: number
  heartbeatMs: number
  iceServers: { urls: string | string[]; username?: string; credential?: string }[]
  secret: string
  allowedOrigins: string[]
  limits: TrackerLimits
  /** Told to clients, which add `stun:<tracker host>:<port>` to their ICE servers. */
  stunPort: number | undefined
  turn: { secret: string; urls: string[]; ttlSeconds: number } | undefined
}

/**
 * The tracker: WebSocket upgrade on TRACKER_PATH, one Connection per peer, state in the Registry.
 * Everything a peer hears about a swarm goes through the Bus, so instances sharing a registry act as one.
 * This class owns connections (accept, hello, close); handlers.ts answers messages, rooms.ts pushes,
 * upkeep.ts sweeps.
 */
export class TrackerService {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD })
  /** Greeted connections by peer id. */
  private readonly connections = new Map<string, Connection>()
  private readonly sockets = new Map<WebSocket, Connection>()
  private readonly rooms: Rooms
  private readonly credentials: Credentials
  private readonly upkeep: Upkeep
  private readonly context: HandlerContext
  private readonly disconnecting = new Set<Promise<void>>()

  constructor(private readonly options: TrackerOptions) {
    const { registry, bus, limits } = options
    this.rooms = new Rooms(registry, bus)
    this.credentials = new Credentials(options.secret, options.turn)
    this.context = { registry, bus, limits, rooms: this.rooms, connections: this.connections }
    this.upkeep = new Upkeep({
      wss: this.wss,
      registry,
      rooms: this.rooms,
      sockets: this.sockets,
      connections: this.connections,
      heartbeatMs: options.heartbeatMs,
      peerTtlMs: options.peerTtlMs,
    })
    bus.listen((message) => this.deliver(message))
  }

  get peerCount(): number {
    return this.connections.size
  }

  attach(server: Server): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname
      if (path !== TRACKER_PATH) return // another upgrade handler (Vite's HMR) may own it
      const origin = request.headers.origin
      if (this.options.allowedOrigins.length > 0 && (!origin || !this.options.allowedOrigins.includes(origin))) {
        socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nThis origin may not use this tracker.\n')
        return
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws))
    })
  }

  /** Closes every connection; their peers leave their swarms (on every instance) before this resolves. */
  async close(): Promise<void> {
    this.upkeep.stop()
    this.rooms.close()
    for (const socket of this.wss.clients) socket.terminate()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
    while (this.disconnecting.size > 0) await Promise.allSettled([...this.disconnecting])
  }

  private accept(socket: WebSocket): void {
    const connection = newConnection(socket, this.options.limits)
    this.sockets.set(socket, connection)
    socket.on('pong', () => (connection.alive = true))
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (!connection.budget.spend()) {
        return overLimit(connection, this.options.limits.refusalsBeforeDisconnect, 'too many messages: slow down')
      }
      const frame = isBinary ? data : data.toString()
      void this.receive(connection, frame).catch((error: unknown) => {
        console.error('tracker: failed to handle a message', error)
        send(connection, { type: 'error', code: 'internal', message: 'the tracker failed to handle this message' })
      })
    })
    socket.on('error', () => socket.terminate())
    socket.on('close', () => {
      const done = this.disconnect(connection)
        .catch((error: unknown) => console.error('tracker: failed to remove a peer', error))
        .finally(() => this.disconnecting.delete(done))
      this.disconnecting.add(done)
    })
  }

  private async disconnect(connection: Connection): Promise<void> {
    this.sockets.delete(connection.socket)
    this.rooms.exitAll(connection)
    if (!connection.peerId || this.connections.get(connection.peerId) !== connection) return
    this.connections.delete(connection.peerId)
    const { registry, bus } = this.options
    const fileIds = await registry.release(connection.peerId, bus.instance, connection.session)
    for (const fileId of fileIds ?? []) await this.rooms.left(fileId, connection.peerId)
  }

  /** A message from the bus (another instance, or this one) for this instance's connections. */
  private deliver(message: BusMessage): void {
    switch (message.kind) {
      case 'file':
        return this.rooms.deliver(message)
      case 'peer': {
        const target = this.connections.get(message.peerId)
        if (target) send(target, message.push)
        return
      }
      case 'evict': {
        const stale = this.connections.get(message.peerId)
        if (stale?.session === message.session) stale.socket.terminate()
        return
      }
    }
  }

  private async receive(connection: Connection, frame: unknown): Promise<void> {
    const decoded = decodeClientMessage(frame)
    if (!decoded.ok) return refuse(connection, decoded.code, decoded.message, decoded.id)
    const message = decoded.message
    if (message.type === 'hello') return this.hello(connection, message)
    if (!connection.peerId) return refuse(connection, 'malformed', 'send hello first', 'id' in message ? message.id : undefined)
    await handle(this.context, connection, message)
  }

  private async hello(connection: Connection, message: ClientMessageOf<'hello'>): Promise<void> {
    if (connection.peerId) return refuse(connection, 'malformed', 'hello was already said on this connection')
    if (message.v !== TRACKER_PROTOCOL_VERSION) {
      return refuse(connection, 'unsupported-version', `this tracker speaks protocol version ${TRACKER_PROTOCOL_VERSION}; reload the page`)
    }
    // A reconnecting peer keeps its id if it proves it; the connection holding that id before
    // (here or on another instance) gives way, and its swarms hear that it left.
    const { credentials } = this
    const peerId = credentials.validResume(message.resume) ?? credentials.newPeerId()
    const { registry, bus } = this.options
    connection.peerId = peerId
    const { previous, fileIds } = await registry.claim(peerId, bus.instance, connection.session)
    const stale = this.connections.get(peerId)
    this.connections.set(peerId, connection)
    if (stale) stale.socket.terminate()
    else if (previous && previous.instance !== bus.instance)
      await bus.toInstance(previous.instance, { kind: 'evict', peerId, session: previous.session })
    for (const fileId of fileIds) await this.rooms.left(fileId, peerId)
    send(connection, {
      type: 'welcome',
      v: TRACKER_PROTOCOL_VERSION,
      peerId,
      resumeToken: credentials.tokenFor(peerId),
      heartbeatMs: this.options.heartbeatMs,
      iceServers: [...this.options.iceServers, ...credentials.turnServersFor(peerId)],
      ...(this.options.stunPort === undefined ? {} : { stunPort: this.options.stunPort }),
    })
  }
}
