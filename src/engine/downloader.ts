import type { Bitfield } from '../protocol/bitfield'
import { chunkLength, type Manifest } from '../protocol/manifest'
import { Assemblies } from '../core/assemblies'
import { isSlowPeer, rankPeers, requestSlots } from '../core/peer-score'
import type { Bandwidth } from '../core/rate-limit'
import type { Cancel, Clock } from '../core/ports'
import { ChunkScheduler } from '../core/scheduler'
import type { Lane, SwarmMember } from './swarm-member'
import type { Wire } from './wire'

/** A requested chunk with no byte for this long is cancelled and asked of someone else. */
export const REQUEST_TIMEOUT_MS = 15_000
/**
 * In a member's tail, a chunk on a lane that carried no byte for this long (or this many round
 * trips, if longer) moves to an idle lane of the member: a lane whose last packets were lost
 * waits for its retransmission timer, which backs off to seconds, while a fresh lane is idle.
 */
export const TAIL_STALL_MIN_MS = 500
export const TAIL_STALL_RTTS = 5
/** ...or this many of the lane's usual gaps between pieces, if longer (a capped sender's lane is slow, not stalled). */
export const TAIL_STALL_PIECE_GAPS = 3
/** A peer that refused a chunk (it lost it, or is busy and said "ask a peer that has it") is asked again after this, if no one else served it. */
export const ASK_AGAIN_AFTER_REJECT_MS = 2_000

export type StoreOutcome = 'stored' | 'rejected'

export interface DownloaderDeps {
  clock: Clock
  random: () => number
  bandwidth: Bandwidth
  /** Members of this file with a ready lane. */
  members: () => Iterable<SwarmMember>
  member: (peerId: string) => SwarmMember | undefined
  /** False while closed, paused or failed. */
  canFetch: () => boolean
  /** A copy of this chunk is being verified and stored already. */
  isStoring: (index: number) => boolean
  /** Verifies and stores a whole chunk from a peer. */
  store: (peerId: string, index: number, bytes: Uint8Array<ArrayBuffer>) => Promise<StoreOutcome>
  /** Bytes of requested pieces arrived. */
  onReceived: (bytes: number) => void
  /** A chunk is verified and stored. */
  onStored: (index: number) => void
  onChange: () => void
}

/** Lanes a member's requests may go over: ready, and not choking us. */
function requestLanes(member: SwarmMember): Lane[] {
  return member.readyLanes().filter((lane) => !lane.wire.chokingUs)
}

/**
 * Fetches what the file lacks: which chunk from which member (rarest first, fastest members
 * first, endgame, slow members kept off the last chunks), striped over each member's lanes by
 * what each lane moves, requests in flight and their stall timeouts, pieces assembled into chunks,
 * and the download cap.
 */
export class Downloader {
  readonly scheduler: ChunkScheduler
  private readonly assemblies = new Assemblies()
  private cancelThrottle: Cancel | undefined
  private arrived = 0

  constructor(
    private readonly manifest: Manifest,
    have: Bitfield,
    private readonly deps: DownloaderDeps,
  ) {
    this.scheduler = new ChunkScheduler(manifest.hashes.length, have, deps.random)
  }

  close(): void {
    this.cancelThrottle?.()
  }

  /** Piece bytes received this session, duplicates and cancelled ones included. */
  get bytesArrived(): number {
    return this.arrived
  }

  // ---- what members say ----

  /** A lane's handshake: the member's first adds it; a later one adds the chunks it names that were not known. */
  handshake(member: SwarmMember, added: number[], first: boolean): void {
    if (first) this.scheduler.addPeer(member.id, member.remote!)
    else for (const index of added) this.scheduler.peerHas(member.id, index)
    this.pump()
  }

  /** Only this member's pipeline can gain from its news (every peer announces every chunk it gets, so this runs often). */
  have(member: SwarmMember, index: number): void {
    this.scheduler.peerHas(member.id, index)
    if (!this.scheduler.has(index)) this.pump(member)
  }

  rejected(member: SwarmMember, index: number): void {
    this.assemblies.forget(index, member.id)
    this.scheduler.release(index, member.id)
    this.scheduler.peerLacks(member.id, index)
    this.pump()
    this.deps.clock.after(ASK_AGAIN_AFTER_REJECT_MS, () => {
      if (this.deps.member(member.id) !== member || !member.remote || this.scheduler.has(index)) return
      member.remote.set(index)
      this.scheduler.peerHas(member.id, index)
      this.pump()
    })
  }

