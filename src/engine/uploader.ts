import type { Bitfield } from '../protocol/bitfield'
import type { Range } from '../protocol/wire'
import { answerRepeat } from '../core/initial-seeding'
import { decideUnchoked, RECHOKE_INTERVAL_MS, REGULAR_UPLOAD_SLOTS, type ChokeDecision } from '../core/choker'
import type { Bandwidth } from '../core/rate-limit'
import type { ChunkReader, Clock } from '../core/ports'
import type { Wire } from './wire'

/** Stop reading chunks for a peer while this much is already queued to it. */
export const UPLOAD_QUEUE_BYTES = 2 * 1024 * 1024
/** Times a chunk's upload count is capped at (it only ranks chunks). */
const MAX_TIMES_SENT = 0xffff

export interface UploaderDeps {
  fileId: string
  chunks: ChunkReader
  bandwidth: Bandwidth
  clock: Clock
  random: () => number
  /** The file's open wires: a repeat is refused when another peer announced the chunk. */
  wires: () => Iterable<Wire>
  /** Whether we hold the chunk now. */
  has: (index: number) => boolean
  /** Stored chunks checked against their hash since this session began. */
  isVerified: (index: number) => boolean
  /** Checks a whole stored chunk against its hash before its first upload; false means it must not be sent. */
  verify: (index: number, bytes: Uint8Array<ArrayBuffer>) => Promise<boolean>
  onSent: (bytes: number) => void
  /** A peer could not be served (storage failed); the reason is a short phrase. */
  onFailed: (wire: Wire, reason: unknown) => void
}

/**
 * Who we upload to and what: choke/unchoke by the choker (four regular slots and a rotating
 * optimistic one), free slots filled at once, and each peer's queue served least-sent chunk first;
 * while busy, a chunk already uploaded is refused to a peer that can get it from another (once; see core/initial-seeding).
 */
export class Uploader {
  /** How often each chunk was uploaded: the least sent goes first, so duplicates wait (and may be cancelled). */
  private timesSent = new Uint16Array(0)
  private readonly serving = new WeakSet<Wire>()
  /** Chunks each peer was told to ask another peer for. */
  private readonly redirected = new WeakMap<Wire, Set<number>>()
  /** Chunks uploaded to each peer: true once sent (it holds them, or will once they arrive), false while sending. */
  private sentTo = new WeakMap<Wire, Map<number, boolean>>()
  private choke = { optimistic: undefined as string | undefined, optimisticSince: 0, lastRechoke: 0 }

  constructor(private readonly deps: UploaderDeps) {}

  /** The file's chunk count is known (or changed). */
  reset(chunkCount: number): void {
    this.timesSent = new Uint16Array(chunkCount)
    this.sentTo = new WeakMap()
  }

  /** A request from a peer: queued if we hold the chunk, refused otherwise. */
  request(wire: Wire, range: Range): void {
    if (!this.deps.has(range.index)) return wire.reject(range)
    wire.queueUpload(range)
    void this.serve(wire)
  }

  /** A newly opened link: unchoked if a slot is free, so first chunks flow at once. */
  opened(wire: Wire, wires: Iterable<Wire>): void {
    let unchoked = 0
    for (const other of wires) if (other !== wire && other.open && !other.amChoking) unchoked++
    if (unchoked >= REGULAR_UPLOAD_SLOTS + 1) wire.choke()
  }

  /** Once a second: rechoke every RECHOKE_INTERVAL_MS, fill free slots between, then serve. */
  tick(wires: Wire[], have: Bitfield, downloading: boolean): void {
    const now = this.deps.clock.now()
    if (now - this.choke.lastRechoke >= RECHOKE_INTERVAL_MS) {
      this.choke = { ...this.rechoke(wires, have, downloading, now), lastRechoke: now }
    } else {
      this.fillFreeSlots(wires, have)
    }
    for (const wire of wires) void this.serve(wire)
  }

  /** Serves a peer's queued requests one chunk at a time, pausing while its link is full or the cap says wait. */
  async serve(wire: Wire): Promise<void> {
    if (this.serving.has(wire)) return
    this.serving.add(wire)
    try {
      await this.drain(wire)
    } catch (error) {
      this.deps.onFailed(wire, error)
    } finally {
      this.serving.delete(wire)
    }
  }

  private async drain(wire: Wire): Promise<void> {
    while (wire.uploads.length > 0 && wire.open && !wire.amChoking && wire.queuedBytes < UPLOAD_QUEUE_BYTES) {
      const range = wire.takeUpload((index) => this.timesSent[index] ?? 0)!
      try {
        await this.serveOne(wire, range)
      } finally {
        wire.doneServing(range)
      }
    }
  }

