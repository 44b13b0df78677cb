import type { Bitfield } from '../protocol/bitfield'
import { chunkLength, type Manifest } from '../protocol/manifest'
import { Assemblies } from '../core/assemblies'
import { isSlowPeer, rankPeers, requestSlots } from '../core/peer-score'
import type { Bandwidth } from '../core/rate-limit'
import type { Cancel, Clock } from '../core/ports'
import { ChunkScheduler } from '../core/scheduler'
import type { Wire } from './wire'

/** A requested chunk with no byte for this long is cancelled and asked of someone else. */
export const REQUEST_TIMEOUT_MS = 15_000
/** A peer that refused a chunk (it lost it, or is busy and said "ask a peer that has it") is asked again after this, if no one else served it. */
export const ASK_AGAIN_AFTER_REJECT_MS = 2_000

export type KeepOutcome = 'stored' | 'rejected'

export interface DownloaderDeps {
  clock: Clock
  random: () => number
  bandwidth: Bandwidth
  /** Open wires of this file. */
  wires: () => Iterable<Wire>
  wire: (peerId: string) => Wire | undefined
  /** False while closed, paused or failed. */
  canFetch: () => boolean
  /** A copy of this chunk is being verified and stored already. */
  isStoring: (index: number) => boolean
  /** Verifies and stores a whole chunk from a peer. */
  keep: (peerId: string, index: number, bytes: Uint8Array<ArrayBuffer>) => Promise<KeepOutcome>
  /** Bytes of requested pieces arrived. */
  onReceived: (bytes: number) => void
  /** A chunk is verified and stored. */
  onStored: (index: number) => void
  onChange: () => void
}

/**
 * Fetches what the file lacks: which chunk from which peer (rarest first, fastest peers first,
 * endgame, slow peers kept off the last chunks), requests in flight and their stall timeouts,
 * pieces assembled into chunks, and the download cap.
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

  // ---- what peers say ----

  handshake(wire: Wire): void {
    this.scheduler.addPeer(wire.peerId, wire.remote!)
    this.pump()
  }

  /** Only this peer's pipeline can gain from its news (every peer announces every chunk it gets, so this runs often). */
  have(wire: Wire, index: number): void {
    this.scheduler.peerHas(wire.peerId, index)
    if (!this.scheduler.has(index)) this.pump(wire)
  }

  rejected(wire: Wire, index: number): void {
    this.assemblies.forget(index, wire.peerId)
    this.scheduler.release(index, wire.peerId)
    this.scheduler.peerLacks(wire.peerId, index)
    this.pump()
    this.deps.clock.after(ASK_AGAIN_AFTER_REJECT_MS, () => {
      if (this.deps.wire(wire.peerId) !== wire || !wire.remote || this.scheduler.has(index)) return
      wire.remote.set(index)
      this.scheduler.peerHas(wire.peerId, index)
      this.pump()
    })
  }

  /** The peer choked us: what we asked of it goes back to the pool. */
  choked(wire: Wire): void {
    for (const index of this.assemblies.fromPeer(wire.peerId)) {
      this.assemblies.forget(index, wire.peerId)
      this.scheduler.release(index, wire.peerId)
    }
    this.pump()
  }

  /** A link is gone: its requests go back to the pool at once. */
  closed(wire: Wire): void {
    for (const index of this.scheduler.removePeer(wire.peerId)) this.assemblies.forget(index, wire.peerId)
    this.pump()
  }

  piece(wire: Wire, index: number, offset: number, bytes: Uint8Array): void {
    this.arrived += bytes.length
    const chunk = this.assemblies.add(index, wire.peerId, offset, bytes, this.deps.clock.now())
    if (chunk === null) return // not expected any more: cancelled, choked or timed out
    this.deps.onReceived(bytes.length)
    if (chunk === undefined) return // more pieces to come
    if (this.scheduler.has(index)) return // another peer's copy won (endgame)
    if (this.deps.isStoring(index)) {
      this.scheduler.release(index, wire.peerId) // another copy is being verified; if it fails, the chunk is re-requested
      return
    }
    void this.deliver(wire.peerId, index, chunk)
  }

  /** Piece bytes that came after their request was cancelled. */
  unwanted(bytes: number): void {
    this.arrived += bytes
  }

  /** Once a second: requests with no data for REQUEST_TIMEOUT_MS are cancelled and placed again. */
  tick(): void {
    for (const { index, peerId, length } of this.assemblies.takeStalled(this.deps.clock.now(), REQUEST_TIMEOUT_MS)) {
      this.scheduler.release(index, peerId)
      this.deps.wire(peerId)?.cancel(index, length)
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

  // ---- fetching ----

  private async deliver(peerId: string, index: number, chunk: Uint8Array<ArrayBuffer>): Promise<void> {
    if ((await this.deps.keep(peerId, index, chunk)) !== 'stored') {
      this.scheduler.release(index, peerId)
      return
    }
    for (const other of this.scheduler.complete(index)) {
      this.assemblies.forget(index, other)
      this.deps.wire(other)?.cancel(index, chunk.length)
    }
    this.deps.onStored(index)
    this.pump()
    this.deps.onChange()
  }

  /** Keeps every usable peer's pipeline full (or only `only`'s): fastest peers first; slow ones never get the last chunks. */
  pump(only?: Wire): void {
    const { scheduler, manifest } = this
    if (!this.deps.canFetch() || scheduler.isComplete) return
    const now = this.deps.clock.now()
    const usable = [...this.deps.wires()].filter((wire) => wire.remote && !wire.chokingUs)
    const ranked = rankPeers(usable.map((wire) => ({ id: wire.peerId, rttMs: wire.rttMs, rate: wire.down.rate(now), wire })))
    const fastest = ranked[0]
    const reserve = fastest ? requestSlots(fastest.rate, manifest.chunkSize) : 0
    for (const { wire, rate } of ranked) {
      if (only && wire !== only) continue
      // A peer that has sent nothing yet is unmeasured, not slow: it gets its chance.
      const measured = wire.down.total > 0
      const slow = fastest !== undefined && measured && isSlowPeer(rate, fastest.rate)
      if (slow && scheduler.unrequestedAvailable() <= reserve) continue
      const slots = requestSlots(rate, manifest.chunkSize, measured) - scheduler.inFlightFrom(wire.peerId)
      const picked = scheduler.assign(wire.peerId, slots, { endgame: !slow, urgent: !slow })
      for (const [i, index] of picked.entries()) {
        const length = chunkLength(manifest, index)
        if (!this.takeAllowance(length)) {
          for (const untaken of picked.slice(i)) scheduler.release(untaken, wire.peerId)
          return
        }
        this.assemblies.start(index, wire.peerId, length, now)
        wire.request(index, length)
      }
    }
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