  /** Requests on a lane were dropped (the member choked it, or it closed): back to the pool at once. */
  dropped(member: SwarmMember, indexes: number[]): void {
    for (const index of indexes) {
      this.assemblies.forget(index, member.id)
      this.scheduler.release(index, member.id)
    }
    if (!member.linked) this.scheduler.removePeer(member.id)
    this.pump()
  }

  piece(member: SwarmMember, index: number, offset: number, bytes: Uint8Array): void {
    this.arrived += bytes.length
    const chunk = this.assemblies.add(index, member.id, offset, bytes, this.deps.clock.now())
    if (chunk === null) return // not expected any more: cancelled, choked or timed out
    this.deps.onReceived(bytes.length)
    if (chunk === undefined) return // more pieces to come
    if (this.scheduler.has(index)) return // another peer's copy won (endgame)
    if (this.deps.isStoring(index)) {
      this.scheduler.release(index, member.id) // another copy is being verified; if it fails, the chunk is re-requested
      return
    }
    void this.deliver(member.id, index, chunk)
  }

  /** Piece bytes that came after their request was cancelled. */
  unwanted(bytes: number): void {
    this.arrived += bytes
  }

  /** Once a second: requests with no data for REQUEST_TIMEOUT_MS are cancelled and placed again. */
  tick(): void {
    for (const { index, peerId, length } of this.assemblies.takeStalled(this.deps.clock.now(), REQUEST_TIMEOUT_MS)) {
      this.scheduler.release(index, peerId)
      this.cancel(peerId, index, length)
    }
    this.pump()
  }

  /** Chunks to fetch before all others, in this order (a media player's window); [] ends it. */
  prioritize(indexes: number[]): void {
    this.scheduler.setUrgent(indexes)
    this.pump()
  }

  /** A stored chunk turned out damaged: fetched again. */
  lose(index: number): void {
    this.scheduler.lose(index)
    this.pump()
  }

  /** Bytes we would still ask of a member beyond what is in flight (what more lanes could bring). */
  wantedFrom(member: SwarmMember): number {
    if (!this.deps.canFetch() || this.scheduler.isComplete) return 0
    return this.scheduler.unrequestedFrom(member.id) * this.manifest.chunkSize
  }

  // ---- fetching ----

  private cancel(peerId: string, index: number, length: number): void {
    const member = this.deps.member(peerId)
    for (const lane of member?.lanes ?? []) if (lane.wire.isRequested(index)) lane.wire.cancel(index, length)
  }

  private async deliver(peerId: string, index: number, chunk: Uint8Array<ArrayBuffer>): Promise<void> {
    if ((await this.deps.store(peerId, index, chunk)) !== 'stored') {
      this.scheduler.release(index, peerId)
      return
    }
    for (const other of this.scheduler.complete(index)) {
      this.assemblies.forget(index, other)
      this.cancel(other, index, chunk.length)
    }
    this.deps.onStored(index)
    this.pump()
    this.deps.onChange()
  }

  /** Keeps every usable member's lanes full (or only `only`'s): fastest members first; slow ones never get the last chunks. */
  pump(only?: SwarmMember): void {
    const { scheduler, manifest } = this
    if (!this.deps.canFetch() || scheduler.isComplete) return
    const now = this.deps.clock.now()
    const usable = [...this.deps.members()].filter((member) => member.remote && requestLanes(member).length > 0)
    const ranked = rankPeers(usable.map((member) => ({ id: member.id, rttMs: member.rttMs, rate: member.downRate(now), member })))
    const fastest = ranked[0]
    const reserve = fastest ? requestSlots(fastest.rate, manifest.chunkSize) : 0
    for (const { member, rate } of ranked) {
      if (only && member !== only) continue
      // A member that has sent nothing yet is unmeasured, not slow: it gets its chance.
      const slow = fastest !== undefined && member.bytesDown > 0 && isSlowPeer(rate, fastest.rate)
      if (slow && scheduler.unrequestedAvailable() <= reserve) continue
      const lanes = requestLanes(member).map((lane) => ({ lane, free: this.laneSlots(lane, now) - lane.wire.requests().length }))
      const slots = lanes.reduce((sum, { free }) => sum + Math.max(0, free), 0)
      const picked = scheduler.assign(member.id, slots, { endgame: !slow, urgent: !slow })
      for (const [i, index] of picked.entries()) {
        const length = chunkLength(manifest, index)
        if (!this.takeAllowance(length)) {
          for (const untaken of picked.slice(i)) scheduler.release(untaken, member.id)
          return
        }
        // Striped: each chunk goes to the lane with the most room for it now.
        const target = lanes.reduce((best, next) => (next.free > best.free ? next : best))
        target.free--
        this.assemblies.start(index, member.id, length, now)
        target.lane.wire.request(index, length)
      }
      if (lanes.length > 1 && scheduler.unrequestedFrom(member.id) === 0) this.rebalance(member, lanes, now)
    }
  }

