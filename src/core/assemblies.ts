/**
 * Chunks arriving piece by piece: for each requested (chunk, peer) the bytes received so far.
 * Two peers may deliver the same chunk in endgame. Pure bookkeeping; the clock is passed in.
 */
export interface Assembly {
  buffer: Uint8Array<ArrayBuffer>
  received: number
  lastActivity: number
}

export class Assemblies {
  private readonly byChunk = new Map<number, Map<string, Assembly>>()

  start(index: number, peerId: string, length: number, now: number): void {
    let byPeer = this.byChunk.get(index)
    if (!byPeer) this.byChunk.set(index, (byPeer = new Map()))
    byPeer.set(peerId, { buffer: new Uint8Array(length), received: 0, lastActivity: now })
  }

  has(index: number, peerId: string): boolean {
    return this.byChunk.get(index)?.has(peerId) ?? false
  }

  /**
   * Adds a piece from a peer; returns the whole chunk once every byte arrived (and forgets it),
   * undefined while incomplete, or null when nothing was expected from that peer.
   */
  add(index: number, peerId: string, offset: number, bytes: Uint8Array, now: number): Uint8Array<ArrayBuffer> | undefined | null {
    const assembly = this.byChunk.get(index)?.get(peerId)
    if (!assembly) return null
    assembly.buffer.set(bytes, offset)
    assembly.received += bytes.length
    assembly.lastActivity = now
    if (assembly.received < assembly.buffer.length) return undefined
    this.forget(index, peerId)
    return assembly.buffer
  }

  forget(index: number, peerId: string): void {
    const byPeer = this.byChunk.get(index)
    byPeer?.delete(peerId)
    if (byPeer?.size === 0) this.byChunk.delete(index)
  }

  /** How long since a byte of this chunk last came from this peer (or since it was asked); 0 when not expected. */
  quietFor(index: number, peerId: string, now: number): number {
    const assembly = this.byChunk.get(index)?.get(peerId)
    return assembly ? now - assembly.lastActivity : 0
  }

  /** Chunk indexes arriving from a peer. */
  fromPeer(peerId: string): number[] {
    return [...this.byChunk].filter(([, byPeer]) => byPeer.has(peerId)).map(([index]) => index)
  }

  /** Removes and returns the assemblies with no data for longer than `timeoutMs`. */
  takeStalled(now: number, timeoutMs: number): { index: number; peerId: string; length: number }[] {
    const stalled: { index: number; peerId: string; length: number }[] = []
    for (const [index, byPeer] of this.byChunk) {
      for (const [peerId, assembly] of byPeer) {
        if (now - assembly.lastActivity > timeoutMs) stalled.push({ index, peerId, length: assembly.buffer.length })
      }
    }
    for (const { index, peerId } of stalled) this.forget(index, peerId)
    return stalled
  }
}
