import { Bitfield } from '../protocol/bitfield'
import type { Manifest } from '../protocol/manifest'
import type { ServerMessage, SignalData } from '../protocol/tracker'
import type { PieceMap } from '../core/piece-map'
import { RateMeter } from '../core/rate-meter'
import type { Bandwidth } from '../core/rate-limit'
import type { Cancel, Clock, LibraryEntry, LibraryRole, PeerLinkFactory, RelayOption, Stores, TrackerPort } from '../core/ports'
import { transferStatus, type TransferNotice, type TransferStatus } from '../core/transfer-state'
import { MAX_LANES_PER_MEMBER } from '../core/lane-controller'
import { ActiveFile } from './active-file'
import { storeErrorDetail } from './chunk-checker'
import { SwarmNews } from './swarm-news'
import { entryOf, openContent, openLocated, type FileAccess, type FileContent } from './file-content'
import { transferView } from './transfer-view'
import type { TransferView } from './views'
import { playsInPage, readableFile, type ReadableFile } from './readable-file'

export const CONNECT_TIMEOUT_MS = 15_000
/** Timeouts, rechokes, pings and rate reports run this often. */
const TICK_MS = 1_000
/** A download paused because storage was full tries again this often (and when the page is back). */
export const STORAGE_RETRY_MS = 30_000

export interface SessionDeps {
  /** Bytes this site may still store, when the browser says; a download that cannot fit is refused. */
  spaceAvailable: () => Promise<number | undefined>
  /** Set where storage is off the record (a private window): a new download larger than this waits for the user. */
  privateWindow: { holdAboveBytes: number } | undefined
  /** How long a WebRTC connection may take to open before it counts as failed. */
  connectTimeoutMs: number
  /** Lanes (peer connections) per member at most; 1 turns extra lanes off. */
  maxLanes?: number
  stores: Stores
  tracker: TrackerPort
  links: PeerLinkFactory
  /** The service's relay, for peers no WebRTC connection reaches; undefined where there is none. */
  relay?: RelayOption | undefined
  bandwidth: Bandwidth
  clock: Clock
  random: () => number
  onChange: () => void
}

/**
 * Where a session is: locating (the manifest is not known yet: no link is taken), active (the
 * manifest is known and opened: the file's parts exist, built once), or closed.
 */
type SessionState = { kind: 'locating' } | { kind: 'active'; file: ActiveFile } | { kind: 'closed'; file: ActiveFile | undefined }

/**
 * One file in this peer: shares what it holds, fetches what it lacks. It owns the file's state
 * (locating, active, closed; paused, failed) and what the tracker and the user see of it.
 */
export class FileSession {
  private state: SessionState = { kind: 'locating' }
  /** Reading what the store holds, before the session knows its file. */
  private restoring: Promise<void> | undefined
  private status: TransferStatus
  private failure: TransferNotice | undefined
  private pauseReason: TransferNotice | undefined
  private readonly news: SwarmNews
  private readonly down = new RateMeter()
  private readonly up = new RateMeter()
  private readonly stopTicking: Cancel
  private paused = false
  private addedAt: number | undefined
  /** Paused for want of storage: when to look for room again. */
  private storageRetryAt = 0

  constructor(
    readonly fileId: string,
    readonly role: LibraryRole,
    private readonly deps: SessionDeps,
    /** The secret the link carried (a private file's key), or that this peer keeps the file without one. */
    private readonly access: FileAccess = {},
  ) {
    this.status = { state: role === 'shared' ? 'seeding' : 'locating', notice: undefined }
    this.news = new SwarmNews({
      fileId,
      tracker: deps.tracker,
      clock: deps.clock,
      members: () => this.active?.members,
      manifest: () => this.active?.manifest,
      have: () => this.active?.downloader.scheduler.haveBitfield(),
      isComplete: () => this.complete,
      isPaused: () => this.paused,
      keepersAllowed: () => this.access.keepers === true,
      adopt: (located) => this.adoptLocated(located),
      fail: (notice) => this.fail(notice),
      connectMore: () => this.connectMore(),
      onAvailable: () => this.retry(),
      onChange: () => this.changed(),
    })
    this.stopTicking = deps.clock.every(TICK_MS, () => this.tick())
  }

  /** The file's parts, once its manifest is known; undefined while locating and once closed. */
  private get active(): ActiveFile | undefined {
    return this.state.kind === 'active' ? this.state.file : undefined
  }

  private get closed(): boolean {
    return this.state.kind === 'closed'
  }

  get manifest(): Manifest | undefined {
    return this.active?.manifest
  }

  /** The sharer lets the tracker point keepers at this private file. */
  get keepersAllowed(): boolean {
    return this.access.keepers === true
  }

  /** Whether the file is private and could not be opened for want of (the right) key. */
  get lacksKey(): boolean {
    const kind = this.failure?.kind
    return kind === 'incomplete-link' || kind === 'wrong-key'
  }

  /** What the file is and where its bytes lie; undefined until the manifest is known (and opened). */
  get content(): FileContent | undefined {
    return this.active?.content
  }