  /**
   * A member's tail: nothing is left to ask of it, and a lane with room sits idle. It takes the
   * newest queued chunk no byte of has arrived from the busiest lane (so the last chunks do not
   * wait behind each other), or else a chunk of a lane that has stalled (no byte for a while). The
   * request is cancelled where it was; pieces still coming there are dropped as unwanted.
   */
  private rebalance(member: SwarmMember, lanes: { lane: Lane; free: number }[], now: number): void {
    const length = (index: number) => chunkLength(this.manifest, index)
    const stallMs = Math.max(TAIL_STALL_MIN_MS, TAIL_STALL_RTTS * (member.rttMs ?? 0))
    for (const idle of lanes) {
      if (idle.lane.wire.requests().length > 0) continue
      const move = this.queuedOnBusiest(lanes, length) ?? this.stalled(member.id, lanes, now, stallMs)
      if (!move) return
      move.from.cancel(move.index, length(move.index))
      this.assemblies.forget(move.index, member.id)
      this.assemblies.start(move.index, member.id, length(move.index), now)
      idle.lane.wire.request(move.index, length(move.index))
    }
  }

  /** The newest untouched chunk of the lane with the most requests, if it has two or more. */
  private queuedOnBusiest(lanes: { lane: Lane }[], length: (index: number) => number): { from: Wire; index: number } | undefined {
    const busiest = lanes.reduce((best, next) => (next.lane.wire.requests().length > best.lane.wire.requests().length ? next : best))
    if (busiest.lane.wire.requests().length < 2) return undefined
    const index = busiest.lane.wire.untouched(length).at(-1)
    return index === undefined ? undefined : { from: busiest.lane.wire, index }
  }

  /**
   * The request quiet longest on a lane that has carried nothing for `stallMs`, or for three of its
   * usual gaps between pieces if longer (a chunk queued behind others on a lane that still moves
   * is waiting its turn, and a slow lane is not a stalled one).
   */
  private stalled(peerId: string, lanes: { lane: Lane }[], now: number, stallMs: number): { from: Wire; index: number } | undefined {
    let found: { from: Wire; index: number; quietMs: number } | undefined
    for (const { lane } of lanes) {
      const pace = lane.wire.down.pace()
      const usualGapMs = pace > 0 ? (lane.wire.maxPieceBytes * 1000) / pace : 0
      if (now - (lane.wire.down.lastAt ?? -Infinity) < Math.max(stallMs, TAIL_STALL_PIECE_GAPS * usualGapMs)) continue
      for (const index of lane.wire.requests()) {
        const quietMs = this.assemblies.quietFor(index, peerId, now)
        if (quietMs >= stallMs && quietMs > (found?.quietMs ?? -1)) found = { from: lane.wire, index, quietMs }
      }
    }
    return found
  }

  /** Requests to keep in flight on a lane: its rate times (its round trip plus a margin), in chunks. */
  private laneSlots(lane: Lane, now: number): number {
    const { wire } = lane
    const rtt = lane.stats?.rttMs ?? wire.rttMs ?? 0
    return requestSlots(wire.down.rate(now), this.manifest.chunkSize, wire.down.total > 0, rtt)
  }

  /** With a download cap, a request waits until the cap allows its bytes; pump runs again then. */
  private takeAllowance(bytes: number): boolean {
    const { bandwidth, clock } = this.deps
    const bucket = bandwidth.down
    if (!bucket || bucket.tryTake(bytes, clock.now())) return true
    this.cancelThrottle ??= clock.after(bucket.waitMs(bytes, clock.now()), () => {
      this.cancelThrottle = undefined
      this.pump()
    })
    return false
  }
}
