import { Bitfield } from '../protocol/bitfield'
import type { Manifest } from '../protocol/manifest'
import type { ServerMessage, SignalData } from '../protocol/tracker'
import { buildPieceMap, withKnownHolders, type PieceMap } from '../core/piece-map'
import { RateMeter } from '../core/rate-meter'
import type { Bandwidth } from '../core/rate-limit'
import {
  StoreError,
  type Cancel,
  type Clock,
  type LibraryEntry,
  type LibraryRole,
  type PeerLinkFactory,
  type Stores,
  type TrackerPort,
} from '../core/ports'
import { transferStatus, type TransferNotice, type TransferStatus } from '../core/transfer-state'
import { storeErrorDetail } from './chunk-keeper'
import { knowFile, type Known } from './known-file'
import { PeerLinks } from './peer-links'
import { SwarmNews } from './swarm-news'
import { Uploader } from './uploader'
import { asTheWireCarries, entryOf, openContent, openLocated, type FileAccess, type FileContent } from './file-content'
import type { Wire, WireEvents } from './wire'
import { transferView } from './transfer-view'
import type { TransferView } from './views'
import { playsInPage, readableFile, type ReadableFile } from './readable-file'

export const CONNECT_TIMEOUT_MS = 15_000
/** Timeouts, rechokes, pings and rate reports run this often. */
const TICK_MS = 1_000

export interface SessionDeps {
  /** Bytes this site may still store, when the browser says; a download that cannot fit is refused. */
  spaceAvailable: () => Promise<number | undefined>
  /** Set where storage is off the record (a private window): a new download larger than this waits for the user. */
  privateWindow: { holdAboveBytes: number } | undefined
  /** How long a WebRTC connection may take to open before it counts as failed. */
  connectTimeoutMs: number
  stores: Stores
  tracker: TrackerPort
  links: PeerLinkFactory
  bandwidth: Bandwidth
  clock: Clock
  random: () => number
  onChange: () => void
}

/**
 * One file in this peer: shares what it holds, fetches what it lacks. It wires the parts together
 * (links and wires, downloader, chunk keeper, uploader, swarm news) and owns the file's state.
 */
export class FileSession {
  private known: Known | undefined
  /** Reading what the store holds, before the session knows its file. */
  private restoring: Promise<void> | undefined
  private status: TransferStatus
  private failure: TransferNotice | undefined
  private pauseReason: TransferNotice | undefined
  private readonly links: PeerLinks
  private readonly news: SwarmNews
  private readonly uploader: Uploader
  private readonly down = new RateMeter()
  private readonly up = new RateMeter()
  private readonly stopTicking: Cancel
  private closed = false
  private paused = false
  private addedAt: number | undefined

