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
import type { JoinCodes } from './join-codes'
import { KeyedBudgets } from './limits'
import type { Bus, BusMessage } from './bus'
import type { ServiceConfig } from './config'
import { newConnection, overLimit, refuse, send, sendSignal, type Connection } from './connection'
import { Credentials } from './credentials'
import { handle, type HandlerContext } from './handlers'
import { Rooms } from './rooms'
import { NewsOutbox } from './news'
import { Upkeep } from './upkeep'
import { RelayService } from './relay'
import { RELAY_PATH } from '../src/protocol/relay-frame'
import type { FaultLog, Log } from './log'
import type { Metrics } from './metrics'

export { SWARM_PUSH_DELAY_MS } from './rooms'

/** Answers an HTTP upgrade that is not taken with a plain status, and closes the socket. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, text: string): void {
  // Destroyed once the answer is written: a client that never reads or closes cannot keep the socket.
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${text}\n`, () => socket.destroy())
}

/**
 * Pages of this service's own origin may always connect, and clients that send no Origin (the
 * command-line peer; a browser page always sends one). ALLOWED_ORIGINS adds others; `*` allows any.
 */
export function originAllowed(request: IncomingMessage, allowed: string[]): boolean {
  const origin = request.headers.origin
  if (origin === undefined || allowed.includes('*') || allowed.includes(origin)) return true
  try {
    return new URL(origin).host === request.headers.host
  } catch {
    return false
  }
}

