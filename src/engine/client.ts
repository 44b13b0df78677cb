import { fileIdOf, FILE_ID_PATTERN, type Manifest } from '../protocol/manifest'
import type { ServerMessage } from '../protocol/tracker'
import { MAX_PIECE_BYTES } from '../protocol/wire'
import type { PieceMap } from '../core/piece-map'
import { TokenBucket, type Bandwidth } from '../core/rate-limit'
import {
  type Clock,
  type LibraryEntry,
  type LibraryRole,
  type PeerLinkFactory,
  type RelayOption,
  StoreError,
  type Stores,
  type TrackerPort,
} from '../core/ports'
import type { EngineApi } from './api'
import type { BundleEntry, SourceFile } from './describe-file'
import { ShareJobs } from './share-jobs'
import { CONNECT_TIMEOUT_MS, FileSession } from './file-session'
import { storeErrorDetail } from './chunk-checker'
import { SourceCopies } from './source-copies'
import { accessOf, type FileAccess } from './file-content'
import { TrackerViews, type TrackerFilePage, type SwarmView } from './tracker-views'
import { JoinCodes, type CodeLookup, type PresentedCode } from './join-codes'
import { KeeperDuty } from './keeper-duty'
import type { ReadableFile } from './readable-file'
import { fileForSaving, zipForSaving } from './saved-file'
import type { BandwidthLimits, ClientSnapshot, ShareOptions, TransferView } from './views'

/** A cap's burst is this share of a second's worth (at least one wire piece), so it stays smooth. */
const CAP_BURST_SECONDS = 0.25

export interface ClientDeps {
  /** Bytes the site may still store, if the browser tells (navigator.storage.estimate). */
  spaceAvailable?: () => Promise<number | undefined>
  /** Where storage is off the record (a private window): new downloads larger than this wait for the user's word. */
  privateWindow?: { holdAboveBytes: number }
  /** How long a WebRTC connection may take to open (CONNECT_TIMEOUT_MS unless set). */
  connectTimeoutMs?: number
  /** Peer connections per peer at most (MAX_LANES_PER_MEMBER unless set; 1: no extra lanes). */
  maxLanes?: number
  /** How often a keeper asks the tracker which files need it (KEEPER_POLL_MS unless set). */
  keeperPollMs?: number
  stores: Stores
  tracker: TrackerPort
  links: PeerLinkFactory
  /** The service's relay, for peers no WebRTC connection reaches. */
  relay?: RelayOption
  clock: Clock
  random: () => number
}

/** The engine API: shares files, opens links, hands out snapshots to render. */
export class SwarmClient implements EngineApi {
  private readonly sessions = new Map<string, FileSession>()
  private readonly listeners = new Set<() => void>()
  private restored: Promise<void> = Promise.resolve()
  private readonly bandwidth: Bandwidth = { up: undefined, down: undefined }
  private limits: BandwidthLimits = { up: undefined, down: undefined }
  /** Shared files still being copied into storage, served from their source meanwhile. */
  private readonly copies = new SourceCopies()
  private readonly shareJobs: ShareJobs
  /** The client's stores, reading files still being copied from their source. */
  private readonly stores: Stores

  /** The files shared on the tracker, and watched swarms. */
  private readonly trackerViews: TrackerViews
  private readonly joinCodes: JoinCodes
  /** Set while this peer donates space to keep files available. */
  private keeper: KeeperDuty | undefined

  constructor(private readonly deps: ClientDeps) {
    this.trackerViews = new TrackerViews(deps.tracker)
    this.joinCodes = new JoinCodes(deps.tracker)
    this.stores = { ...deps.stores, chunks: this.copies.reader(deps.stores.chunks) }
    this.shareJobs = new ShareJobs({
      stores: deps.stores,
      copies: this.copies,
      sessions: this.sessions,
      restored: () => this.restored,
      seed: (fileId, manifest, access) => this.startSession(fileId, 'shared', manifest, undefined, access),
      replace: (fileId) => this.sessions.get(fileId)?.close(),
      emit: () => this.emit(),
    })
  }

  start(): void {
    this.deps.tracker.onPush((message) => this.route(message))
    this.deps.tracker.onStatus((status) => {
      if (status === 'online') for (const session of this.sessions.values()) void session.onTrackerOnline()
      this.emit()
    })
    this.restored = this.restoreLibrary()
  }

