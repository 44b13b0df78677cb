import { fileIdOf } from '../src/protocol/manifest'
import { decodeBitfield, type Bitfield } from '../src/protocol/bitfield'
import {
  MAX_LIST_PAGE_FILES,
  MAX_LOCATION_PEERS,
  MAX_WANTED_FILES,
  byNeed,
  type ClientMessage,
  type ClientMessageOf,
  type ServerMessage,
  type ServerMessageOf,
} from '../src/protocol/tracker'
import type { Bus } from './bus'
import { endCode, lookupCode, present, type CodeContext } from './code-handlers'
import type { TrackerLimits } from './config'
import { overLimit, refuse, send, sendSignal, type Connection } from './connection'
import { fitting, shuffled } from './frames'
import type { Registry } from './registry'
import type { Rooms } from './rooms'

/** What the handlers work with: the shared state, this instance's rooms and its greeted connections. */
export interface HandlerContext extends CodeContext {
  registry: Registry
  bus: Bus
  limits: TrackerLimits
  rooms: Rooms
  /** Greeted connections on this instance by peer id. */
  connections: ReadonlyMap<string, Connection>
  /** Tickets for the relay socket; undefined when the relay is off. */
  relayTickets: { ticket(peerId: string): string; bytesPerSecond: number } | undefined
}

type Request = Exclude<ClientMessage, { type: 'hello' }>

/** Handles one message of a greeted connection. */
export async function handle(context: HandlerContext, connection: Connection, message: Request): Promise<void> {
  switch (message.type) {
    case 'publish':
      return publish(context, connection, message)
    case 'unpublish':
      return unpublish(context, connection, message)
    case 'locate':
      return locate(context, connection, message)
    case 'have':
    case 'lost':
      return chunkNews(context, connection, message)
    case 'list':
      return send(connection, await listPage(context.registry, message))
    case 'signal':
      return signal(context, connection, message)
    case 'relay-ticket': {
      const relay = context.relayTickets
      if (!relay) return refuse(connection, 'unavailable', 'this service does not relay links', message.id)
      return send(connection, {
        type: 'relay-ticket',
        id: message.id,
        ticket: relay.ticket(connection.peerId),
        bytesPerSecond: relay.bytesPerSecond,
      })
    }
    case 'watch':
      return watch(context, connection, message)
    case 'unwatch':
      return context.rooms.exit(context.rooms.viewers, connection, message.fileId)
    case 'rates':
      if (!(await context.registry.reportRates(connection.peerId, message.fileId, message.links))) {
        return refuse(connection, 'not-in-swarm', 'report rates only for a file you are in')
      }
      return context.bus.toFile({ kind: 'file', fileId: message.fileId })
    case 'present':
      return present(context, connection, message)
    case 'lookup-code':
      return lookupCode(context, connection, message)
    case 'end-code':
      return endCode(context, connection, message)
    case 'wanted':
      return send(connection, await wantedPage(context.registry, message))
  }
}

function tooMany(context: HandlerContext, connection: Connection, message: string, id?: number): void {
  overLimit(connection, context.limits.refusalsBeforeDisconnect, message, id)
}

function roomForSwarm(context: HandlerContext, connection: Connection, fileId: string): Promise<boolean> {
  return context.registry.roomFor(connection.peerId, fileId, context.limits.swarmsPerPeer)
}

async function publish(context: HandlerContext, connection: Connection, message: ClientMessageOf<'publish'>): Promise<void> {
  const { registry, bus, limits, rooms } = context
  const me = connection.peerId
  const fileId = await fileIdOf(message.manifest)
  const bytes = JSON.stringify(message.manifest).length
  if (!connection.published.has(fileId)) {
    if (connection.published.size >= limits.filesPerPeer) {
      return tooMany(context, connection, `a peer may publish at most ${limits.filesPerPeer} files`, message.id)
    }
    if (connection.manifestBytes + bytes > limits.manifestBytesPerPeer) {
      return tooMany(context, connection, `a peer may publish at most ${limits.manifestBytesPerPeer} bytes of manifests`, message.id)
    }
    if (!(await roomForSwarm(context, connection, fileId))) {
      return tooMany(context, connection, `a peer may be in at most ${limits.swarmsPerPeer} swarms`, message.id)
    }
    connection.published.add(fileId)
    connection.manifestBytes += bytes
  }
  let have: Bitfield | undefined
  if (message.have !== undefined) {
    const decoded = decodeBitfield(message.have, message.manifest.hashes.length)
    if (!decoded.ok) return refuse(connection, 'malformed', `have: ${decoded.message}`, message.id)
    have = decoded.bitfield
  }
  // In the room before the registry changes, so no push about the swarm is missed.
  await rooms.enter(rooms.members, connection, fileId)
  const self = await registry.publish(me, fileId, message.manifest, have, message.keepers === true)
  send(connection, { type: 'published', id: message.id, fileId })
  await bus.toFile({ kind: 'file', fileId, push: { type: 'peer-joined', fileId, peer: self }, except: me, available: true })
}

async function unpublish(context: HandlerContext, connection: Connection, message: ClientMessageOf<'unpublish'>): Promise<void> {
  const { rooms } = context
  connection.published.delete(message.fileId)
  rooms.exit(rooms.members, connection, message.fileId)
  if (!(await context.registry.leave(connection.peerId, message.fileId))) {
    return refuse(connection, 'not-in-swarm', 'you are not sharing that file')
  }
  return rooms.left(message.fileId, connection.peerId)
}

