import {
  MAX_SWARM_VIEW_PEERS,
  MAX_TRACKER_FRAME_BYTES,
  type ServerMessage,
  type ServerMessageOf,
  type SwarmLink,
} from '../src/protocol/tracker'
import { isListed } from '../src/protocol/manifest'
import type { Bus, BusMessage } from './bus'
import { send, type Connection } from './connection'
import { fitting } from './frames'
import type { Registry } from './registry'
import type { Log } from './log'

/** Swarm view pushes for one file are coalesced over this long. */
export const SWARM_PUSH_DELAY_MS = 500
/** In a swarm view, the members take at most this share of the frame; the links between them the rest. */
const PEERS_SHARE_OF_FRAME = 0.75

type Relation = 'member' | 'awaiting' | 'viewing'

/** This instance's connections that have one relation to each file. */
class Room {
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

/**
 * Who on this instance hears about each file: swarm members, tabs waiting for the file to be
 * shared, and swarm-view watchers. Follows a file's bus channel while anyone here is in a room for
 * it, delivers what the bus carries, and coalesces swarm-view pushes.
 */
export class Rooms {
  readonly members = new Room('member')
  /** Waiting for someone to publish the file. */
  readonly awaiting = new Room('awaiting')
  /** Watching the file's swarm. */
  readonly viewers = new Room('viewing')
  /** Swarm views with a push scheduled. */
  private readonly pushTimers = new Map<string, ReturnType<typeof setTimeout>>()

  constructor(
    private readonly registry: Registry,
    private readonly bus: Bus,
    private readonly log: Log,
  ) {}

  close(): void {
    for (const timer of this.pushTimers.values()) clearTimeout(timer)
  }

  /** Joins a room; the bus delivers the file's messages here before this resolves. */
  async enter(room: Room, connection: Connection, fileId: string): Promise<void> {
    room.add(connection, fileId)
    await this.bus.follow(fileId)
  }

  exit(room: Room, connection: Connection, fileId: string): void {
    room.delete(connection, fileId)
    if (room === this.members) connection.news?.drop(fileId)
    if (this.members.has(fileId) || this.awaiting.has(fileId) || this.viewers.has(fileId)) return
    this.bus.unfollow(fileId)
    clearTimeout(this.pushTimers.get(fileId))
    this.pushTimers.delete(fileId)
  }

  /** Leaves every room (the connection closed). */
  exitAll(connection: Connection): void {
    for (const room of [this.members, this.awaiting, this.viewers]) {
      for (const fileId of connection[room.relation]) this.exit(room, connection, fileId)
    }
  }

  /** A push for every member of the file's swarm, on every instance, but `except`. */
  toSwarm(fileId: string, push: ServerMessage, except?: string): Promise<void> {
    return this.bus.toFile({ kind: 'file', fileId, push, ...(except === undefined ? {} : { except }) })
  }

  left(fileId: string, peerId: string): Promise<void> {
    return this.toSwarm(fileId, { type: 'peer-left', fileId, peerId })
  }

  /** A file message from the bus (another instance, or this one) for this instance's connections. */
  deliver(message: Extract<BusMessage, { kind: 'file' }>): void {
    const { fileId, push, except } = message
    if (push) {
      const chunkNews = push.type === 'peer-have' || push.type === 'peer-lost' ? push : undefined
      for (const member of this.members.in(fileId)) {
        if (member.peerId === except) continue
        if (chunkNews && member.news) member.news.add(chunkNews)
        else {
          // Gathered news goes first: nobody hears of a peer's chunks after it left.
          member.news?.flush(fileId)
          send(member, push)
        }
      }
    }
    if (message.available) {
      for (const waiting of this.awaiting.in(fileId)) {
        this.exit(this.awaiting, waiting, fileId)
        send(waiting, { type: 'file-available', fileId })
      }
    }
    this.swarmChanged(fileId)
  }

  /** What a swarm view shows: members with their chunks, and the links with recent rates between them. */
  async swarmState(fileId: string): Promise<ServerMessageOf<'swarm'>> {
    const swarm = await this.registry.swarm(fileId)
    if (!swarm) return { type: 'swarm', fileId, name: '', chunkCount: 0, peers: [], peerCount: 0, links: [] }
    const base: ServerMessageOf<'swarm'> = {
      type: 'swarm',
      fileId,
      name: isListed(swarm.manifest) ? swarm.manifest.name : '',
      chunkCount: swarm.manifest.hashes.length,
      peers: [],
      peerCount: swarm.peers.length,
      links: [],
    }
    const peers = fitting(base, swarm.peers, MAX_SWARM_VIEW_PEERS, MAX_TRACKER_FRAME_BYTES * PEERS_SHARE_OF_FRAME)
    const shown = new Set(peers.map((peer) => peer.peerId))
    const links: SwarmLink[] = []
    for (const { from, links: reported } of await this.registry.rates(fileId)) {
      if (!shown.has(from)) continue
      for (const { to, rate } of reported) if (rate > 0 && shown.has(to)) links.push({ from, to, rate })
    }
    return { ...base, peers, links: fitting({ ...base, peers }, links, Number.MAX_SAFE_INTEGER) }
  }

  /** Schedules one push of the swarm's state to this instance's viewers, coalescing changes in the meantime. */
  private swarmChanged(fileId: string): void {
    if (!this.viewers.has(fileId) || this.pushTimers.has(fileId)) return
    const timer = setTimeout(() => {
      this.pushTimers.delete(fileId)
      void this.swarmState(fileId)
        .then((state) => {
          for (const viewer of this.viewers.in(fileId)) send(viewer, state)
        })
        .catch((error: unknown) =>
          this.log.warn({ event: 'swarm-view.failed', reason: (error as Error).message }, 'a swarm could not be read for its viewers'),
        )
    }, SWARM_PUSH_DELAY_MS)
    this.pushTimers.set(fileId, timer)
  }
}

export type { Room }
