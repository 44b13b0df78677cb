import { decodeBitfield, type Bitfield } from '../protocol/bitfield'
import { toBase64 } from '../protocol/encoding'
import type { Manifest } from '../protocol/manifest'
import { MAX_REPORTED_LINKS, type ServerMessage } from '../protocol/tracker'
import type { Cancel, Clock, TrackerPort } from '../core/ports'
import type { TransferNotice } from '../core/transfer-state'
import type { SwarmMembers } from './swarm-members'

/** Pushes that arrive while the located manifest is still being checked are kept, up to this many. */
const MAX_EARLY_PUSHES = 1000
/** How often a tab uploading to others reports its rates to the tracker. */
export const RATE_REPORT_INTERVAL_MS = 2_000
/** Chunk announcements to the tracker are batched over this long. */
export const HAVE_BATCH_MS = 200
/** A locate the tracker could not answer (its storage failing, or no reply in time) is asked again after this. */
export const LOCATE_RETRY_MS = 1_500

export interface SwarmNewsDeps {
  fileId: string
  tracker: TrackerPort
  clock: Clock
  /** The file's members, once its manifest is known. */
  members: () => SwarmMembers | undefined
  manifest: () => Manifest | undefined
  /** What this peer holds; undefined until the manifest is known. */
  have: () => Bitfield | undefined
  isComplete: () => boolean
  isPaused: () => boolean
  /** The sharer lets the tracker point keepers at this file. */
  keepersAllowed: () => boolean
  /** The tracker's manifest for a link opened without one: true once checked, stored and adopted. */
  adopt: (manifest: Manifest) => Promise<boolean>
  fail: (notice: TransferNotice) => void
  /** Dial more peers if useful. */
  connectMore: () => void
  /** Another peer published the file this link waits for. */
  onAvailable: () => void
  onChange: () => void
}

/**
 * What the tracker and this file's swarm say to each other: publishing what we hold, locating the
 * swarm, pushes about members and their chunks, batched chunk announcements and upload-rate reports.
 */
export class SwarmNews {
  private readonly pendingHave: number[] = []
  private readonly earlyPushes: ServerMessage[] = []
  /** A locate is waiting for its reply; `availableMeanwhile`: the file was announced available during it. */
  private locating = false
  private availableMeanwhile = false
  private cancelHaveBatch: Cancel | undefined
  private cancelLocateRetry: Cancel | undefined
  private lastRateReport = { at: 0, empty: true }

  constructor(private readonly deps: SwarmNewsDeps) {}

  private get online(): boolean {
    return this.deps.tracker.status === 'online'
  }

  close(): void {
    this.cancelHaveBatch?.()
    this.cancelLocateRetry?.()
  }

  /** Registers the file with the tracker with what this peer holds (all of it, or part). */
  async announce(): Promise<void> {
    const manifest = this.deps.manifest()
    const have = this.deps.have()
    if (!manifest || !have || this.deps.isPaused() || !this.online) return
    const partial = this.deps.isComplete() ? {} : { have: toBase64(have.bytes) }
    const keepers = this.deps.keepersAllowed() ? { keepers: true as const } : {}
    await this.deps.tracker.request({ type: 'publish', manifest, ...partial, ...keepers }).catch(() => undefined) // re-sent on reconnect
  }

  /** Leaves the swarm (paused or removed). */
  withdraw(): void {
    if (this.online) this.deps.tracker.send({ type: 'unpublish', fileId: this.deps.fileId })
  }

  /** Asks the tracker for the manifest (unless we have it) and the peers that hold chunks. */
  async locate(): Promise<void> {
    const { deps } = this
    if (!this.online) return deps.onChange()
    let reply: ServerMessage
    this.locating = true
    this.availableMeanwhile = false
    try {
      reply = await deps.tracker.request({ type: 'locate', fileId: deps.fileId })
    } catch {
      // Offline again: located anew when the tracker is back. Still online: it did not answer in time.
      if (this.online) this.locateLater()
      return
    } finally {
      this.locating = false
    }
    if (reply.type === 'error') {
      // The tracker's storage is failing (a Redis outage): not an answer about the file.
      if (reply.code === 'internal' || reply.code === 'unavailable') return this.locateLater()
      if (deps.manifest()) return
      if (reply.code === 'not-found' && this.availableMeanwhile) return this.locate()
      deps.fail(reply.code === 'not-found' ? { kind: 'not-shared' } : { kind: 'tracker-refused', reason: reply.message })
      return
    }
    if (reply.type !== 'location') return
    if (!deps.manifest() && !(await deps.adopt(reply.manifest))) return
    for (const peer of reply.peers) this.learn(peer.peerId, peer.have)
    for (const push of this.earlyPushes.splice(0)) this.receive(push)
    deps.connectMore()
    deps.onChange()
  }