/** The client's address: the socket's, or, from a trusted proxy, the last address it forwarded for. */
export function clientAddress(request: IncomingMessage, trustedProxies: string[]): string {
  const direct = request.socket.remoteAddress ?? ''
  if (!trustedProxies.includes(direct)) return direct
  const forwarded = String(request.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
  return forwarded.reverse().find((address) => !trustedProxies.includes(address)) ?? direct
}

/**
 * A frame just over the cap still gets a typed `too-large` reply; anything larger closes the
 * socket (1009), so no connection can make the tracker buffer more than about one frame.
 */
const WS_MAX_PAYLOAD = MAX_TRACKER_FRAME_BYTES + 1024
/**
 * A hello said while Redis is disconnected waits this long for it to reconnect before it is
 * refused: the peer is welcomed the moment Redis is back, not a client's backoff later (tabs wait
 * 10 s for a welcome). A paused Redis needs no hold: the claim waits in its socket, up to the
 * command timeout.
 */
const HELLO_HOLD_MS = 5_000

/** The tracker's settings (as the service was configured; see config.ts) and its state's backend. */
export type TrackerOptions = Pick<
  ServiceConfig,
  | 'joinCodeTtlMs'
  | 'peerTtlMs'
  | 'heartbeatMs'
  | 'iceServers'
  | 'secret'
  | 'allowedOrigins'
  | 'helloTimeoutMs'
  | 'trustedProxies'
  | 'resumeTokenTtlMs'
  | 'limits'
  | 'turn'
  | 'relay'
> & {
  /** The STUN responder's port, once it listens; told to clients, which add `stun:<tracker host>:<port>`. */
  stunPort: () => number | undefined
  log: Log
  metrics: Metrics | undefined
  /** The backend's outage (Redis): what fails meanwhile is counted there. */
  faults: Pick<FaultLog, 'drop' | 'active' | 'lastEndedAt' | 'onEnd' | 'untilEnd'>
  /** Whether Redis (if any) is connected: a hello is held only while it is not. */
  connected(): boolean
  registry: Registry
  codes: JoinCodes
  bus: Bus
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
  /** Open connections per client address. */
  private readonly perIp = new Map<string, number>()
  private readonly rooms: Rooms
  private readonly credentials: Credentials
  private readonly upkeep: Upkeep
  private readonly context: HandlerContext
  /** The last-resort relay (RELAY_PATH), unless it is off. */
  readonly relay: RelayService | undefined
  private readonly disconnecting = new Set<Promise<void>>()
  /** Connections whose hello is being answered (held while Redis is away, or registering). */
  private readonly greeting = new WeakSet<Connection>()
  /** Shutting down: no new connection, and the connected ones were asked to reconnect elsewhere. */
  private draining = false

  constructor(private readonly options: TrackerOptions) {
    const { registry, bus, limits, codes, joinCodeTtlMs } = options
    this.rooms = new Rooms(registry, bus, options.log)
    this.credentials = new Credentials(options.secret, options.resumeTokenTtlMs, options.turn)
    const requestsByAddress = new KeyedBudgets(limits.codeRequestsPerIpPerMinute)
    const { credentials } = this
    this.relay =
      options.relay && new RelayService({ limits: options.relay, registry, bus, credentials, log: options.log, metrics: options.metrics })
    const relay = this.relay
    this.context = {
      registry,
      bus,
      limits,
      rooms: this.rooms,
      connections: this.connections,
      codes,
      joinCodeTtlMs,
      requestsByAddress,
      credentials,
      relayTickets: relay && { ticket: (peerId) => credentials.relayTicket(peerId), bytesPerSecond: relay.bytesPerSecond },
    }
    this.upkeep = new Upkeep({
      wss: this.wss,
      registry,
      rooms: this.rooms,
      sockets: this.sockets,
      connections: this.connections,
      heartbeatMs: options.heartbeatMs,
      peerTtlMs: options.peerTtlMs,
      log: options.log,
      faults: options.faults,
    })
    bus.listen((message) => this.deliver(message))
  }

  get peerCount(): number {
    return this.connections.size
  }

  /**
   * Takes WebSocket upgrades on TRACKER_PATH. With `exclusive`, any other upgrade is answered 404
   * and closed (nothing else on this server takes upgrades); without, it is left to another
   * handler (Vite's dev server has its own).
   */
  attach(server: Server, { exclusive }: { exclusive: boolean }): void {
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy())
      const path = new URL(request.url ?? '/', 'http://localhost').pathname
      const relay = path === RELAY_PATH ? this.relay : undefined
      if (path !== TRACKER_PATH && !relay) {
        if (exclusive)
          refuseUpgrade(
            socket,
            404,
            'Not Found',
            `Nothing here takes WebSocket connections but ${TRACKER_PATH}${this.relay ? ` and ${RELAY_PATH}` : ''}.`,
          )
        return
      }
      const refused = (reason: string, status: number, text: string, words: string) => {
        this.options.metrics?.refusals.inc({ reason })
        refuseUpgrade(socket, status, text, words)
      }
      if (this.draining) return refused('draining', 503, 'Service Unavailable', 'This tracker instance is shutting down; connect again.')
      if (!originAllowed(request, this.options.allowedOrigins)) {
        return refused('origin', 403, 'Forbidden', 'This origin may not use this tracker.')
      }
      if (relay) return relay.upgrade(request, socket, head, (status, reason, text) => refuseUpgrade(socket, status, reason, text))
      const ip = clientAddress(request, this.options.trustedProxies)
      const { limits } = this.options
      if (this.sockets.size >= limits.connections) {
        return refused('connections', 503, 'Service Unavailable', 'The tracker is full; try again later.')
      }
      if ((this.perIp.get(ip) ?? 0) >= limits.connectionsPerIp) {
        return refused('connections-per-ip', 429, 'Too Many Requests', 'Too many connections from this address.')
      }
      this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, ip))
    })
  }

  /** Open tracker connections on this instance (greeted or not). */
  get connectionCount(): number {
    return this.sockets.size
  }

  get isDraining(): boolean {
    return this.draining
  }

  /**
   * Shutting down: no new connection is taken, and every connected client is told to reconnect
   * (to another instance, behind a load balancer) after a delay of its own within `spreadMs`, so
   * they do not all arrive at once. Resolves once they have all gone, or `graceMs` passed.
   */
  async drain(graceMs: number, spreadMs: number): Promise<void> {
    this.draining = true
    for (const connection of this.sockets.values()) send(connection, { type: 'reconnect', afterMs: Math.floor(Math.random() * spreadMs) })
    const deadline = Date.now() + graceMs
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  }

  /** Closes every connection; their peers leave their swarms (on every instance) before this resolves. */
  async close(): Promise<void> {
    await this.relay?.close()
    this.upkeep.stop()
    this.rooms.close()
    for (const socket of this.wss.clients) socket.terminate()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
    while (this.disconnecting.size > 0) await Promise.allSettled([...this.disconnecting])
  }

  private accept(socket: WebSocket, ip: string): void {
    const { log, metrics } = this.options
    const connection = newConnection(socket, ip, this.options.limits, { log, metrics })
    this.sockets.set(socket, connection)
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1)
    // A connection that never says hello is closed: it holds a socket and memory for nothing.
    const helloDeadline = setTimeout(() => {
      if (!connection.peerId) socket.close(1008, 'say hello first')
    }, this.options.helloTimeoutMs)
    socket.on('pong', () => (connection.alive = true))
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (!connection.budget.spend()) {
        return overLimit(connection, this.options.limits.refusalsBeforeDisconnect, 'too many messages: slow down')
      }
      const frame = isBinary ? data : data.toString()
      // One message at a time per connection, in order: a reply never overtakes the one before,
      // and a cap is checked and recorded without another message of the same peer in between.
      connection.queue = connection.queue
        .then(() => (connection.closed ? undefined : this.receive(connection, frame)))
        .catch((error: unknown) => {
          if (!this.options.faults.drop((error as Error).message)) {
            log.error({ event: 'message.failed', reason: (error as Error).message }, 'a message could not be handled')
          }
          send(connection, { type: 'error', code: 'internal', message: 'the tracker failed to handle this message' })
        })
    })
    socket.on('error', () => socket.terminate())
    socket.on('close', () => {
      clearTimeout(helloDeadline)
      connection.closed = true
      const count = (this.perIp.get(ip) ?? 1) - 1
      if (count > 0) this.perIp.set(ip, count)
      else this.perIp.delete(ip)
      // What was under way finishes first, so the peer's state is removed after it, not before.
      const done = connection.queue
        .then(() => this.disconnect(connection))
        .catch((error: unknown) =>
          log.error({ event: 'peer.remove-failed', reason: (error as Error).message }, 'a peer could not be removed'),
        )
        .finally(() => this.disconnecting.delete(done))
      this.disconnecting.add(done)
    })
  }

  private async disconnect(connection: Connection): Promise<void> {
    this.sockets.delete(connection.socket)
    this.rooms.exitAll(connection)
    connection.news?.drop()
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
        if (target) sendSignal(target, message.push)
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
    this.options.metrics?.messagesIn.inc({ type: message.type })
    if (message.type === 'hello') return this.hello(connection, message)
    const id = 'id' in message ? message.id : undefined
    if (!connection.peerId) return refuse(connection, 'malformed', 'send hello first', id)
    try {
      await handle(this.context, connection, message)
    } catch (error) {
      // A request fails with an answer (its id), so the client need not wait out its timeout.
      if (!this.options.faults.drop((error as Error).message)) {
        this.options.log.warn(
          { event: 'message.failed', type: message.type, reason: (error as Error).message },
          'a message could not be handled',
        )
      }
      refuse(connection, 'internal', 'the tracker failed to handle this message; try again', id)
    }
  }

  private async hello(connection: Connection, message: ClientMessageOf<'hello'>): Promise<void> {
    if (connection.peerId || this.greeting.has(connection))
      return refuse(connection, 'malformed', 'hello was already said on this connection')
    if (message.v !== TRACKER_PROTOCOL_VERSION) {
      return refuse(connection, 'unsupported-version', `this tracker speaks protocol version ${TRACKER_PROTOCOL_VERSION}; reload the page`)
    }
    this.greeting.add(connection)
    try {
      if (!this.options.connected()) await this.options.faults.untilEnd(HELLO_HOLD_MS)
      if (connection.socket.readyState === connection.socket.OPEN) await this.greet(connection, message)
    } finally {
      this.greeting.delete(connection)
    }
  }

  private async greet(connection: Connection, message: ClientMessageOf<'hello'>): Promise<void> {
    // A reconnecting peer keeps its id if it proves it; the connection holding that id before
    // (here or on another instance) gives way, and its swarms hear that it left.
    const { credentials } = this
    const resumed = credentials.validResume(message.resume)
    // A live connection keeps its id: a second one presenting its token gets a new id instead.
    const live = resumed === undefined ? undefined : this.connections.get(resumed)
    const holder = live && live.socket.readyState === live.socket.OPEN && live.alive ? live : undefined
    const peerId = resumed !== undefined && !holder ? resumed : credentials.newPeerId()
    const { registry, bus } = this.options
    let claimed: Awaited<ReturnType<Registry['claim']>>
    try {
      claimed = await registry.claim(peerId, bus.instance, connection.session)
    } catch (error) {
      // The claim may still run where Redis was only slow (paused, its socket holding our command):
      // the release queued behind it undoes it, so no ghost of this connection is left.
      registry.release(peerId, bus.instance, connection.session).catch(() => undefined)
      // Not greeted: the connection closes, so the client tries again (with its backoff) rather than wait for a welcome.
      if (!this.options.faults.drop((error as Error).message)) {
        this.options.log.warn({ event: 'hello.failed', reason: (error as Error).message }, 'a peer could not be registered')
      }
      refuse(connection, 'internal', 'the tracker cannot register peers right now; try again')
      connection.socket.close(1011, 'cannot register peers now')
      return
    }
    const { previous, fileIds } = claimed
    connection.peerId = peerId
    if (message.news) connection.news = new NewsOutbox((news) => send(connection, news))
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
      resumeToken: credentials.issue(peerId),
      heartbeatMs: this.options.heartbeatMs,
      iceServers: [...this.options.iceServers, ...credentials.turnServersFor(peerId)],
      ...(this.options.stunPort() === undefined ? {} : { stunPort: this.options.stunPort() }),
    })
  }
}
