import { Bitfield } from '../src/protocol/bitfield'
import { toBase64 } from '../src/protocol/encoding'
import { isListed, type Manifest } from '../src/protocol/manifest'
import type { FileSummary, SwarmPeer, WantedFile } from '../src/protocol/tracker'

/** A member's reported upload rates count for this long. */
export const RATE_REPORT_TTL_MS = 5_000

export interface RateReport {
  from: string
  links: { to: string; rate: number }[]
}

export type SignalRoute = { instance: string } | { refused: 'unknown-peer' | 'not-in-swarm' }

/**
 * The tracker's soft state, shared by every tracker instance using it: which files exist, who is
 * in each file's swarm, which chunks each member holds, and which instance each peer is connected
 * to (its owner: `instance/session`), kept only while that instance refreshes it.
 */
export interface Registry {
  /**
   * Adds the peer to the file's swarm holding `have` (default: every chunk); registers the file if
   * new. `keepers`: keepers may be pointed at it (a listed file always; a private one once a sharer says so).
   */
  publish(peerId: string, fileId: string, manifest: Manifest, have?: Bitfield, keepers?: boolean): Promise<SwarmPeer>
  /** Joins the swarm of a known file (holding nothing yet); undefined if the file is unknown. */
  join(peerId: string, fileId: string): Promise<{ manifest: Manifest; peers: SwarmPeer[]; self: SwarmPeer } | undefined>
  /** Records chunks a member verified; false if the peer is not in that swarm or an index is out of range. */
  have(peerId: string, fileId: string, indexes: number[]): Promise<boolean>
  /** Clears chunks a member no longer holds; false as for `have`. */
  lost(peerId: string, fileId: string, indexes: number[]): Promise<boolean>
  /** Leaves one swarm; false if the peer was not in it. A swarm nobody is in is forgotten. */
  leave(peerId: string, fileId: string): Promise<boolean>
  /** The file's manifest and every member with what it holds; undefined if the file is unknown. */
  swarm(fileId: string): Promise<{ manifest: Manifest; peers: SwarmPeer[] } | undefined>
  /** True if the peer is in the file's swarm already or in fewer than `maxSwarms` swarms. */
  roomFor(peerId: string, fileId: string, maxSwarms: number): Promise<boolean>
  /** The listed (public) files; private links' files are left out. */
  list(): Promise<FileSummary[]>
  /** Files keepers may hold whose chunks are all somewhere in the swarm, in no order. */
  wanted(): Promise<WantedFile[]>

  /** Stores what a member uploads to whom; false if it is not in the swarm. */
  reportRates(peerId: string, fileId: string, links: RateReport['links']): Promise<boolean>
  /** Reports younger than RATE_REPORT_TTL_MS. */
  rates(fileId: string): Promise<RateReport[]>

  /**
   * Records that the peer is connected to `instance` in `session`, alive for the registry's TTL.
   * A peer claimed before (a reconnect) leaves every swarm first; returns its former owner and those files.
   */
  claim(peerId: string, instance: string, session: string): Promise<{ previous: Owner | undefined; fileIds: string[] }>
  /** Forgets the peer if this session still owns it and returns the files it left; otherwise undefined. */
  release(peerId: string, instance: string, session: string): Promise<string[] | undefined>
  /** Keeps these peers alive for another TTL; returns those no longer registered (expired meanwhile). */
  refresh(peerIds: string[]): Promise<string[]>
  /** Forgets up to `max` peers whose owner stopped refreshing them; each is returned (to one caller only) with the files it left. */
  expire(max: number): Promise<{ peerId: string; fileIds: string[] }[]>
  /** Which instance a signal from `from` to `to` about `fileId` goes to, or why it may not be sent. */
  signalRoute(from: string, to: string, fileId: string): Promise<SignalRoute>
  /** Files with a swarm, and peers registered, on every instance (for metrics). */
  counts(): Promise<{ files: number; peers: number }>
  close(): Promise<void>
}

export interface Owner {
  instance: string
  session: string
}

/** What the file list shows of one swarm, from the members' bitfields. */
export function summarize(fileId: string, manifest: { name: string; size: number }, count: number, fields: Bitfield[]): FileSummary {
  const somewhere = new Bitfield(count)
  let seeders = 0
  for (const field of fields) {
    if (field.isComplete()) seeders++
    for (const index of field.indexes()) somewhere.set(index)
  }
  return {
    fileId,
    name: manifest.name,
    size: manifest.size,
    chunkCount: count,
    peers: fields.length,
    seeders,
    availability: count === 0 ? (fields.length > 0 ? 1 : 0) : somewhere.count() / count,
  }
}

/** What a keeper is told of one swarm, or undefined when no keeper could fetch it whole (or it is empty). */
export function wantedOf(fileId: string, size: number, count: number, fields: Bitfield[]): WantedFile | undefined {
  const summary = summarize(fileId, { name: '', size }, count, fields)
  if (count === 0 || summary.availability < 1) return undefined
  return { fileId, size, copies: summary.seeders, downloaders: summary.peers - summary.seeders }
}

interface FileRecord {
  manifest: Manifest
  keepers: boolean
  holders: Map<string, Bitfield>
  rates: Map<string, { links: RateReport['links']; at: number }>
}

/** The registry of a single tracker instance, in its own memory (the default). */
export class MemoryRegistry implements Registry {
  private readonly files = new Map<string, FileRecord>()
  private readonly memberships = new Map<string, Set<string>>()
  private readonly owners = new Map<string, Owner & { deadline: number }>()

