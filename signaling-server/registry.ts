import { Bitfield } from '../src/protocol/bitfield'
import { toBase64 } from '../src/protocol/encoding'
import type { Manifest } from '../src/protocol/manifest'
import type { FileSummary, SwarmPeer } from '../src/protocol/tracker'

/**
 * The tracker's soft state: which files exist, who is in each file's swarm and which chunks
 * each member holds. Asynchronous so that a shared (Redis) implementation fits the same shape.
 */
export interface Registry {
  /** Adds the peer to the file's swarm holding `have` (default: every chunk); registers the file if new. */
  publish(peerId: string, fileId: string, manifest: Manifest, have?: Bitfield): Promise<SwarmPeer>
  /** Joins the swarm of a known file (holding nothing yet); undefined if the file is unknown. */
  join(peerId: string, fileId: string): Promise<{ manifest: Manifest; peers: SwarmPeer[]; self: SwarmPeer } | undefined>
  /** Records chunks a member verified; false if the peer is not in that swarm. */
  have(peerId: string, fileId: string, indexes: number[]): Promise<boolean>
  /** Clears chunks a member no longer holds; false if the peer is not in that swarm. */
  lost(peerId: string, fileId: string, indexes: number[]): Promise<boolean>
  /** Leaves one swarm; false if the peer was not in it. */
  leave(peerId: string, fileId: string): Promise<boolean>
  /** Leaves every swarm; returns the files it was in. */
  removePeer(peerId: string): Promise<string[]>
  members(fileId: string): Promise<string[]>
  /** The file's manifest and every member with what it holds; undefined if the file is unknown. */
  swarm(fileId: string): Promise<{ manifest: Manifest; peers: SwarmPeer[] } | undefined>
  isMember(peerId: string, fileId: string): Promise<boolean>
  /** How many swarms the peer is in. */
  swarmsOf(peerId: string): Promise<number>
  list(): Promise<FileSummary[]>
}

interface FileRecord {
  manifest: Manifest
  holders: Map<string, Bitfield>
}

export class MemoryRegistry implements Registry {
  private readonly files = new Map<string, FileRecord>()
  private readonly memberships = new Map<string, Set<string>>()

  async publish(peerId: string, fileId: string, manifest: Manifest, have?: Bitfield): Promise<SwarmPeer> {
    let record = this.files.get(fileId)
    if (!record) this.files.set(fileId, (record = { manifest, holders: new Map() }))
    const field = have ?? Bitfield.full(manifest.hashes.length)
    record.holders.set(peerId, field)
    this.swarmsFor(peerId).add(fileId)
    return { peerId, have: toBase64(field.bytes) }
  }

  async join(peerId: string, fileId: string) {
    const record = this.files.get(fileId)
    if (!record) return undefined
    let field = record.holders.get(peerId)
    if (!field) record.holders.set(peerId, (field = new Bitfield(record.manifest.hashes.length)))
    this.swarmsFor(peerId).add(fileId)
    const peers = [...record.holders].filter(([id]) => id !== peerId).map(([id, have]) => ({ peerId: id, have: toBase64(have.bytes) }))
    return { manifest: record.manifest, peers, self: { peerId, have: toBase64(field.bytes) } }
  }

  async have(peerId: string, fileId: string, indexes: number[]): Promise<boolean> {
    const field = this.files.get(fileId)?.holders.get(peerId)
    if (!field || indexes.some((index) => index >= field.length)) return false
    for (const index of indexes) field.set(index)
    return true
  }

  async lost(peerId: string, fileId: string, indexes: number[]): Promise<boolean> {
    const field = this.files.get(fileId)?.holders.get(peerId)
    if (!field || indexes.some((index) => index >= field.length)) return false
    for (const index of indexes) field.set(index, false)
    return true
  }

  async leave(peerId: string, fileId: string): Promise<boolean> {
    const record = this.files.get(fileId)
    if (!record?.holders.delete(peerId)) return false
    this.memberships.get(peerId)?.delete(fileId)
    // A file nobody is in is forgotten; it stays in every library that holds it.
    if (record.holders.size === 0) this.files.delete(fileId)
    return true
  }

  async removePeer(peerId: string): Promise<string[]> {
    const fileIds = [...(this.memberships.get(peerId) ?? [])]
    for (const fileId of fileIds) await this.leave(peerId, fileId)
    this.memberships.delete(peerId)
    return fileIds
  }

  async members(fileId: string): Promise<string[]> {
    return [...(this.files.get(fileId)?.holders.keys() ?? [])]
  }

  async swarm(fileId: string) {
    const record = this.files.get(fileId)
    if (!record) return undefined
    return { manifest: record.manifest, peers: [...record.holders].map(([peerId, have]) => ({ peerId, have: toBase64(have.bytes) })) }
  }

  async isMember(peerId: string, fileId: string): Promise<boolean> {
    return this.files.get(fileId)?.holders.has(peerId) ?? false
  }

  async swarmsOf(peerId: string): Promise<number> {
    return this.memberships.get(peerId)?.size ?? 0
  }

  async list(): Promise<FileSummary[]> {
    return [...this.files].map(([fileId, { manifest, holders }]) => {
      const count = manifest.hashes.length
      const somewhere = new Bitfield(count)
      let seeders = 0
      for (const field of holders.values()) {
        if (field.isComplete()) seeders++
        for (const index of field.indexes()) somewhere.set(index)
      }
      return {
        fileId,
        name: manifest.name,
        size: manifest.size,
        chunkCount: count,
        peers: holders.size,
        seeders,
        availability: count === 0 ? (holders.size > 0 ? 1 : 0) : somewhere.count() / count,
      }
    })
  }

  private swarmsFor(peerId: string): Set<string> {
    let set = this.memberships.get(peerId)
    if (!set) this.memberships.set(peerId, (set = new Set()))
    return set
  }
}
