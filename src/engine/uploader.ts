import type { Bitfield } from '../protocol/bitfield'
import type { Range } from '../protocol/wire'
import { answerRepeat } from '../core/initial-seeding'
import { decideUnchoked, RECHOKE_INTERVAL_MS, REGULAR_UPLOAD_SLOTS, type ChokeDecision } from '../core/choker'
import type { Bandwidth } from '../core/rate-limit'
import type { ChunkReader, Clock } from '../core/ports'
import type { Lane, SwarmMember } from './swarm-member'

/** Stop reading chunks for a lane while this much is already queued on it. */
export const UPLOAD_QUEUE_BYTES = 2 * 1024 * 1024
/** Requests a member may queue with us on one lane; more are rejected. */
export const MAX_QUEUED_UPLOADS = 64
/** Times a chunk's upload count is capped at (it only ranks chunks). */
const MAX_TIMES_SENT = 0xffff

export interface UploaderDeps {
  fileId: string
  chunks: ChunkReader
  bandwidth: Bandwidth
  clock: Clock
  random: () => number
  /** The file's members with a ready lane: a repeat is refused when another announced the chunk. */
  members: () => Iterable<SwarmMember>
  /** Whether we hold the chunk now. */
  has: (index: number) => boolean
  /** Stored chunks checked against their hash since this session began. */
  isVerified: (index: number) => boolean
  /** Checks a whole stored chunk against its hash before its first upload; false means it must not be sent. */
  verify: (index: number, bytes: Uint8Array<ArrayBuffer>) => Promise<boolean>
  onSent: (member: SwarmMember, bytes: number) => void
  /** A member could not be served (storage failed); the reason is a short phrase. */
  onFailed: (member: SwarmMember, reason: unknown) => void
}

/** A lane's upload state: what its member asked on it, and the request being sent. */
interface LaneQueue {
  waiting: Range[]
  /** Taken for sending and not sent in full: a cancel or choke ends it. */
  sending: Range | undefined
  draining: boolean
}

/** How far a chunk got to a member: being sent, or sent (it holds it, or will once it arrives). */
type Delivery = 'sending' | 'sent'

/**
 * Who we upload to and what: members are choked or unchoked by the choker (four regular slots
 * and a rotating optimistic one; lanes count as one member), free slots filled at once, and the
 * requests queued on each lane served there, least-sent chunk first. While busy, a chunk already
 * uploaded is refused to a member that can get it from another (once; see core/initial-seeding).
 */
export class Uploader {
  /** How often each chunk was uploaded: the least sent goes first, so duplicates wait (and may be cancelled). */
  private timesSent = new Uint16Array(0)
  private readonly queues = new WeakMap<Lane, LaneQueue>()
  /** Members we refuse to serve (no upload slot). */
  private readonly choked = new Set<string>()
  /** Chunks each member was told to ask another peer for. */
  private readonly redirected = new Map<string, Set<number>>()
  private deliveries = new Map<string, Map<number, Delivery>>()
  private choke = { optimistic: undefined as string | undefined, optimisticSince: 0, lastRechoke: 0 }

  constructor(private readonly deps: UploaderDeps) {}

  /** The file's chunk count is known (or changed). */
  reset(chunkCount: number): void {
    this.timesSent = new Uint16Array(chunkCount)
    this.deliveries = new Map()
  }

  isChoking(member: SwarmMember): boolean {
    return this.choked.has(member.id)
  }

  /** A request from a member on a lane: queued if we hold the chunk and serve it, refused when we lack it or its queue is full. */
  request(member: SwarmMember, lane: Lane, range: Range): void {
    if (!this.deps.has(range.index)) return lane.wire.reject(range)
    if (this.choked.has(member.id)) return // requests to a choked member are dropped, as it knows
    const queue = this.queueOf(lane)
    if (queue.waiting.length >= MAX_QUEUED_UPLOADS) return lane.wire.reject(range)
    queue.waiting.push(range)
    void this.serve(member, lane)
  }

  /** The member withdrew a request: dropped if waiting; if being sent, the rest of it is not. */
  cancel(lane: Lane, range: Range): void {
    const queue = this.queues.get(lane)
    if (!queue) return
    const at = queue.waiting.findIndex((r) => r.index === range.index && r.offset === range.offset)
    if (at >= 0) queue.waiting.splice(at, 1)
    else if (queue.sending?.index === range.index) queue.sending = undefined
  }

