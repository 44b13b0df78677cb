import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { fileIdOf } from '../src/protocol/manifest'
import { Bitfield } from '../src/protocol/bitfield'
import { fromBase64 } from '../src/protocol/encoding'
import {
  decodeClientMessage,
  MAX_TRACKER_FRAME_BYTES,
  TRACKER_PATH,
  TRACKER_PROTOCOL_VERSION,
  type ClientMessage,
  type ClientMessageOf,
  type ErrorCode,
  type ServerMessage,
  type ServerMessageOf,
  type SwarmLink,
  MAX_SWARM_VIEW_PEERS,
} from '../src/protocol/tracker'
import type { Registry } from './registry'
import type { Bus, BusMessage } from './bus'
import type { TrackerLimits } from './config'
import { MessageBudget } from './limits'

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

interface Connection {
  /** Empty until hello. */
  peerId: string
  /** This connection's claim on the peer id; a reconnect elsewhere makes a new one. */
  session: string
  socket: WebSocket
  alive: boolean
  budget: MessageBudget
  refusals: number
  published: Set<string>
  manifestBytes: number
  /** Files whose swarm it is in. */
  member: Set<string>
  /** Files it asked for that nobody shared yet. */
  awaiting: Set<string>
  /** Files whose swarm it watches (the swarm view). */
  viewing: Set<string>
}

type Relation = 'member' | 'awaiting' | 'viewing'

/** This instance's connections that have one relation to each file. */
class Rooms {
  private readonly byFile = new Map<string, Set<Connection>>()

  constructor(readonly relation: Relation) {}

  add(connection: Connection, fileId: string): void {
    connection[this.relation].add(fileId)
    let room = this.byFile.get(fileId)
    if (!room) this.byFile.set(fileId, (room = new Set()))
    room.add(connection)
  }

  delete(connection: Connection, fileId: string): void {
    connection[this.relation].delete(fileId)
    const room = this.byFile.get(fileId)
    room?.delete(connection)
    if (room?.size === 0) this.byFile.delete(fileId)
  }

  in(fileId: string): Connection[] {
    return [...(this.byFile.get(fileId) ?? [])]
  }

  has(fileId: string): boolean {
    return this.byFile.has(fileId)
  }
}

/** Swarm view pushes for one file are coalesced over this long. */
export const SWARM_PUSH_DELAY_MS = 500
/** Lapsed peers taken per script call, so one call stays short; a sweep repeats until none are left. */
const EXPIRE_BATCH = 500

/**
 * The tracker: WebSocket upgrade on TRACKER_PATH, one Connection per peer, state in the Registry.
 * Everything a peer hears about a swarm goes through the Bus, so instances sharing a registry act as one.
 */