async function locate(context: HandlerContext, connection: Connection, message: ClientMessageOf<'locate'>): Promise<void> {
  const { rooms } = context
  const { fileId } = message
  const me = connection.peerId
  if (!(await roomForSwarm(context, connection, fileId))) {
    return tooMany(context, connection, `a peer may be in at most ${context.limits.swarmsPerPeer} swarms`, message.id)
  }
  await rooms.enter(rooms.members, connection, fileId)
  const found = await context.registry.join(me, fileId)
  if (!found) return notFound(context, connection, fileId, message.id)
  // A big swarm is sampled: the first peers that fit, in a random order; the rest are learnt from pushes.
  const location: ServerMessageOf<'location'> = { type: 'location', id: message.id, fileId, manifest: found.manifest, peers: [] }
  send(connection, { ...location, peers: fitting(location, shuffled(found.peers), MAX_LOCATION_PEERS) })
  return rooms.toSwarm(fileId, { type: 'peer-joined', fileId, peer: found.self }, me)
}

/**
 * Nobody shares the file: the peer waits for it. The refusal goes first, so a `file-available`
 * never reaches the peer before it; if someone published the file meanwhile (here, or through
 * another instance before this one followed the file), the peer is told at once after it.
 */
async function notFound(context: HandlerContext, connection: Connection, fileId: string, id: number): Promise<void> {
  const { rooms } = context
  rooms.exit(rooms.members, connection, fileId)
  refuse(connection, 'not-found', 'no one is sharing that file', id)
  if (connection.awaiting.size < context.limits.swarmsPerPeer) await rooms.enter(rooms.awaiting, connection, fileId)
  if (connection.awaiting.has(fileId) && (await context.registry.swarm(fileId))) {
    rooms.exit(rooms.awaiting, connection, fileId)
    send(connection, { type: 'file-available', fileId })
  }
}

/** One page of the files shared on the tracker, the most shared first, within the frame cap. */
async function listPage(registry: Registry, message: ClientMessageOf<'list'>): Promise<ServerMessageOf<'files'>> {
  const all = (await registry.list()).sort((a, b) => b.peers - a.peers || (a.fileId < b.fileId ? -1 : 1))
  const cursor = message.cursor ?? 0
  const base: ServerMessageOf<'files'> = { type: 'files', id: message.id, files: [], total: all.length, next: all.length }
  const files = fitting(base, all.slice(cursor), MAX_LIST_PAGE_FILES)
  const next = cursor + files.length
  return { type: 'files', id: message.id, files, total: all.length, ...(next < all.length ? { next } : {}) }
}

/** The files that most need a keeper, within the frame cap. */
async function wantedPage(registry: Registry, message: ClientMessageOf<'wanted'>): Promise<ServerMessageOf<'wanted'>> {
  const ranked = (await registry.wanted()).sort(byNeed)
  const base: ServerMessageOf<'wanted'> = { type: 'wanted', id: message.id, files: [] }
  return { ...base, files: fitting(base, ranked, MAX_WANTED_FILES) }
}

async function chunkNews(context: HandlerContext, connection: Connection, message: ClientMessageOf<'have' | 'lost'>): Promise<void> {
  const { registry, rooms } = context
  const me = connection.peerId
  const { fileId, indexes } = message
  if (message.type === 'have') {
    if (!(await registry.have(me, fileId, indexes))) {
      return refuse(connection, 'not-in-swarm', 'announce chunks only for a file you published or located, within its chunk count')
    }
    return rooms.toSwarm(fileId, { type: 'peer-have', fileId, peerId: me, indexes }, me)
  }
  if (!(await registry.lost(me, fileId, indexes))) {
    return refuse(connection, 'not-in-swarm', 'report lost chunks only for a file you are in, within its chunk count')
  }
  return rooms.toSwarm(fileId, { type: 'peer-lost', fileId, peerId: me, indexes }, me)
}

async function signal(context: HandlerContext, connection: Connection, message: ClientMessageOf<'signal'>): Promise<void> {
  const { registry, bus } = context
  const me = connection.peerId
  if (message.to === me) return refuse(connection, 'unknown-peer', 'that peer is not connected')
  const route = await registry.signalRoute(me, message.to, message.fileId)
  if ('refused' in route) {
    return route.refused === 'unknown-peer'
      ? refuse(connection, 'unknown-peer', 'that peer is not connected')
      : refuse(connection, 'not-in-swarm', 'signal only peers in a swarm you are in')
  }
  const push: ServerMessageOf<'signal'> = { type: 'signal', from: me, fileId: message.fileId, link: message.link, data: message.data }
  const local = route.instance === bus.instance ? context.connections.get(message.to) : undefined
  if (!local) return bus.toInstance(route.instance, { kind: 'peer', peerId: message.to, push })
  if (!sendSignal(local, push)) refuse(connection, 'rate-limited', 'that peer is receiving too many signals; try again later')
}

async function watch(context: HandlerContext, connection: Connection, message: ClientMessageOf<'watch'>): Promise<void> {
  const { rooms, limits } = context
  if (!connection.viewing.has(message.fileId) && connection.viewing.size >= limits.swarmsPerPeer) {
    return tooMany(context, connection, `a peer may watch at most ${limits.swarmsPerPeer} swarms`, message.id)
  }
  await rooms.enter(rooms.viewers, connection, message.fileId)
  send(connection, { ...(await rooms.swarmState(message.fileId)), id: message.id })
}