  /** A lane's connection opened: it starts unchoked, so a choked member (or one without a free slot) is told at once. */
  laneOpened(member: SwarmMember, lane: Lane): void {
    if (this.choked.has(member.id)) return lane.wire.choke()
    let unchoked = 0
    for (const other of this.deps.members()) if (other !== member && !this.choked.has(other.id)) unchoked++
    if (unchoked >= REGULAR_UPLOAD_SLOTS + 1) this.setChoked(member, true)
  }

  /** A member's last lane closed: what was remembered of it goes. */
  memberGone(member: SwarmMember): void {
    this.choked.delete(member.id)
    this.redirected.delete(member.id)
    this.deliveries.delete(member.id)
  }

  /** Once a second: rechoke every RECHOKE_INTERVAL_MS, fill free slots between, then serve. */
  tick(members: SwarmMember[], have: Bitfield, downloading: boolean): void {
    const now = this.deps.clock.now()
    const held = have.indexes()
    if (now - this.choke.lastRechoke >= RECHOKE_INTERVAL_MS) {
      this.choke = { ...this.rechoke(members, held, downloading, now), lastRechoke: now }
    } else {
      this.fillFreeSlots(members, held)
    }
    for (const member of members) for (const lane of member.readyLanes()) void this.serve(member, lane)
  }

  /** Serves a lane's queued requests one chunk at a time, pausing while its link is full or the cap says wait. */
  async serve(member: SwarmMember, lane: Lane): Promise<void> {
    const queue = this.queues.get(lane)
    if (!queue || queue.draining) return
    queue.draining = true
    try {
      while (queue.waiting.length > 0 && lane.wire.open && !this.choked.has(member.id) && lane.wire.queuedBytes < UPLOAD_QUEUE_BYTES) {
        const range = this.takeLeastSent(queue)
        queue.sending = range
        try {
          await this.serveOne(member, lane, queue, range)
        } finally {
          if (queue.sending === range) queue.sending = undefined
        }
      }
    } catch (error) {
      this.deps.onFailed(member, error)
    } finally {
      queue.draining = false
    }
  }

  private queueOf(lane: Lane): LaneQueue {
    let queue = this.queues.get(lane)
    if (!queue) this.queues.set(lane, (queue = { waiting: [], sending: undefined, draining: false }))
    return queue
  }

  /** Removes and returns the waiting request whose chunk was uploaded least (first on ties). */
  private takeLeastSent(queue: LaneQueue): Range {
    const rank = (range: Range) => this.timesSent[range.index] ?? 0
    let best = 0
    for (let i = 1; i < queue.waiting.length; i++) if (rank(queue.waiting[i]!) < rank(queue.waiting[best]!)) best = i
    return queue.waiting.splice(best, 1)[0]!
  }

  private async serveOne(member: SwarmMember, lane: Lane, queue: LaneQueue, range: Range): Promise<void> {
    const { chunks, fileId } = this.deps
    if (this.sendsElsewhere(member, range.index)) return lane.wire.reject(range)
    const chunk = await chunks.readChunk(fileId, range.index)
    if (!chunk || chunk.length < range.offset + range.length) return lane.wire.reject(range)
    if (!this.deps.isVerified(range.index) && !(await this.deps.verify(range.index, chunk))) return lane.wire.reject(range)
    const stillWanted = () => queue.sending === range && lane.wire.open && !this.choked.has(member.id)
    if (!stillWanted()) return
    const bytes = chunk.subarray(range.offset, range.offset + range.length)
    if (this.timesSent[range.index]! < MAX_TIMES_SENT) this.timesSent[range.index]!++
    const delivered = this.deliveriesTo(member)
    if (delivered.get(range.index) !== 'sent') delivered.set(range.index, 'sending')
    try {
      await this.sendPieces(member, lane, range, bytes, stillWanted)
    } finally {
      delivered.set(range.index, 'sent')
    }
  }

  private deliveriesTo(member: SwarmMember): Map<number, Delivery> {
    let delivered = this.deliveries.get(member.id)
    if (!delivered) this.deliveries.set(member.id, (delivered = new Map()))
    return delivered
  }