  /** Caps this tab's total upload and download, in bytes per second; undefined lifts a cap. */
  setLimits(limits: BandwidthLimits): void {
    const now = this.deps.clock.now()
    const burst = (rate: number) => Math.max(MAX_PIECE_BYTES, rate * CAP_BURST_SECONDS)
    const bucket = (rate: number | undefined) => (rate ? new TokenBucket(rate, burst(rate), now) : undefined)
    this.limits = { ...limits }
    this.bandwidth.up = bucket(limits.up)
    this.bandwidth.down = bucket(limits.down)
    for (const session of this.sessions.values()) session.uploadCapChanged()
    this.emit()
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  snapshot(): ClientSnapshot {
    const transfers = this.transferViews()
    return {
      tracker: this.deps.tracker.status,
      peerId: this.deps.tracker.peerId,
      shares: this.shareJobs.jobs.map((job) => ({ ...job })),
      limits: { ...this.limits },
      transfers,
      keeping: this.keeper?.view(transfers),
    }
  }

  private transferViews(): Map<string, TransferView> {
    return new Map([...this.sessions].map(([fileId, session]) => [fileId, session.view()]))
  }

  /**
   * Hashes and stores a file, then publishes it. Resolves with its file id. Private unless
   * `listed`: encrypted with a new key that only its link carries (a file this tab already shares
   * privately keeps its link), and not on the tracker's list.
   */
  share(file: SourceFile, options: ShareOptions = {}): Promise<string | undefined> {
    return this.shareJobs.share(file, options)
  }

  /** Shares several files (or a folder, with relative paths) under one link. */
  shareBundle(name: string, entries: BundleEntry[], options: ShareOptions = {}): Promise<string | undefined> {
    return this.shareJobs.shareBundle(name, entries, options)
  }

  /**
   * Shares a file whose chunks the store already holds without copying them (the command-line
   * seeder's store reads them from the files on disk). Resolves with its file id.
   */
  async shareStored(manifest: Manifest, access: FileAccess = {}): Promise<string> {
    await this.restored
    const fileId = await fileIdOf(manifest)
    if (this.sessions.has(fileId)) return fileId
    await this.stores.manifests.saveManifest(fileId, manifest)
    await this.startSession(fileId, 'shared', manifest, undefined, access)
    return fileId
  }

  /**
   * Opens a share link (with its key, for a private file): resumes from storage if this browser
   * has part of the file. A session that failed for want of the right key starts again with a new one.
   */
  open(fileId: string, secret?: string): Promise<void> {
    return this.fetch(fileId, { secret })
  }

  /**
   * Fetches a file to keep it available for others without its key (the command-line keeper):
   * a private file's chunks are stored and served encrypted, as they travel.
   */
  keep(fileId: string): Promise<void> {
    return this.fetch(fileId, { keeper: true })
  }

  private async fetch(fileId: string, access: FileAccess): Promise<void> {
    if (!FILE_ID_PATTERN.test(fileId)) return
    await this.restored
    const existing = this.sessions.get(fileId)
    if (existing && !(access.secret && existing.lacksKey)) return
    existing?.close()
    this.sessions.delete(fileId)
    const stored = await this.stores.manifests.loadManifest(fileId).catch(() => undefined)
    if (this.sessions.has(fileId)) return
    if (stored) return this.startSession(fileId, 'downloaded', stored, undefined, access)
    void this.createSession(fileId, 'downloaded', access).onTrackerOnline()
  }

  /**
   * Donates up to `space` bytes to keep files available that the tracker says need copies (see
   * KeeperDuty); undefined stops taking new ones (what is held stays until removed).
   */
  setKeeping(space: number | undefined): void {
    if (space === undefined) {
      this.keeper?.stop()
      this.keeper = undefined
    } else if (this.keeper) {
      this.keeper.resize(space)
    } else {
      const { tracker, clock, keeperPollMs: pollMs } = this.deps
      const duty = { transfers: () => this.transferViews(), keep: (id: string) => this.keep(id), remove: (id: string) => this.remove(id) }
      this.keeper = new KeeperDuty({ tracker, clock, pollMs, onChange: () => this.emit(), ...duty }, space)
      this.keeper.start()
    }
    this.emit()
  }

  /** Stops every session (tests, and tabs being torn down). */
  close(): void {
    this.setKeeping(undefined)
    for (const session of this.sessions.values()) session.close()
    this.sessions.clear()
  }

  /** Pauses a download (or stops seeding a file); kept across reloads until resumed. */
  pause(fileId: string): Promise<void> {
    return this.sessions.get(fileId)?.setPaused(true) ?? Promise.resolve()
  }

  resume(fileId: string): Promise<void> {
    return this.sessions.get(fileId)?.setPaused(false) ?? Promise.resolve()
  }

  /** Stops sharing a file and deletes its chunks from this browser, freeing the space. */
  async remove(fileId: string): Promise<void> {
    const session = this.sessions.get(fileId)
    session?.close()
    this.sessions.delete(fileId)
    await this.copies.cancel(fileId)
    if (session && this.deps.tracker.status === 'online') {
      // Its join code (and a private file's key with it) goes too.
      void this.joinCodes.end(fileId).catch(() => undefined)
      this.deps.tracker.send({ type: 'unpublish', fileId })
    }
    // A chunk write already under way would otherwise land after the delete and stay behind.
    await session?.settled()
    this.shareJobs.forget(fileId)
    await this.stores.library?.deleteFile(fileId)
    this.emit()
  }

  /** A file (or one file of a bundle) to read while it arrives; undefined when this browser cannot read it. */
  readable(fileId: string, path?: string): ReadableFile | undefined {
    return this.sessions.get(fileId)?.readable(path)
  }

  /** The player of a file (or of one file in a bundle) learned how long it plays. */
  mediaDuration(fileId: string, seconds: number, path?: string): void {
    this.readable(fileId, path)?.setDuration(seconds)
  }

  /** The file's chunks as piece map cells, if this browser has the file's manifest. */
  pieceMap(fileId: string): PieceMap | undefined {
    return this.sessions.get(fileId)?.pieceMap()
  }

  listFiles(): Promise<TrackerFilePage> {
    return this.trackerViews.listFiles()
  }

  watchSwarm(fileId: string, listener: (view: SwarmView) => void): () => void {
    return this.trackerViews.watchSwarm(fileId, listener)
  }

  presentCode(fileId: string): Promise<PresentedCode> {
    // Presenting is the sharer's choice to let a code open the file: a private file's key goes with it.
    return this.joinCodes.present(fileId, this.sessions.get(fileId)?.content?.secret)
  }

  endCode(fileId: string): Promise<void> {
    return this.joinCodes.end(fileId)
  }

  lookupCode(text: string): Promise<CodeLookup> {
    return this.joinCodes.lookup(text)
  }

  /** The page is back: reconnect now, and try again what waited for storage space. */
  wake(): void {
    this.deps.tracker.reconnectNow()
    for (const session of this.sessions.values()) void session.retryStorage()
  }

  retry(fileId: string): void {
    this.sessions.get(fileId)?.retry()
  }

  /** The complete file, or one file of a bundle by its path, to save (see saved-file.ts). */
  fileForSaving(fileId: string, path?: string): Promise<{ blob: Blob; name: string }> {
    return fileForSaving(this.sessions.get(fileId), path)
  }

  zipForSaving(fileId: string): Promise<{ zip: Response; name: string }> {
    return zipForSaving(this.sessions.get(fileId))
  }

  private createSession(fileId: string, role: 'shared' | 'downloaded', access: FileAccess = {}): FileSession {
    const { tracker, links, clock, random } = this.deps
    const session = new FileSession(
      fileId,
      role,
      {
        stores: this.stores,
        tracker,
        links,
        relay: this.deps.relay,
        clock,
        random,
        connectTimeoutMs: this.deps.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
        ...(this.deps.maxLanes !== undefined ? { maxLanes: this.deps.maxLanes } : {}),
        spaceAvailable: this.deps.spaceAvailable ?? (async () => undefined),
        privateWindow: this.deps.privateWindow,
        bandwidth: this.bandwidth,
        onChange: () => this.emit(),
      },
      access,
    )
    this.sessions.set(fileId, session)
    return session
  }

  private async startSession(
    fileId: string,
    role: LibraryRole,
    manifest: Manifest,
    entry?: LibraryEntry,
    access: FileAccess = {},
  ): Promise<void> {
    const session = this.createSession(fileId, role, access)
    await session.restore(manifest, entry)
    // Shared files resolve only once the tracker has them, so a link opened at once finds them.
    if (this.deps.tracker.status === 'online') await session.onTrackerOnline()
    this.emit()
  }

  /** Seeds what this browser holds and resumes partial downloads, after a reload too. */
  private async restoreLibrary(): Promise<void> {
    const { library, manifests } = this.stores
    if (!library) return
    let entries
    try {
      entries = await library.listEntries()
    } catch {
      return
    }
    for (const entry of entries) {
      try {
        const manifest = await manifests.loadManifest(entry.fileId)
        if (manifest && !this.sessions.has(entry.fileId)) {
          await this.startSession(entry.fileId, entry.role, manifest, entry, accessOf(entry))
        }
      } catch (error) {
        // A damaged record stays in storage untouched; the rest of the library still loads.
        console.warn(`A library entry could not be reopened (${entry.fileId.slice(0, 8)}):`, error)
      }
    }
  }

  private route(message: ServerMessage): void {
    if (message.type === 'signal') this.sessions.get(message.fileId)?.handleSignal(message.from, message.link, message.data)
    else if ('fileId' in message) this.sessions.get(message.fileId)?.handlePush(message)
  }

  private emit(): void {
    for (const listener of this.listeners) listener()
  }
}