  private async serveOne(wire: Wire, range: Range): Promise<void> {
    const { chunks, fileId } = this.deps
    if (this.sendsElsewhere(wire, range.index)) return wire.reject(range)
    const chunk = await chunks.readChunk(fileId, range.index)
    if (!chunk || chunk.length < range.offset + range.length) return wire.reject(range)
    if (!this.deps.isVerified(range.index) && !(await this.deps.verify(range.index, chunk))) return wire.reject(range)
    if (!wire.stillWanted(range)) return
    const bytes = chunk.subarray(range.offset, range.offset + range.length)
    if (this.timesSent[range.index]! < MAX_TIMES_SENT) this.timesSent[range.index]!++
    const sent = this.sentTo.get(wire) ?? new Map<number, boolean>()
    this.sentTo.set(wire, sent.set(range.index, sent.get(range.index) === true))
    try {
      await this.sendPieces(wire, range, bytes)
    } finally {
      sent.set(range.index, true)
    }
  }

  /** Initial seeding: a repeat of a chunk another connected peer holds or is receiving, while our upload is the limit. */
  private sendsElsewhere(wire: Wire, index: number): boolean {
    const others = [...this.deps.wires()].filter((other) => other !== wire && other.open)
    const redirected = this.redirected.get(wire) ?? new Set<number>()
    const answer = answerRepeat({
      timesSent: this.timesSent[index] ?? 0,
      busy: this.deps.bandwidth.up !== undefined || others.some((other) => other.uploads.length > 0),
      // Peers do not announce chunks to a peer that holds them, so what we sent is what we know of.
      heldElsewhere: others.some((other) => other.remote?.get(index) === true || this.sentTo.get(other)?.get(index) === true),
      arrivingElsewhere: others.some((other) => this.sentTo.get(other)?.get(index) === false),
      redirectedBefore: redirected.has(index),
    })
    if (answer === 'redirect') this.redirected.set(wire, redirected.add(index))
    return answer !== 'send'
  }

  private async sendPieces(wire: Wire, range: Range, bytes: Uint8Array): Promise<void> {
    const { bandwidth, clock } = this.deps
    const size = wire.maxPieceBytes
    for (let at = 0; at < bytes.length; at += size) {
      const piece = bytes.subarray(at, at + size)
      const bucket = bandwidth.up
      // A cancel (the peer got the chunk elsewhere) often comes while waiting on the cap: the rest is not sent.
      while (bucket && wire.stillWanted(range) && !bucket.tryTake(piece.length, clock.now())) {
        await new Promise<void>((resolve) => clock.after(bucket.waitMs(piece.length, clock.now()), resolve))
      }
      if (!wire.stillWanted(range)) return
      wire.piece(range.index, range.offset + at, piece)
      this.deps.onSent(piece.length)
    }
  }

  /** Applies the choker's decision to every open link, sending choke/unchoke where it changes. */
  private rechoke(wires: Wire[], have: Bitfield, downloading: boolean, now: number): Omit<ChokeDecision, 'unchoked'> {
    const open = wires.filter((wire) => wire.open && wire.remote)
    const held = have.indexes()
    const decision = decideUnchoked(
      open.map((wire) => ({
        id: wire.peerId,
        interested: held.some((index) => !wire.remote!.get(index)),
        rate: downloading ? wire.down.rate(now) : wire.up.rate(now),
        connectedAt: wire.connectedAt,
      })),
      this.choke,
      now,
      this.deps.random,
    )
    for (const wire of open) {
      if (decision.unchoked.has(wire.peerId)) wire.unchoke()
      else wire.choke()
    }
    return { optimistic: decision.optimistic, optimisticSince: decision.optimisticSince }
  }

  /** Between rechokes: give free slots to interested peers at once instead of making them wait. */
  private fillFreeSlots(wires: Wire[], have: Bitfield): void {
    const held = have.indexes()
    const open = wires.filter((wire) => wire.open && wire.remote)
    const interested = (wire: Wire) => held.some((index) => !wire.remote!.get(index))
    let busy = open.filter((wire) => !wire.amChoking && interested(wire)).length
    for (const wire of open) {
      if (busy >= REGULAR_UPLOAD_SLOTS + 1) return
      if (wire.amChoking && interested(wire)) {
        wire.unchoke()
        busy++
      }
    }
  }
}
