import { Bitfield } from '../protocol/bitfield'

/**
 * Decides which chunk to ask which peer for. Pure: no I/O, no timers, randomness injected.
 * Rarest first (by the availability this downloader sees), random tie-break; a chunk is
 * in flight from at most one peer and goes back to the pool the moment it is released
 * or its peer is removed.
 */
export class ChunkScheduler {
  private readonly have: Bitfield
  private readonly availability: Uint16Array
  private readonly peers = new Map<string, Bitfield>()
  private readonly inFlight = new Map<number, string>()

  constructor(
    readonly total: number,
    have: Bitfield,
    private readonly random: () => number,
  ) {
    this.have = new Bitfield(total, have.bytes)
    this.availability = new Uint16Array(total)
  }

  get haveCount(): number {
    return this.have.count()
  }

  get isComplete(): boolean {
    return this.have.isComplete()
  }

  has(index: number): boolean {
    return this.have.get(index)
  }

  haveBitfield(): Bitfield {
    return new Bitfield(this.total, this.have.bytes)
  }

  addPeer(peerId: string, bitfield: Bitfield): void {
    this.removePeer(peerId)
    const copy = new Bitfield(this.total, bitfield.bytes)
    this.peers.set(peerId, copy)
    for (const index of copy.indexes()) this.availability[index]!++
  }

  peerHas(peerId: string, index: number): void {
    const field = this.peers.get(peerId)
    if (!field || field.get(index)) return
    field.set(index)
    this.availability[index]!++
  }

  /** The peer turned out not to hold a chunk it advertised (it rejected the request). */
  peerLacks(peerId: string, index: number): void {
    const field = this.peers.get(peerId)
    if (!field?.get(index)) return
    field.set(index, false)
    this.availability[index]!--
  }

  /** Forgets a peer; returns the chunks that were in flight from it, now back in the pool. */
  removePeer(peerId: string): number[] {
    const field = this.peers.get(peerId)
    if (!field) return []
    for (const index of field.indexes()) this.availability[index]!--
    this.peers.delete(peerId)
    const released: number[] = []
    for (const [index, owner] of this.inFlight) {
      if (owner === peerId) {
        this.inFlight.delete(index)
        released.push(index)
      }
    }
    return released
  }

  inFlightFrom(peerId: string): number {
    let n = 0
    for (const owner of this.inFlight.values()) if (owner === peerId) n++
    return n
  }

  /** Picks up to `slots` chunks this peer can serve, rarest first, ties broken at random. */
  assign(peerId: string, slots: number): number[] {
    const field = this.peers.get(peerId)
    if (!field || slots <= 0) return []
    const candidates: { index: number; rarity: number; tie: number }[] = []
    for (let index = 0; index < this.total; index++) {
      if (this.have.get(index) || this.inFlight.has(index) || !field.get(index)) continue
      candidates.push({ index, rarity: this.availability[index]!, tie: this.random() })
    }
    candidates.sort((a, b) => a.rarity - b.rarity || a.tie - b.tie)
    const picked = candidates.slice(0, slots).map((c) => c.index)
    for (const index of picked) this.inFlight.set(index, peerId)
    return picked
  }

  /** A request failed (timeout, reject, bad hash): the chunk is free to ask anyone for. */
  release(index: number): void {
    this.inFlight.delete(index)
  }

  /** The chunk was verified and stored. */
  complete(index: number): void {
    this.inFlight.delete(index)
    this.have.set(index)
  }

  /** Missing chunks that no known peer holds. */
  unavailable(): number[] {
    return this.have.missing().filter((index) => this.availability[index] === 0)
  }
}