  private get complete(): boolean {
    return this.active?.complete ?? false
  }

  /** Starts from what the store holds (a shared file, or a download resumed after reload). */
  restore(manifest: Manifest, entry?: LibraryEntry): Promise<void> {
    // The tracker may come online meanwhile: its locate waits for this, or it would start the
    // download again from nothing (seen after an engine restart under load).
    this.restoring = this.restoreFromStore(manifest, entry)
    return this.restoring
  }

  private async restoreFromStore(manifest: Manifest, entry?: LibraryEntry): Promise<void> {
    const content = await openContent(manifest, this.access)
    if (typeof content === 'string') return this.fail({ kind: content })
    const have = new Bitfield(manifest.hashes.length)
    for (const index of await this.deps.stores.chunks.storedChunks(this.fileId)) if (index < have.length) have.set(index)
    this.addedAt = entry?.addedAt
    this.paused = entry?.paused ?? false
    this.activate(manifest, content, have)
    if (!entry) await this.saveEntry()
  }

  uploadCapChanged(): void {
    this.active?.uploadCapChanged()
  }

  /** Holds the file back (no fetching, no seeding, gone from the tracker) or lets it go again. */
  async setPaused(paused: boolean): Promise<void> {
    if (this.paused === paused || !this.active) return
    this.paused = paused
    if (paused) {
      this.active.members.closeAll()
      this.news.withdraw()
    } else {
      this.pauseReason = undefined
    }
    this.changed()
    await this.saveEntry().catch(() => undefined)
    if (!paused) await this.onTrackerOnline()
  }

  /**
   * After (re)connecting to the tracker: tell it what we hold (a restarted tracker knows nothing,
   * so a partial copy registers the file too), then learn the swarm again.
   */
  async onTrackerOnline(): Promise<void> {
    await this.restoring?.catch(() => undefined)
    if (this.paused || this.closed) return
    await this.news.announce()
    if (this.complete) return
    if (!this.active) this.failure = undefined
    await this.news.locate()
  }

  handlePush(message: ServerMessage): void {
    this.news.receive(message)
  }

  /** A signal for this file. Links are taken only once the file is known (a handshake needs the manifest). */
  handleSignal(from: string, linkId: string, data: SignalData): void {
    if (this.closed || this.paused) return
    const active = this.active
    if (active) return active.members.accept(from, linkId, data)
    // Still locating: an offer is refused at once, so the peer tries again shortly rather than time out.
    if (data.type === 'offer')
      this.deps.tracker.send({ type: 'signal', to: from, fileId: this.fileId, link: linkId, data: { type: 'busy' } })
  }

  /** Paused because storage was full: resumes if there is room now for a chunk at least (where the browser says how much). */
  async retryStorage(): Promise<void> {
    const active = this.active
    if (!active || !this.paused || this.pauseReason?.kind !== 'storage-paused') return
    const space = await this.deps.spaceAvailable()
    if (space !== undefined && space < active.manifest.chunkSize) return
    await this.setPaused(false)
  }

  retry(): void {
    if (!this.failure) return
    this.failure = undefined
    this.changed()
    void this.news.locate()
  }

  close(): void {
    if (this.closed) return
    const file = this.active
    this.state = { kind: 'closed', file }
    this.stopTicking()
    this.news.close()
    file?.close()
  }

  /** Resolves once every chunk write that had started has finished (after close: none start). */
  async settled(): Promise<void> {
    const file = this.state.kind === 'locating' ? undefined : this.state.file
    await file?.checker.settled()
  }

  /** The complete stored file, backed by the store's files (never assembled in memory). */
  async storedFile(): Promise<Blob> {
    const { library } = this.deps.stores
    const active = this.active
    if (!active || !active.complete) throw new Error('The file is not complete yet.')
    if (!library) throw new Error('This peer keeps no files to save.')
    const { layout, meta } = active.content
    return library.fileBlob(this.fileId, layout, meta.type)
  }

  /** The file, or one file of its bundle, to read while it arrives; undefined until it is known, or for a keeper (it holds no key). */
  readable(path?: string): ReadableFile | undefined {
    const active = this.active
    if (!active || this.access.keeper) return undefined
    return readableFile(active.content, active.playback, path)
  }

  /** Chunks grouped into cells for drawing; undefined until the manifest is known. */
  pieceMap(): PieceMap | undefined {
    return this.active?.pieceMap()
  }

  view(): TransferView {
    const now = this.deps.clock.now()
    const active = this.active
    return transferView({
      fileId: this.fileId,
      role: this.role,
      known: active && { content: active.content, scheduler: active.downloader.scheduler },
      status: this.status,
      downRate: this.down.rate(now),
      upRate: this.up.rate(now),
      bytesUp: this.up.total,
      bytesDown: active?.downloader.bytesArrived ?? 0,
      peers: active?.peerViews() ?? [],
      addedAt: this.addedAt,
      paused: this.paused,
      kept: this.access.keeper === true,
    })
  }

