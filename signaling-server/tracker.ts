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
import type { TrackerLimits } from './config'
import { MessageBudget } from './limits'

/** Frames a little over the cap still get a typed `too-large` reply; far larger ones close the socket. */
const WS_MAX_PAYLOAD = MAX_TRACKER_FRAME_BYTES * 4

export interface TrackerOptions {
  registry: Registry
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
  socket: WebSocket
  alive: boolean
  budget: MessageBudget
  refusals: number
  published: Set<string>
  manifestBytes: number
  /** Files it asked for that nobody shared yet. */
  awaiting: Set<string>
  /** Files whose swarm it watches (the swarm view). */
  viewing: Set<string>
}

/** Swarm view pushes for one file are coalesced over this long. */
export const SWARM_PUSH_DELAY_MS = 500
/** A member's reported upload rates count for this long. */
export const RATE_REPORT_TTL_MS = 5_000

interface ViewedSwarm {
  viewers: Set<Connection>
  timer: ReturnType<typeof setTimeout> | undefined
}

/** The tracker: WebSocket upgrade on TRACKER_PATH, one Connection per peer, state in the Registry. */
export class TrackerService {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD })
  /** Greeted connections by peer id. */
  private readonly connections = new Map<string, Connection>()
  private readonly sockets = new Map<WebSocket, Connection>()
  /** File id → connections waiting for someone to publish it. */
  private readonly awaiting = new Map<string, Set<Connection>>()
  /** File id → connections watching its swarm. */
  private readonly viewed = new Map<string, ViewedSwarm>()
  /** File id → member → upload rates it last reported, with when. */
  private readonly rates = new Map<string, Map<string, { links: { to: string; rate: number }[]; at: number }>>()
  private readonly heartbeat: ReturnType<typeof setInterval>

  constructor(private readonly options: TrackerOptions) {
    this.heartbeat = setInterval(() => this.checkLiveness(), options.heartbeatMs)
    this.heartbeat.unref()
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

  async close(): Promise<void> {
    clearInterval(this.heartbeat)
    for (const viewed of this.viewed.values()) clearTimeout(viewed.timer)
    for (const socket of this.wss.clients) socket.terminate()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
  }

  private accept(socket: WebSocket): void {
    const connection: Connection = {
      peerId: '',
      socket,
      alive: true,
      budget: new MessageBudget(this.options.limits),
      refusals: 0,
      published: new Set(),
      manifestBytes: 0,
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
    socket.on('close', () => void this.disconnect(connection))
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

  private async disconnect(connection: Connection): Promise<void> {
    this.sockets.delete(connection.socket)
    for (const fileId of connection.awaiting) this.stopAwaiting(connection, fileId)
    for (const fileId of connection.viewing) this.stopViewing(connection, fileId)
    if (!connection.peerId || this.connections.get(connection.peerId) !== connection) return
    this.connections.delete(connection.peerId)
    const fileIds = await this.options.registry.removePeer(connection.peerId)
    for (const fileId of fileIds) await this.left(fileId, connection.peerId)
  }

  private async left(fileId: string, peerId: string): Promise<void> {
    const rates = this.rates.get(fileId)
    rates?.delete(peerId)
    if (rates?.size === 0) this.rates.delete(fileId)
    this.swarmChanged(fileId)
    await this.broadcast(fileId, { type: 'peer-left', fileId, peerId })
  }

  private send(connection: Connection, message: ServerMessage): void {
    if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(JSON.stringify(message))
  }

  private refuse(connection: Connection, code: ErrorCode, message: string, id?: number): void {
    this.send(connection, { type: 'error', code, message, ...(id === undefined ? {} : { id }) })
  }

  private async broadcast(fileId: string, message: ServerMessage, except?: string): Promise<void> {
    for (const peerId of await this.options.registry.members(fileId)) {
      const member = this.connections.get(peerId)
      if (member && peerId !== except) this.send(member, message)
    }
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
    // A reconnecting peer keeps its id if it proves it; a stale connection holding that id gives way.
    let peerId = this.validResume(message.resume)
    if (peerId) {
      const stale = this.connections.get(peerId)
      if (stale) {
        stale.socket.terminate()
        await this.disconnect(stale)
      }
    }
    peerId ??= randomBytes(12).toString('base64url')
    connection.peerId = peerId
    this.connections.set(peerId, connection)
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
    const { registry } = this.options
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
        const self = await registry.publish(me, fileId, message.manifest, have)
        this.send(connection, { type: 'published', id: message.id, fileId })
        for (const waiting of this.awaiting.get(fileId) ?? []) {
          this.stopAwaiting(waiting, fileId)
          this.send(waiting, { type: 'file-available', fileId })
        }
        this.swarmChanged(fileId)
        await this.broadcast(fileId, { type: 'peer-joined', fileId, peer: self }, me)
        return
      }
      case 'unpublish':
        connection.published.delete(message.fileId)
        if (!(await registry.leave(me, message.fileId))) {
          return this.refuse(connection, 'not-in-swarm', 'you are not sharing that file')
        }
        return this.left(message.fileId, me)
      case 'locate': {
        if (!(await this.roomForSwarm(connection, message.fileId))) {
          return this.overLimit(connection, `a peer may be in at most ${this.options.limits.swarmsPerPeer} swarms`, message.id)
        }
        const found = await registry.join(me, message.fileId)
        if (!found) {
          if (connection.awaiting.size < this.options.limits.swarmsPerPeer) this.startAwaiting(connection, message.fileId)
          return this.refuse(connection, 'not-found', 'no one is sharing that file', message.id)
        }
        this.send(connection, { type: 'location', id: message.id, fileId: message.fileId, manifest: found.manifest, peers: found.peers })
        this.swarmChanged(message.fileId)
        return this.broadcast(message.fileId, { type: 'peer-joined', fileId: message.fileId, peer: found.self }, me)
      }
      case 'have':
        if (!(await registry.have(me, message.fileId, message.indexes))) {
          return this.refuse(connection, 'not-in-swarm', 'announce chunks only for a file you published or located, within its chunk count')
        }
        this.swarmChanged(message.fileId)
        return this.broadcast(message.fileId, { type: 'peer-have', fileId: message.fileId, peerId: me, indexes: message.indexes }, me)
      case 'lost':
        if (!(await registry.lost(me, message.fileId, message.indexes))) {
          return this.refuse(connection, 'not-in-swarm', 'report lost chunks only for a file you are in, within its chunk count')
        }
        this.swarmChanged(message.fileId)
        return this.broadcast(message.fileId, { type: 'peer-lost', fileId: message.fileId, peerId: me, indexes: message.indexes }, me)
      case 'list':
        this.send(connection, { type: 'files', id: message.id, files: await registry.list() })
        return
      case 'signal': {
        const target = this.connections.get(message.to)
        if (!target || message.to === me) {
          return this.refuse(connection, 'unknown-peer', 'that peer is not connected')
        }
        if (!(await registry.isMember(me, message.fileId)) || !(await registry.isMember(message.to, message.fileId))) {
          return this.refuse(connection, 'not-in-swarm', 'signal only peers in a swarm you are in')
        }
        this.send(target, { type: 'signal', from: me, fileId: message.fileId, link: message.link, data: message.data })
        return
      }
      case 'watch': {
        if (!connection.viewing.has(message.fileId) && connection.viewing.size >= this.options.limits.swarmsPerPeer) {
          return this.overLimit(connection, `a peer may watch at most ${this.options.limits.swarmsPerPeer} swarms`, message.id)
        }
        this.startViewing(connection, message.fileId)
        this.send(connection, { ...(await this.swarmState(message.fileId)), id: message.id })
        return
      }
      case 'unwatch':
        this.stopViewing(connection, message.fileId)
        return
      case 'rates': {
        if (!(await registry.isMember(me, message.fileId))) {
          return this.refuse(connection, 'not-in-swarm', 'report rates only for a file you are in')
        }
        let rates = this.rates.get(message.fileId)
        if (!rates) this.rates.set(message.fileId, (rates = new Map()))
        rates.set(me, { links: message.links, at: Date.now() })
        this.swarmChanged(message.fileId)
        return
      }
    }
  }

  /** What a swarm view shows: members with their chunks, and the links with recent rates between them. */
  private async swarmState(fileId: string): Promise<ServerMessageOf<'swarm'>> {
    const swarm = await this.options.registry.swarm(fileId)
    if (!swarm) return { type: 'swarm', fileId, name: '', chunkCount: 0, peers: [], peerCount: 0, links: [] }
    const peers = swarm.peers.slice(0, MAX_SWARM_VIEW_PEERS)
    const shown = new Set(peers.map((peer) => peer.peerId))
    const links: SwarmLink[] = []
    const now = Date.now()
    for (const [from, report] of this.rates.get(fileId) ?? []) {
      if (!shown.has(from) || now - report.at > RATE_REPORT_TTL_MS) continue
      for (const { to, rate } of report.links) if (rate > 0 && shown.has(to)) links.push({ from, to, rate })
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

  /** Schedules one push of the swarm's state to its viewers, coalescing changes in the meantime. */
  private swarmChanged(fileId: string): void {
    const viewed = this.viewed.get(fileId)
    if (!viewed || viewed.timer) return
    viewed.timer = setTimeout(() => {
      viewed.timer = undefined
      void this.swarmState(fileId).then((state) => {
        for (const viewer of viewed.viewers) this.send(viewer, state)
      })
    }, SWARM_PUSH_DELAY_MS)
  }

  private startViewing(connection: Connection, fileId: string): void {
    connection.viewing.add(fileId)
    let viewed = this.viewed.get(fileId)
    if (!viewed) this.viewed.set(fileId, (viewed = { viewers: new Set(), timer: undefined }))
    viewed.viewers.add(connection)
  }

  private stopViewing(connection: Connection, fileId: string): void {
    connection.viewing.delete(fileId)
    const viewed = this.viewed.get(fileId)
    if (!viewed) return
    viewed.viewers.delete(connection)
    if (viewed.viewers.size > 0) return
    clearTimeout(viewed.timer)
    this.viewed.delete(fileId)
  }

  private async roomForSwarm(connection: Connection, fileId: string): Promise<boolean> {
    const { registry, limits } = this.options
    if (await registry.isMember(connection.peerId, fileId)) return true
    return (await registry.swarmsOf(connection.peerId)) < limits.swarmsPerPeer
  }

  private startAwaiting(connection: Connection, fileId: string): void {
    connection.awaiting.add(fileId)
    let set = this.awaiting.get(fileId)
    if (!set) this.awaiting.set(fileId, (set = new Set()))
    set.add(connection)
  }

  private stopAwaiting(connection: Connection, fileId: string): void {
    connection.awaiting.delete(fileId)
    const set = this.awaiting.get(fileId)
    set?.delete(connection)
    if (set?.size === 0) this.awaiting.delete(fileId)
  }
}