  constructor(
    private readonly peerTtlMs = 20_000,
    private readonly now: () => number = Date.now,
  ) {}

  async publish(peerId: string, fileId: string, manifest: Manifest, have?: Bitfield, keepers = false): Promise<SwarmPeer> {
    let record = this.files.get(fileId)
    if (!record) this.files.set(fileId, (record = { manifest, keepers: isListed(manifest), holders: new Map(), rates: new Map() }))
    record.keepers ||= keepers
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
    return this.mark(peerId, fileId, indexes, true)
  }

  async lost(peerId: string, fileId: string, indexes: number[]): Promise<boolean> {
    return this.mark(peerId, fileId, indexes, false)
  }

  async leave(peerId: string, fileId: string): Promise<boolean> {
    return this.drop(peerId, fileId)
  }

  private drop(peerId: string, fileId: string): boolean {
    const record = this.files.get(fileId)
    if (!record?.holders.delete(peerId)) return false
    record.rates.delete(peerId)
    this.memberships.get(peerId)?.delete(fileId)
    // A file nobody is in is forgotten; it stays in every library that holds it.
    if (record.holders.size === 0) this.files.delete(fileId)
    return true
  }

  async swarm(fileId: string) {
    const record = this.files.get(fileId)
    if (!record) return undefined
    return { manifest: record.manifest, peers: [...record.holders].map(([peerId, have]) => ({ peerId, have: toBase64(have.bytes) })) }
  }

  async roomFor(peerId: string, fileId: string, maxSwarms: number): Promise<boolean> {
    const swarms = this.memberships.get(peerId)
    return (swarms?.has(fileId) ?? false) || (swarms?.size ?? 0) < maxSwarms
  }

  /** Listed files only: a private link's (sealed) file is known only to whoever has its id. */
  async list(): Promise<FileSummary[]> {
    return [...this.files].flatMap(([fileId, { manifest, holders }]) =>
      isListed(manifest) ? [summarize(fileId, manifest, manifest.hashes.length, [...holders.values()])] : [],
    )
  }

  async wanted(): Promise<WantedFile[]> {
    return [...this.files].flatMap(([fileId, { manifest, holders, keepers }]) => {
      const wanted = keepers && wantedOf(fileId, manifest.size, manifest.hashes.length, [...holders.values()])
      return wanted ? [wanted] : []
    })
  }

  async reportRates(peerId: string, fileId: string, links: RateReport['links']): Promise<boolean> {
    const record = this.files.get(fileId)
    if (!record?.holders.has(peerId)) return false
    record.rates.set(peerId, { links, at: this.now() })
    return true
  }

  async rates(fileId: string): Promise<RateReport[]> {
    const now = this.now()
    const reports = [...(this.files.get(fileId)?.rates ?? [])]
    return reports.filter(([, report]) => now - report.at <= RATE_REPORT_TTL_MS).map(([from, { links }]) => ({ from, links }))
  }

  async claim(peerId: string, instance: string, session: string) {
    const previous = this.owners.get(peerId)
    const fileIds = previous ? this.leaveAll(peerId) : []
    this.owners.set(peerId, { instance, session, deadline: this.now() + this.peerTtlMs })
    return { previous: previous && { instance: previous.instance, session: previous.session }, fileIds }
  }

  async release(peerId: string, instance: string, session: string): Promise<string[] | undefined> {
    const owner = this.owners.get(peerId)
    if (owner?.instance !== instance || owner.session !== session) return undefined
    this.owners.delete(peerId)
    return this.leaveAll(peerId)
  }

  async refresh(peerIds: string[]): Promise<string[]> {
    const deadline = this.now() + this.peerTtlMs
    const missing: string[] = []
    for (const peerId of peerIds) {
      const owner = this.owners.get(peerId)
      if (owner) owner.deadline = deadline
      else missing.push(peerId)
    }
    return missing
  }

  async expire(max: number): Promise<{ peerId: string; fileIds: string[] }[]> {
    const now = this.now()
    const expired: { peerId: string; fileIds: string[] }[] = []
    for (const [peerId, owner] of this.owners) {
      if (expired.length >= max) break
      if (owner.deadline > now) continue
      this.owners.delete(peerId)
      expired.push({ peerId, fileIds: this.leaveAll(peerId) })
    }
    return expired
  }

  async signalRoute(from: string, to: string, fileId: string): Promise<SignalRoute> {
    const owner = this.owners.get(to)
    if (!owner) return { refused: 'unknown-peer' }
    const holders = this.files.get(fileId)?.holders
    if (!holders?.has(from) || !holders.has(to)) return { refused: 'not-in-swarm' }
    return { instance: owner.instance }
  }

  async counts(): Promise<{ files: number; peers: number }> {
    return { files: this.files.size, peers: this.owners.size }
  }

  async close(): Promise<void> {}

  private mark(peerId: string, fileId: string, indexes: number[], value: boolean): boolean {
    const field = this.files.get(fileId)?.holders.get(peerId)
    if (!field || indexes.some((index) => index >= field.length)) return false
    for (const index of indexes) field.set(index, value)
    return true
  }

  private leaveAll(peerId: string): string[] {
    const fileIds = [...(this.memberships.get(peerId) ?? [])]
    for (const fileId of fileIds) this.drop(peerId, fileId)
    this.memberships.delete(peerId)
    return fileIds
  }

  private swarmsFor(peerId: string): Set<string> {
    let set = this.memberships.get(peerId)
    if (!set) this.memberships.set(peerId, (set = new Set()))
    return set
  }
}