  /** Initial seeding: a repeat of a chunk another linked member holds or is receiving, while our upload is the limit. */
  private sendsElsewhere(member: SwarmMember, index: number): boolean {
    const others = [...this.deps.members()].filter((other) => other !== member)
    const redirected = this.redirected.get(member.id) ?? new Set<number>()
    const waiting = (other: SwarmMember) => other.lanes.some((lane) => (this.queues.get(lane)?.waiting.length ?? 0) > 0)
    const answer = answerRepeat({
      timesSent: this.timesSent[index] ?? 0,
      busy: this.deps.bandwidth.up !== undefined || others.some(waiting),
      // Peers do not announce chunks to a peer that holds them, so what we sent is what we know of.
      heldElsewhere: others.some((other) => other.remote?.get(index) === true || this.deliveries.get(other.id)?.get(index) === 'sent'),
      arrivingElsewhere: others.some((other) => this.deliveries.get(other.id)?.get(index) === 'sending'),
      redirectedBefore: redirected.has(index),
    })
    if (answer === 'redirect') this.redirected.set(member.id, redirected.add(index))
    return answer !== 'send'
  }

  private async sendPieces(member: SwarmMember, lane: Lane, range: Range, bytes: Uint8Array, stillWanted: () => boolean): Promise<void> {
    const { bandwidth, clock } = this.deps
    const size = lane.wire.maxPieceBytes
    for (let at = 0; at < bytes.length; at += size) {
      const piece = bytes.subarray(at, at + size)
      const bucket = bandwidth.up
      // A cancel (the member got the chunk elsewhere) often comes while waiting on the cap: the rest is not sent.
      while (bucket && stillWanted() && !bucket.tryTake(piece.length, clock.now())) {
        await new Promise<void>((resolve) => clock.after(bucket.waitMs(piece.length, clock.now()), resolve))
      }
      if (!stillWanted()) return
      lane.wire.piece(range.index, range.offset + at, piece)
      this.deps.onSent(member, piece.length)
    }
  }

  /** A member lacks something we hold. */
  private interested(member: SwarmMember, held: number[]): boolean {
    return member.remote !== undefined && held.some((index) => !member.remote!.get(index))
  }

  /** Applies the choker's decision to every ready member, sending choke/unchoke where it changes. */
  private rechoke(members: SwarmMember[], held: number[], downloading: boolean, now: number): Omit<ChokeDecision, 'unchoked'> {
    const decision = decideUnchoked(
      members.map((member) => ({
        id: member.id,
        interested: this.interested(member, held),
        rate: downloading ? member.downRate(now) : member.upRate(now),
        connectedAt: Math.min(...member.lanes.map((lane) => lane.wire.connectedAt)),
      })),
      this.choke,
      now,
      this.deps.random,
    )
    for (const member of members) this.setChoked(member, !decision.unchoked.has(member.id))
    return { optimistic: decision.optimistic, optimisticSince: decision.optimisticSince }
  }

  /** Between rechokes: give free slots to interested members at once instead of making them wait. */
  private fillFreeSlots(members: SwarmMember[], held: number[]): void {
    let busy = members.filter((member) => !this.choked.has(member.id) && this.interested(member, held)).length
    for (const member of members) {
      if (busy >= REGULAR_UPLOAD_SLOTS + 1) return
      if (this.choked.has(member.id) && this.interested(member, held)) {
        this.setChoked(member, false)
        busy++
      }
    }
  }

  private setChoked(member: SwarmMember, choked: boolean): void {
    if (this.choked.has(member.id) === choked) return
    if (!choked) {
      this.choked.delete(member.id)
      for (const lane of member.readyLanes()) lane.wire.unchoke()
      return
    }
    this.choked.add(member.id)
    this.sendChoke(member)
  }

  /** Chokes every lane: a choked member's queued requests are dropped, as it knows. */
  private sendChoke(member: SwarmMember): void {
    for (const lane of member.lanes) {
      const queue = this.queues.get(lane)
      if (queue) {
        queue.waiting.length = 0
        queue.sending = undefined
      }
      if (lane.wire.open) lane.wire.choke()
    }
  }
}
