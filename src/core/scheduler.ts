import { Bitfield } from '../protocol/bitfield'
import type { ChunkStates } from './piece-map'

/** In endgame a chunk may be requested from this many peers at once. */
export const ENDGAME_MAX_REQUESTERS = 2

/**
 * Decides which chunk to ask which peer for. Pure: no I/O, no timers, randomness injected.
 * Rarest first (by the availability this downloader sees), random tie-break. Once every chunk
 * still missing is requested (endgame), the remaining ones may also be asked of a second peer;
 * the first copy to arrive wins and the engine cancels the rest. A chunk goes back to the pool
 * the moment its last request is released or its peer is removed.
 */
export class ChunkScheduler {
  private readonly have: Bitfield
  private readonly availability: Uint16Array
  private readonly peers = new Map<string, Bitfield>()
  /** Chunk index → peers it is requested from. */
  private readonly inFlight = new Map<number, Set<string>>()
  /** Chunks wanted before any other, in this order (a media player's window). */
  private urgent: number[] = []

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

  /** A live read-only view of every chunk, for drawing a piece map. */
  chunkStates(): ChunkStates {
    return { total: this.total, has: (index) => this.have.get(index), downloading: this.inFlight, availability: this.availability }
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

  /** Forgets a peer; returns the chunks that were requested from it (the requests are void). */
  removePeer(peerId: string): number[] {
    const field = this.peers.get(peerId)
    if (!field) return []
    for (const index of field.indexes()) this.availability[index]!--
    this.peers.delete(peerId)
    const released: number[] = []
    for (const [index, owners] of this.inFlight) {
      if (owners.delete(peerId)) {
        released.push(index)
        if (owners.size === 0) this.inFlight.delete(index)
      }
    }
    return released
  }

  inFlightFrom(peerId: string): number {
    let n = 0
    for (const owners of this.inFlight.values()) if (owners.has(peerId)) n++
    return n
  }

  /** True once every missing chunk that some peer holds is already requested. */
  get inEndgame(): boolean {
    for (let index = 0; index < this.total; index++) {
      if (!this.have.get(index) && !this.inFlight.has(index) && this.availability[index]! > 0) return false
    }
    return !this.isComplete
  }

  /** Chunks nobody has been asked for yet that at least one peer holds. */
  unrequestedAvailable(): number {
    let n = 0
    for (let index = 0; index < this.total; index++) {
      if (!this.have.get(index) && !this.inFlight.has(index) && this.availability[index]! > 0) n++
    }
    return n
  }

  /** Chunks this peer holds that we lack and nobody has been asked for yet. */
  unrequestedFrom(peerId: string): number {
    const field = this.peers.get(peerId)
    if (!field) return 0
    let n = 0
    for (const index of field.indexes()) if (!this.have.get(index) && !this.inFlight.has(index)) n++
    return n
  }

  /** Chunks to fetch before all others, in order (out-of-range ones are ignored); [] for none. */
  setUrgent(indexes: number[]): void {
    this.urgent = indexes.filter((index) => Number.isInteger(index) && index >= 0 && index < this.total)
  }

  /**
   * Picks up to `slots` chunks this peer can serve: the urgent ones first, in order (unless
   * `urgent` is false: a slow peer is not given them), then rarest first, ties at random; endgame
   * duplicates last.
   */
  assign(peerId: string, slots: number, options: { endgame: boolean; urgent?: boolean } = { endgame: true }): number[] {
    const field = this.peers.get(peerId)
    if (!field || slots <= 0) return []
    const wanted = (index: number) => !this.have.get(index) && !this.inFlight.has(index) && field.get(index)
    const picked = options.urgent === false ? [] : this.urgent.filter(wanted).slice(0, slots)
    const fresh: { index: number; rarity: number; tie: number }[] = []
    for (let index = 0; index < this.total && picked.length < slots; index++) {
      if (!wanted(index) || picked.includes(index)) continue
      fresh.push({ index, rarity: this.availability[index]!, tie: this.random() })
    }
    fresh.sort((a, b) => a.rarity - b.rarity || a.tie - b.tie)
    picked.push(...fresh.slice(0, slots - picked.length).map((c) => c.index))
    if (picked.length < slots && options.endgame && this.inEndgame) {
      const duplicates: { index: number; requesters: number; tie: number }[] = []
      for (const [index, owners] of this.inFlight) {
        if (owners.has(peerId) || owners.size >= ENDGAME_MAX_REQUESTERS || !field.get(index)) continue
        duplicates.push({ index, requesters: owners.size, tie: this.random() })
      }
      duplicates.sort((a, b) => a.requesters - b.requesters || a.tie - b.tie)
      picked.push(...duplicates.slice(0, slots - picked.length).map((c) => c.index))
    }
    for (const index of picked) {
      let owners = this.inFlight.get(index)
      if (!owners) this.inFlight.set(index, (owners = new Set()))
      owners.add(peerId)
    }
    return picked
  }

  /** A request failed (timeout, reject, bad hash, choke): if nobody else is asked, the chunk is free again. */
  release(index: number, peerId: string): void {
    const owners = this.inFlight.get(index)
    if (!owners) return
    owners.delete(peerId)
    if (owners.size === 0) this.inFlight.delete(index)
  }

  /** The chunk was verified and stored; returns the other peers it was still requested from. */
  complete(index: number): string[] {
    const others = [...(this.inFlight.get(index) ?? [])]
    this.inFlight.delete(index)
    this.have.set(index)
    return others
  }

  /** A stored chunk turned out damaged: it is missing again and can be fetched anew. */
  lose(index: number): void {
    this.have.set(index, false)
  }

  /** Missing chunks that no known peer holds. */
  unavailable(): number[] {
    return this.have.missing().filter((index) => this.availability[index] === 0)
  }
}