  private locateLater(): void {
    this.cancelLocateRetry?.()
    this.cancelLocateRetry = this.deps.clock.after(LOCATE_RETRY_MS, () => {
      this.cancelLocateRetry = undefined
      if (!this.locating) void this.locate() // one under way (after a reconnect) answers for it
    })
  }

  /** A tracker push about this file. */
  receive(message: ServerMessage): void {
    if (message.type === 'file-available') {
      // Told while a locate is on its way: if that locate comes back "not found", it is asked again.
      if (this.locating) this.availableMeanwhile = true
      return this.deps.onAvailable()
    }
    const members = this.deps.members()
    if (!members) {
      // The location reply is still being checked and stored: replay these after it.
      if (this.earlyPushes.length < MAX_EARLY_PUSHES) this.earlyPushes.push(message)
      return
    }
    switch (message.type) {
      case 'peer-joined':
        this.learn(message.peer.peerId, message.peer.have)
        break
      case 'peer-have':
        members.swarmHas(message.peerId, message.indexes, true)
        break
      case 'peer-lost':
        members.swarmHas(message.peerId, message.indexes, false)
        break
      case 'swarm-news':
        for (const { peerId, have, lost } of message.changes) {
          if (have) members.swarmHas(peerId, have, true)
          if (lost) members.swarmHas(peerId, lost, false)
        }
        break
      case 'peer-left':
        members.peerLeft(message.peerId)
        break
      default:
        return
    }
    this.deps.connectMore()
    this.deps.onChange()
  }

  /** A chunk was verified and stored: told to the tracker in a batch. */
  queueHave(index: number): void {
    this.pendingHave.push(index)
    this.cancelHaveBatch ??= this.deps.clock.after(HAVE_BATCH_MS, () => {
      this.cancelHaveBatch = undefined
      const indexes = this.pendingHave.splice(0)
      if (indexes.length > 0) this.deps.tracker.send({ type: 'have', fileId: this.deps.fileId, indexes })
    })
  }

  /** A stored chunk turned out damaged. */
  lost(index: number): void {
    this.deps.tracker.send({ type: 'lost', fileId: this.deps.fileId, indexes: [index] })
  }

  /** Tells the tracker what this tab uploads to whom, for swarm views; silent while nothing flows. */
  reportRates(): void {
    const now = this.deps.clock.now()
    if (now - this.lastRateReport.at < RATE_REPORT_INTERVAL_MS || !this.online || this.deps.isPaused()) return
    const links = [...(this.deps.members()?.ready() ?? [])]
      .map((member) => ({ to: member.id, rate: Math.round(member.upRate(now)) }))
      .filter((link) => link.rate > 0)
      .slice(0, MAX_REPORTED_LINKS)
    if (links.length === 0 && this.lastRateReport.empty) return
    this.lastRateReport = { at: now, empty: links.length === 0 }
    this.deps.tracker.send({ type: 'rates', fileId: this.deps.fileId, links })
  }

  /** A swarm member and its chunks, as the tracker reports them; a malformed bitfield is not trusted. */
  private learn(peerId: string, haveBase64: string): void {
    const manifest = this.deps.manifest()
    const members = this.deps.members()
    if (!manifest || !members) return
    const decoded = decodeBitfield(haveBase64, manifest.hashes.length)
    if (!decoded.ok) {
      console.warn(`The tracker sent a malformed bitfield for peer ${peerId} (${decoded.message}); the peer is ignored.`)
      return
    }
    members.learn(peerId, decoded.bitfield)
  }
}