export class TrackerService {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD })
  /** Greeted connections by peer id. */
  private readonly connections = new Map<string, Connection>()
  private readonly sockets = new Map<WebSocket, Connection>()
  private readonly members = new Rooms('member')
  /** Waiting for someone to publish the file. */
  private readonly awaiting = new Rooms('awaiting')
  /** Watching the file's swarm. */
  private readonly viewers = new Rooms('viewing')
  /** Swarm views with a push scheduled. */
  private readonly pushTimers = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly disconnecting = new Set<Promise<void>>()
  private readonly heartbeat: ReturnType<typeof setInterval>
  private readonly upkeep: ReturnType<typeof setInterval>
  private upkeepRunning = false

  constructor(private readonly options: TrackerOptions) {
    this.heartbeat = setInterval(() => this.checkLiveness(), options.heartbeatMs)
    this.heartbeat.unref()
    // Four refreshes per TTL: a registration lapses only after several missed ones.
    this.upkeep = setInterval(() => void this.keepRegistrations(), options.peerTtlMs / 4)
    this.upkeep.unref()
    options.bus.listen((message) => this.deliver(message))
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
    clearInterval(this.heartbeat)
    clearInterval(this.upkeep)
    for (const timer of this.pushTimers.values()) clearTimeout(timer)
    for (const socket of this.wss.clients) socket.terminate()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
    while (this.disconnecting.size > 0) await Promise.allSettled([...this.disconnecting])
  }

  private accept(socket: WebSocket): void {
    const connection: Connection = {
      peerId: '',
      session: randomBytes(9).toString('base64url'),
      socket,
      alive: true,
      budget: new MessageBudget(this.options.limits),
      refusals: 0,
      published: new Set(),
      manifestBytes: 0,
      member: new Set(),
      awaiting: new Set(),
      viewing: new Set(),
    }
    this.sockets.set(socket, connection)
    socket.on('pong', () => (connection.alive = true))
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (!connection.budget.spend()) return this.overLimit(connection, 'too many messages: slow down')
      const frame = isBinary ? data : data.toString()
      void this.receive(connection, frame).catch((error: unknown) => {
        console.error('tracker: failed to handle a message', error)
        this.send(connection, { type: 'error', code: 'internal', message: 'the tracker failed to handle this message' })
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

  /** Tells the client it is over a limit; one that keeps going is disconnected. */
  private overLimit(connection: Connection, message: string, id?: number): void {
    connection.refusals++
    if (connection.refusals > this.options.limits.refusalsBeforeDisconnect) {
      connection.socket.close(1008, 'over the tracker limits')
      return
    }
    this.refuse(connection, 'rate-limited', message, id)
  }

  private tokenFor(peerId: string): string {
    return createHmac('sha256', this.options.secret).update(peerId).digest('base64url')
  }

  /**
   * TURN REST API credentials (what coturn's --use-auth-secret checks): the username is
   * `<expiry unix time>:<peer id>`, the password the base64 HMAC-SHA1 of it under the shared secret.
   */
  private turnServersFor(peerId: string): { urls: string[]; username: string; credential: string }[] {
    const turn = this.options.turn
    if (!turn) return []
    const username = `${Math.floor(Date.now() / 1000) + turn.ttlSeconds}:${peerId}`
    return [{ urls: turn.urls, username, credential: createHmac('sha1', turn.secret).update(username).digest('base64') }]
  }

  private validResume(resume: { peerId: string; token: string } | undefined): string | undefined {
    if (!resume) return undefined
    const expected = Buffer.from(this.tokenFor(resume.peerId))
    const given = Buffer.from(resume.token)
    return expected.length === given.length && timingSafeEqual(expected, given) ? resume.peerId : undefined
  }

  private checkLiveness(): void {
    for (const socket of this.wss.clients) {
      const connection = this.sockets.get(socket)
      if (connection && !connection.alive) {
        socket.terminate()
        continue
      }
      if (connection) connection.alive = false
      socket.ping()
    }
  }

  /** Refreshes this instance's peers in the registry and forgets peers whose instance stopped doing so. */
  private async keepRegistrations(): Promise<void> {
    if (this.upkeepRunning) return
    this.upkeepRunning = true
    const { registry } = this.options
    try {
      // A peer whose registration lapsed (this instance stalled) reconnects and announces itself again.
      for (const peerId of await registry.refresh([...this.connections.keys()])) this.connections.get(peerId)?.socket.terminate()
      for (;;) {
        const expired = await registry.expire(EXPIRE_BATCH)
        for (const { peerId, fileIds } of expired) {
          for (const fileId of fileIds) await this.left(fileId, peerId)
        }
        if (expired.length < EXPIRE_BATCH) break
      }
    } catch (error) {
      console.error('tracker: failed to refresh peer registrations', error)
    } finally {
      this.upkeepRunning = false
    }
  }

  private async disconnect(connection: Connection): Promise<void> {
    this.sockets.delete(connection.socket)
    for (const rooms of [this.members, this.awaiting, this.viewers]) {
      for (const fileId of connection[rooms.relation]) this.exit(rooms, connection, fileId)
    }
    if (!connection.peerId || this.connections.get(connection.peerId) !== connection) return
    this.connections.delete(connection.peerId)
    const { registry, bus } = this.options
    const fileIds = await registry.release(connection.peerId, bus.instance, connection.session)
    for (const fileId of fileIds ?? []) await this.left(fileId, connection.peerId)
  }

  private left(fileId: string, peerId: string): Promise<void> {
    return this.toSwarm(fileId, { type: 'peer-left', fileId, peerId })
  }

  /** A push for every member of the file's swarm, on every instance, but `except`. */
  private toSwarm(fileId: string, push: ServerMessage, except?: string): Promise<void> {
    return this.options.bus.toFile({ kind: 'file', fileId, push, ...(except === undefined ? {} : { except }) })
  }

  /** Joins a room; the bus delivers the file's messages here before this resolves. */
  private async enter(rooms: Rooms, connection: Connection, fileId: string): Promise<void> {
    rooms.add(connection, fileId)
    await this.options.bus.follow(fileId)
  }

  private exit(rooms: Rooms, connection: Connection, fileId: string): void {
    rooms.delete(connection, fileId)
    if (this.members.has(fileId) || this.awaiting.has(fileId) || this.viewers.has(fileId)) return
    this.options.bus.unfollow(fileId)
    clearTimeout(this.pushTimers.get(fileId))
    this.pushTimers.delete(fileId)
  }

  /** A message from the bus (another instance, or this one) for this instance's connections. */
  private deliver(message: BusMessage): void {
    switch (message.kind) {
      case 'file': {
        const { fileId, push, except } = message
        if (push) for (const member of this.members.in(fileId)) if (member.peerId !== except) this.send(member, push)
        if (message.available) {
          for (const waiting of this.awaiting.in(fileId)) {
            this.exit(this.awaiting, waiting, fileId)
            this.send(waiting, { type: 'file-available', fileId })
          }
        }
        this.swarmChanged(fileId)
        return
      }
      case 'peer': {
        const target = this.connections.get(message.peerId)
        if (target) this.send(target, message.push)
        return
      }
      case 'evict': {
        const stale = this.connections.get(message.peerId)
        if (stale?.session === message.session) stale.socket.terminate()
        return
      }
    }
  }

  private send(connection: Connection, message: ServerMessage): void {
    if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(JSON.stringify(message))
  }

  private refuse(connection: Connection, code: ErrorCode, message: string, id?: number): void {
    this.send(connection, { type: 'error', code, message, ...(id === undefined ? {} : { id }) })
  }

  private async receive(connection: Connection, frame: unknown): Promise<void> {
    const decoded = decodeClientMessage(frame)
    if (!decoded.ok) return this.refuse(connection, decoded.code, decoded.message, decoded.id)
    const message = decoded.message
    if (message.type === 'hello') return this.hello(connection, message)
    if (!connection.peerId) return this.refuse(connection, 'malformed', 'send hello first', 'id' in message ? message.id : undefined)
    await this.handle(connection, message)
  }

  private async hello(connection: Connection, message: ClientMessageOf<'hello'>): Promise<void> {
    if (connection.peerId) return this.refuse(connection, 'malformed', 'hello was already said on this connection')
    if (message.v !== TRACKER_PROTOCOL_VERSION) {
      return this.refuse(
        connection,
        'unsupported-version',
        `this tracker speaks protocol version ${TRACKER_PROTOCOL_VERSION}; reload the page`,
      )
    }
    // A reconnecting peer keeps its id if it proves it; the connection holding that id before
    // (here or on another instance) gives way, and its swarms hear that it left.
    const peerId = this.validResume(message.resume) ?? randomBytes(12).toString('base64url')
    const { registry, bus } = this.options
    connection.peerId = peerId
    const { previous, fileIds } = await registry.claim(peerId, bus.instance, connection.session)
    const stale = this.connections.get(peerId)
    this.connections.set(peerId, connection)
    if (stale) stale.socket.terminate()
    else if (previous && previous.instance !== bus.instance)
      await bus.toInstance(previous.instance, { kind: 'evict', peerId, session: previous.session })
    for (const fileId of fileIds) await this.left(fileId, peerId)
    this.send(connection, {
      type: 'welcome',
      v: TRACKER_PROTOCOL_VERSION,
      peerId,
      resumeToken: this.tokenFor(peerId),
      heartbeatMs: this.options.heartbeatMs,
      iceServers: [...this.options.iceServers, ...this.turnServersFor(peerId)],
      ...(this.options.stunPort === undefined ? {} : { stunPort: this.options.stunPort }),
    })
  }

  private async handle(connection: Connection, message: Exclude<ClientMessage, { type: 'hello' }>): Promise<void> {
    const { registry, bus } = this.options
    const me = connection.peerId
    switch (message.type) {
      case 'publish': {
        const fileId = await fileIdOf(message.manifest)
        const { limits } = this.options
        const bytes = JSON.stringify(message.manifest).length
        if (!connection.published.has(fileId)) {
          if (connection.published.size >= limits.filesPerPeer) {
            return this.overLimit(connection, `a peer may publish at most ${limits.filesPerPeer} files`, message.id)
          }
          if (connection.manifestBytes + bytes > limits.manifestBytesPerPeer) {
            return this.overLimit(connection, `a peer may publish at most ${limits.manifestBytesPerPeer} bytes of manifests`, message.id)
          }
          if (!(await this.roomForSwarm(connection, fileId))) {
            return this.overLimit(connection, `a peer may be in at most ${limits.swarmsPerPeer} swarms`, message.id)
          }
          connection.published.add(fileId)
          connection.manifestBytes += bytes
        }
        let have: Bitfield | undefined
        if (message.have !== undefined) {
          const bytes = fromBase64(message.have)
          const count = message.manifest.hashes.length
          if (bytes.length !== Bitfield.byteLength(count)) {
            return this.refuse(
              connection,
              'malformed',
              `have: a bitfield of ${count} chunks is ${Bitfield.byteLength(count)} bytes`,
              message.id,
            )
          }
          have = new Bitfield(count, bytes)
        }
        // In the room before the registry changes, so no push about the swarm is missed.
        await this.enter(this.members, connection, fileId)
        const self = await registry.publish(me, fileId, message.manifest, have)
        this.send(connection, { type: 'published', id: message.id, fileId })
        await bus.toFile({ kind: 'file', fileId, push: { type: 'peer-joined', fileId, peer: self }, except: me, available: true })
        return
      }
      case 'unpublish':
        connection.published.delete(message.fileId)
        this.exit(this.members, connection, message.fileId)
        if (!(await registry.leave(me, message.fileId))) {
          return this.refuse(connection, 'not-in-swarm', 'you are not sharing that file')
        }
        return this.left(message.fileId, me)
      case 'locate': {
        const { fileId } = message
        if (!(await this.roomForSwarm(connection, fileId))) {
          return this.overLimit(connection, `a peer may be in at most ${this.options.limits.swarmsPerPeer} swarms`, message.id)
        }
        await this.enter(this.members, connection, fileId)
        const found = await registry.join(me, fileId)
        if (!found) return this.notFound(connection, fileId, message.id)
        this.send(connection, { type: 'location', id: message.id, fileId, manifest: found.manifest, peers: found.peers })
        return this.toSwarm(fileId, { type: 'peer-joined', fileId, peer: found.self }, me)
      }
      case 'have':
        if (!(await registry.have(me, message.fileId, message.indexes))) {
          return this.refuse(connection, 'not-in-swarm', 'announce chunks only for a file you published or located, within its chunk count')
        }
        return this.toSwarm(message.fileId, { type: 'peer-have', fileId: message.fileId, peerId: me, indexes: message.indexes }, me)
      case 'lost':
        if (!(await registry.lost(me, message.fileId, message.indexes))) {
          return this.refuse(connection, 'not-in-swarm', 'report lost chunks only for a file you are in, within its chunk count')
        }
        return this.toSwarm(message.fileId, { type: 'peer-lost', fileId: message.fileId, peerId: me, indexes: message.indexes }, me)
      case 'list':
        this.send(connection, { type: 'files', id: message.id, files: await registry.list() })
        return
      case 'signal': {
        if (message.to === me) return this.refuse(connection, 'unknown-peer', 'that peer is not connected')
        const route = await registry.signalRoute(me, message.to, message.fileId)
        if ('refused' in route) {
          return route.refused === 'unknown-peer'
            ? this.refuse(connection, 'unknown-peer', 'that peer is not connected')
            : this.refuse(connection, 'not-in-swarm', 'signal only peers in a swarm you are in')
        }
        const push: ServerMessage = { type: 'signal', from: me, fileId: message.fileId, link: message.link, data: message.data }
        const local = route.instance === bus.instance ? this.connections.get(message.to) : undefined
        if (local) return this.send(local, push)
        return bus.toInstance(route.instance, { kind: 'peer', peerId: message.to, push })
      }
      case 'watch': {
        if (!connection.viewing.has(message.fileId) && connection.viewing.size >= this.options.limits.swarmsPerPeer) {
          return this.overLimit(connection, `a peer may watch at most ${this.options.limits.swarmsPerPeer} swarms`, message.id)
        }
        await this.enter(this.viewers, connection, message.fileId)
        this.send(connection, { ...(await this.swarmState(message.fileId)), id: message.id })
        return
      }
      case 'unwatch':
        this.exit(this.viewers, connection, message.fileId)
        return
      case 'rates':
        if (!(await registry.reportRates(me, message.fileId, message.links))) {
          return this.refuse(connection, 'not-in-swarm', 'report rates only for a file you are in')
        }
        return bus.toFile({ kind: 'file', fileId: message.fileId })
    }
  }

  /**
   * Nobody shares the file: the peer waits for it. If someone published it meanwhile (through
   * another instance, before this one followed the file), it is told at once after the refusal.
   */
  private async notFound(connection: Connection, fileId: string, id: number): Promise<void> {
    if (connection.awaiting.size < this.options.limits.swarmsPerPeer) await this.enter(this.awaiting, connection, fileId)
    this.exit(this.members, connection, fileId)
    this.refuse(connection, 'not-found', 'no one is sharing that file', id)
    if (connection.awaiting.has(fileId) && (await this.options.registry.swarm(fileId))) {
      this.exit(this.awaiting, connection, fileId)
      this.send(connection, { type: 'file-available', fileId })
    }
  }

  /** What a swarm view shows: members with their chunks, and the links with recent rates between them. */
  private async swarmState(fileId: string): Promise<ServerMessageOf<'swarm'>> {
    const swarm = await this.options.registry.swarm(fileId)
    if (!swarm) return { type: 'swarm', fileId, name: '', chunkCount: 0, peers: [], peerCount: 0, links: [] }
    const peers = swarm.peers.slice(0, MAX_SWARM_VIEW_PEERS)
    const shown = new Set(peers.map((peer) => peer.peerId))
    const links: SwarmLink[] = []
    for (const { from, links: reported } of await this.options.registry.rates(fileId)) {
      if (!shown.has(from)) continue
      for (const { to, rate } of reported) if (rate > 0 && shown.has(to)) links.push({ from, to, rate })
    }
    return {
      type: 'swarm',
      fileId,
      name: swarm.manifest.name,
      chunkCount: swarm.manifest.hashes.length,
      peers,
      peerCount: swarm.peers.length,
      links,
    }
  }

  /** Schedules one push of the swarm's state to this instance's viewers, coalescing changes in the meantime. */
  private swarmChanged(fileId: string): void {
    if (!this.viewers.has(fileId) || this.pushTimers.has(fileId)) return
    const timer = setTimeout(() => {
      this.pushTimers.delete(fileId)
      void this.swarmState(fileId)
        .then((state) => {
          for (const viewer of this.viewers.in(fileId)) this.send(viewer, state)
        })
        .catch((error: unknown) => console.error('tracker: failed to read a swarm for its viewers', error))
    }, SWARM_PUSH_DELAY_MS)
    this.pushTimers.set(fileId, timer)
  }

  private roomForSwarm(connection: Connection, fileId: string): Promise<boolean> {
    return this.options.registry.roomFor(connection.peerId, fileId, this.options.limits.swarmsPerPeer)
  }
}