  // ---- state ----

  /** Checks and stores the manifest the tracker sent for this link; false (and failed) if it is refused. */
  private async adoptLocated(manifest: Manifest): Promise<boolean> {
    const content = await openLocated(this.fileId, manifest, this.access, this.deps.spaceAvailable)
    if ('kind' in content) {
      this.fail(content)
      return false
    }
    if (this.state.kind !== 'locating') return !this.closed // a concurrent locate adopted it meanwhile
    try {
      await this.deps.stores.manifests.saveManifest(this.fileId, manifest, { kept: this.access.keeper === true })
      if (this.state.kind !== 'locating') return !this.closed
      this.holdIfPrivateWindow(content.meta.size)
      this.activate(manifest, content, new Bitfield(manifest.hashes.length))
      await this.saveEntry()
    } catch (error) {
      this.fail({ kind: 'storage-failed', detail: storeErrorDetail(error) })
      return false
    }
    return true
  }

  /** The manifest is known and opened: the file's parts are built, once. */
  private activate(manifest: Manifest, content: FileContent, have: Bitfield): void {
    if (this.state.kind !== 'locating') return
    const { deps } = this
    const file = new ActiveFile({
      fileId: this.fileId,
      manifest,
      content,
      have,
      tracker: deps.tracker,
      links: deps.links,
      relay: deps.relay,
      connectTimeoutMs: deps.connectTimeoutMs,
      maxLanes: deps.maxLanes ?? MAX_LANES_PER_MEMBER,
      clock: deps.clock,
      random: deps.random,
      bandwidth: deps.bandwidth,
      chunks: deps.stores.chunks,
      writer: deps.stores.writer,
      canFetch: () => !this.closed && !this.paused && !this.failure,
      isClosed: () => this.closed,
      onReceived: (bytes) => this.down.add(bytes, deps.clock.now()),
      onSent: (bytes) => this.up.add(bytes, deps.clock.now()),
      onStored: (index) => this.stored(index),
      onLinksChanged: () => {
        this.connectMore()
        this.changed()
      },
      onChange: () => this.changed(),
      onUnopenable: () => this.fail({ kind: 'wrong-key' }),
      onStorageFailed: (notice) => {
        this.pauseReason = notice
        this.storageRetryAt = deps.clock.now() + STORAGE_RETRY_MS
        void this.setPaused(true)
      },
      onDamaged: (index) => {
        this.news.lost(index)
        this.connectMore()
        this.changed()
      },
    })
    this.state = { kind: 'active', file }
    if (this.role === 'downloaded' && !this.access.keeper && playsInPage(content.meta)) file.playback.expectPlayer()
    this.updateStatus()
  }

  /** A new download too large for a private window's storage waits, paused, until the user says go (resume). */
  private holdIfPrivateWindow(size: number): void {
    const hold = this.deps.privateWindow
    if (!hold || size <= hold.holdAboveBytes) return
    this.paused = true
    this.pauseReason = { kind: 'private-window', size, holdAbove: hold.holdAboveBytes }
  }

  /** A chunk is verified and stored: the tracker hears of it (members did already). */
  private stored(index: number): void {
    this.news.queueHave(index)
    if (this.complete) void this.saveEntry().catch(() => undefined)
  }

  private async saveEntry(): Promise<void> {
    const content = this.active?.content
    const library = this.deps.stores.library
    if (!content || !library) return
    const now = this.deps.clock.now()
    this.addedAt ??= now
    const times = { addedAt: this.addedAt, updatedAt: now }
    await library.saveEntry(entryOf(this.fileId, this.role, content, this.access, times, this.paused))
  }

  private fail(notice: TransferNotice): void {
    this.failure = notice
    this.changed()
  }

  private updateStatus(): void {
    const active = this.active
    const scheduler = active?.downloader.scheduler
    this.status = transferStatus({
      role: this.role,
      failure: this.failure,
      paused: this.paused,
      pauseReason: this.pauseReason,
      chunks: scheduler && { total: scheduler.total, complete: scheduler.isComplete, missing: () => scheduler.haveBitfield().missing() },
      // A member still connecting or handshaking may hold what we need: not stalled yet.
      reachable: (missing) => active?.members.mayHold(missing) ?? false,
      relayedOnly: active?.members.relayedOnly(),
    })
  }

  private changed(): void {
    this.updateStatus()
    this.deps.onChange()
  }

  private connectMore(): void {
    const active = this.active
    if (this.paused || !active || active.complete || this.deps.tracker.status !== 'online') return
    active.members.dial(active.downloader.scheduler.haveBitfield().missing())
  }

  private tick(): void {
    this.active?.tick()
    const now = this.deps.clock.now()
    if (this.pauseReason?.kind === 'storage-paused' && this.paused && now >= this.storageRetryAt) {
      this.storageRetryAt = now + STORAGE_RETRY_MS
      void this.retryStorage()
    }
    this.connectMore()
    this.news.reportRates()
    this.changed()
  }
}