  constructor(
    readonly fileId: string,
    readonly role: LibraryRole,
    private readonly deps: SessionDeps,
    /** The secret the link carried (a private file's key), or that this peer keeps the file without one. */
    private readonly access: FileAccess = {},
  ) {
    this.status = { state: role === 'shared' ? 'seeding' : 'locating', notice: undefined }
    const manifest = () => this.known?.manifest
    this.links = new PeerLinks(
      {
        fileId,
        tracker: deps.tracker,
        links: deps.links,
        connectTimeoutMs: deps.connectTimeoutMs,
        clock: deps.clock,
        random: deps.random,
        manifest,
      },
      {
        onOpen: (wire) => this.opened(wire),
        onDrain: (wire) => void this.uploader.serve(wire),
        onClosed: (wire) => {
          this.known?.downloader.closed(wire)
          this.connectMore()
          this.changed()
        },
        onChange: () => this.changed(),
      },
      this.wireEvents(),
    )
    this.uploader = new Uploader({
      fileId,
      chunks: asTheWireCarries(deps.stores.chunks, () => this.known?.content),
      wires: () => this.links.wires(),
      bandwidth: deps.bandwidth,
      clock: deps.clock,
      random: deps.random,
      has: (index) => this.known?.downloader.scheduler.has(index) ?? false,
      isVerified: (index) => this.known?.keeper.isVerified(index) ?? false,
      verify: (index, bytes) => this.known?.keeper.verifyStored(index, bytes) ?? Promise.resolve(false),
      onSent: (bytes) => this.up.add(bytes, deps.clock.now()),
      onFailed: (wire, error) =>
        this.links.dropPeer(wire.peerId, `could not be served: ${storeErrorDetail(error) ?? 'browser storage failed'}`),
    })
    this.news = new SwarmNews({
      fileId,
      tracker: deps.tracker,
      clock: deps.clock,
      links: this.links,
      manifest,
      have: () => this.known?.downloader.scheduler.haveBitfield(),
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

  get manifest(): Manifest | undefined {
    return this.known?.manifest
  }

  /** Whether the file is private and could not be opened for want of (the right) key. */
  get lacksKey(): boolean {
    const kind = this.failure?.kind
    return kind === 'incomplete-link' || kind === 'wrong-key'
  }

  /** What the file is and where its bytes lie; undefined until the manifest is known (and opened). */
  get content(): FileContent | undefined {
    return this.known?.content
  }

  private get complete(): boolean {
    return this.known?.downloader.scheduler.isComplete ?? false
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
    this.adopt(manifest, content, have)
    if (!entry) await this.saveEntry()
  }

  /** Holds the file back (no fetching, no seeding, gone from the tracker) or lets it go again. */
  async setPaused(paused: boolean): Promise<void> {
    if (this.paused === paused || !this.known) return
    this.paused = paused
    if (paused) {
      this.links.closeAll()
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
    if (this.paused) return
    await this.news.announce()
    if (this.complete) return
    if (!this.known) this.failure = undefined
    await this.news.locate()
  }

  handlePush(message: ServerMessage): void {
    this.news.receive(message)
  }

  handleSignal(from: string, linkId: string, data: SignalData): void {
    if (!this.closed && !this.paused) this.links.accept(from, linkId, data)
  }

  retry(): void {
    if (!this.failure) return
    this.failure = undefined
    this.changed()
    void this.news.locate()
  }

  close(): void {
    this.closed = true
    this.stopTicking()
    this.news.close()
    this.known?.downloader.close()
    this.links.closeAll()
    this.known?.playback.close()
  }

  /** Resolves once every chunk write that had started has finished (after close: none start). */
  async settled(): Promise<void> {
    await this.known?.keeper.settled()
  }

  /** The complete stored file, backed by the store's files (never assembled in memory). */
  async storedFile(): Promise<Blob> {
    const { library } = this.deps.stores
    if (!this.known || !this.complete) throw new Error('The file is not complete yet.')
    if (!library) throw new Error('This peer keeps no files to save.')
    const { layout, meta } = this.known.content
    return library.fileBlob(this.fileId, layout, meta.type)
  }

  /** The file, or one file of its bundle, to read while it arrives; undefined until it is known, or for a keeper (it holds no key). */
  readable(path?: string): ReadableFile | undefined {
    if (!this.known || this.access.keeper) return undefined
    return readableFile(this.known.content, this.known.playback, path)
  }

  /** Chunks grouped into cells for drawing (holders: connected peers, or the tracker's word); undefined until the manifest is known. */
  pieceMap(): PieceMap | undefined {
    const known = this.known
    if (!known) return undefined
    const holders = this.links.knownHolders(known.manifest.hashes.length)
    return buildPieceMap(withKnownHolders(known.downloader.scheduler.chunkStates(), holders))
  }

  view(): TransferView {
    const now = this.deps.clock.now()
    const known = this.known && { content: this.known.content, scheduler: this.known.downloader.scheduler }
    return transferView({
      fileId: this.fileId,
      role: this.role,
      known,
      status: this.status,
      downRate: this.down.rate(now),
      upRate: this.up.rate(now),
      bytesUp: this.up.total,
      bytesDown: this.known?.downloader.bytesArrived ?? 0,
      peers: this.links.views(),
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
    if (this.known) return true // a concurrent locate adopted it meanwhile
    try {
      await this.deps.stores.manifests.saveManifest(this.fileId, manifest, { kept: this.access.keeper === true })
      this.holdIfPrivateWindow(content.meta.size)
      this.adopt(manifest, content, new Bitfield(manifest.hashes.length))
      await this.saveEntry()
    } catch (error) {
      this.known = undefined
      this.fail({ kind: 'storage-failed', detail: storeErrorDetail(error) })
      return false
    }
    return true
  }

  private adopt(manifest: Manifest, content: FileContent, have: Bitfield): void {
    const { deps } = this
    this.known = knowFile(this.fileId, manifest, content, have, {
      clock: deps.clock,
      random: deps.random,
      bandwidth: deps.bandwidth,
      writer: deps.stores.writer,
      read: (index) => deps.stores.chunks.readChunk(this.fileId, index),
      links: this.links,
      canFetch: () => !this.closed && !this.paused && !this.failure,
      isClosed: () => this.closed,
      onReceived: (bytes) => this.down.add(bytes, deps.clock.now()),
      onStored: (index) => this.stored(index),
      onChange: () => this.changed(),
      onUnopenable: () => this.fail({ kind: 'wrong-key' }),
      onStorageFailed: (notice) => {
        this.pauseReason = notice
        void this.setPaused(true)
      },
      onDamaged: (index) => {
        this.news.lost(index)
        this.connectMore()
        this.changed()
      },
    })
    this.uploader.reset(manifest.hashes.length)
    if (this.role === 'downloaded' && !this.access.keeper && playsInPage(content.meta)) this.known.playback.expectPlayer()
    this.updateStatus()
  }

  /** A new download too large for a private window's storage waits, paused, until the user says go (resume). */
  private holdIfPrivateWindow(size: number): void {
    const hold = this.deps.privateWindow
    if (!hold || size <= hold.holdAboveBytes) return
    this.paused = true
    this.pauseReason = { kind: 'private-window', size, holdAbove: hold.holdAboveBytes }
  }

  /** A chunk is verified and stored: peers and tracker hear of it. */
  private stored(index: number): void {
    for (const wire of this.links.wires()) wire.have(index)
    this.news.queueHave(index)
    this.known?.playback.arrived(index)
    if (this.complete) void this.saveEntry().catch(() => undefined)
  }

  private async saveEntry(): Promise<void> {
    const content = this.known?.content
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
    const scheduler = this.known?.downloader.scheduler
    this.status = transferStatus({
      role: this.role,
      failure: this.failure,
      paused: this.paused,
      pauseReason: this.pauseReason,
      chunks: scheduler && { total: scheduler.total, complete: scheduler.isComplete, missing: () => scheduler.haveBitfield().missing() },
      // A peer still connecting or handshaking may hold what we need: not stalled yet.
      reachable: (missing) => this.links.mayHold(missing),
    })
  }

  private changed(): void {
    this.updateStatus()
    this.deps.onChange()
  }

  // ---- links and wires ----

  private connectMore(): void {
    const scheduler = this.known?.downloader.scheduler
    if (this.closed || this.paused || !scheduler || scheduler.isComplete || this.deps.tracker.status !== 'online') return
    this.links.dial(scheduler.haveBitfield().missing())
  }

  private opened(wire: Wire): void {
    wire.handshake(this.known?.downloader.scheduler.haveBitfield() ?? new Bitfield(0))
    this.uploader.opened(wire, this.links.wires())
    this.links.ping(wire.peerId)
    this.changed()
  }

  private wireEvents(): WireEvents {
    return {
      onHandshake: (wire) => {
        this.known?.downloader.handshake(wire)
        this.changed()
      },
      onHave: (wire, index) => this.known?.downloader.have(wire, index),
      onPiece: (wire, index, offset, bytes) => this.known?.downloader.piece(wire, index, offset, bytes),
      onUnwanted: (_wire, bytes) => this.known?.downloader.unwanted(bytes),
      onReject: (wire, index) => {
        this.known?.downloader.rejected(wire, index)
        this.changed()
      },
      onChoke: (wire) => this.known?.downloader.choked(wire),
      onUnchoke: () => this.known?.downloader.pump(),
      onRequest: (wire, range) => this.uploader.request(wire, range),
      onBad: (wire, reason) => this.links.ban(wire.peerId, reason),
    }
  }

  private tick(): void {
    this.links.tick()
    const known = this.known
    if (known) {
      known.downloader.tick()
      this.uploader.tick([...this.links.wires()], known.downloader.scheduler.haveBitfield(), !known.downloader.scheduler.isComplete)
    }
    this.connectMore()
    this.news.reportRates()
    this.changed()
  }
}
