import { Bitfield } from '../protocol/bitfield'
import { fromBase64, fromHex, sha256Hex, toBase64, toHex } from '../protocol/encoding'
import { chunkLength, fileIdOf, type Manifest } from '../protocol/manifest'
import { MAX_REPORTED_LINKS, type ServerMessage, type SignalData } from '../protocol/tracker'
import { decodeFrame, encodeFrame, WIRE_VERSION, type Frame } from '../protocol/wire'
import { ChunkScheduler } from '../core/scheduler'
import { buildPieceMap, type PieceMap } from '../core/piece-map'
import { Assemblies } from '../core/assemblies'
import { RateMeter } from '../core/rate-meter'
import { describeChunkRanges } from '../core/ranges'
import { isSlowPeer, rankPeers, requestSlots } from '../core/peer-score'
import { RECHOKE_INTERVAL_MS } from '../core/choker'
import { StoreError, type ChunkStore, type LibraryEntry, type LibraryRole, type PeerLinkFactory, type TrackerPort } from '../core/ports'
import { formatBytes } from '../core/format-bytes'
import type { Bandwidth, Peer } from './peer'
import { PeerLinks } from './peer-links'
import { acceptRequest, fillFreeSlots, initialChoke, rechoke, serveUploads } from './uploader'
import type { TransferState, TransferView } from './views'

export const REQUEST_TIMEOUT_MS = 15_000
export const CONNECT_TIMEOUT_MS = 15_000
export const BAD_CHUNKS_BEFORE_BAN = 3
const MAX_EARLY_PUSHES = 1000
/** How often a tab uploading to others reports its rates to the tracker. */
export const RATE_REPORT_INTERVAL_MS = 2_000
/** Chunk announcements to the tracker are batched over this long. */
export const HAVE_BATCH_MS = 200

export interface SessionDeps {
  /** Bytes this site may still store, when the browser says; a download that cannot fit is refused. */
  spaceAvailable: () => Promise<number | undefined>
  /** How long a WebRTC connection may take to open before it counts as failed. */
  connectTimeoutMs: number
  store: ChunkStore
  tracker: TrackerPort
  links: PeerLinkFactory
  bandwidth: Bandwidth
  now: () => number
  random: () => number
  onChange: () => void
}

/** One file in this tab: shares what it holds, fetches what it lacks. Role-agnostic. */
export class FileSession {
  manifest: Manifest | undefined
  private scheduler: ChunkScheduler | undefined
  private state: TransferState
  private message = ''
  private readonly links: PeerLinks
  /** Corrupt chunks received per peer; at BAD_CHUNKS_BEFORE_BAN the peer is banned. */
  private readonly strikes = new Map<string, number>()
  private readonly assemblies = new Assemblies()
  /** How often each chunk was uploaded: the least sent goes first, so duplicates wait (and may be cancelled). */
  private timesSent = new Uint16Array(0)
  /** Stored chunks checked against their hash since this session began (checked once before serving). */
  private readonly verified = new Set<number>()
  /** Chunks whose copy is being verified and stored: later copies are dropped. */
  private readonly storing = new Set<number>()
  /** Chunk writes under way, so removing the file can wait for them before deleting. */
  private readonly writes = new Set<Promise<void>>()
  private readonly down = new RateMeter()
  private readonly up = new RateMeter()
  private readonly pendingHave: number[] = []
  private readonly earlyPushes: ServerMessage[] = []
  private choke = { optimistic: undefined as string | undefined, optimisticSince: 0, lastRechoke: 0 }
  private haveTimer: ReturnType<typeof setTimeout> | undefined
  private throttleTimer: ReturnType<typeof setTimeout> | undefined
  private readonly ticker: ReturnType<typeof setInterval>
  private closed = false
  private paused = false
  private addedAt: number | undefined
  private lastRateReport = { at: 0, empty: true }

  constructor(
    readonly fileId: string,
    readonly role: LibraryRole,
    private readonly deps: SessionDeps,
  ) {
    this.state = role === 'shared' ? 'seeding' : 'locating'
    this.links = new PeerLinks(
      { fileId, tracker: deps.tracker, links: deps.links, connectTimeoutMs: deps.connectTimeoutMs, now: deps.now, random: deps.random },
      {
        onOpen: (peer) => this.onOpen(peer),
        onData: (peer, bytes) => this.onData(peer, bytes),
        onDrain: (peer) => void this.serve(peer),
        onClosed: (peer) => this.onClosed(peer),
        onChange: () => this.changed(),
      },
    )
    this.ticker = setInterval(() => this.tick(), 1000)
  }

  private get peers(): Map<string, Peer> {
    return this.links.peers
  }

  /** Starts from what the store holds (a shared file, or a download resumed after reload). */
  async restore(manifest: Manifest, entry?: LibraryEntry): Promise<void> {
    const stored = await this.deps.store.storedChunks(this.fileId)
    const have = new Bitfield(manifest.hashes.length)
    for (const index of stored) if (index < have.length) have.set(index)
    this.addedAt = entry?.addedAt
    this.paused = entry?.paused ?? false
    this.adopt(manifest, have)
    if (!entry) await this.saveEntry()
  }

  /** Holds the file back (no fetching, no seeding, gone from the tracker) or lets it go again. */
  async setPaused(paused: boolean): Promise<void> {
    if (this.paused === paused || !this.manifest) return
    this.paused = paused
    if (paused) {
      this.links.closeAll()
      if (this.deps.tracker.status === 'online') this.deps.tracker.send({ type: 'unpublish', fileId: this.fileId })
    } else if (this.state === 'paused') {
      this.state = 'locating'
      this.message = ''
    }
    this.changed()
    await this.saveEntry().catch(() => undefined)
    if (!paused) await this.onTrackerOnline()
  }

  private async saveEntry(): Promise<void> {
    const manifest = this.manifest
    if (!manifest) return
    const now = Date.now()
    this.addedAt ??= now
    const { name, size } = manifest
    await this.deps.store.saveEntry({
      fileId: this.fileId,
      name,
      size,
      role: this.role,
      addedAt: this.addedAt,
      updatedAt: now,
      paused: this.paused,
    })
  }

  /** Asks the tracker for the manifest (unless we have it) and the peers that hold chunks. */
  async locate(): Promise<void> {
    if (this.deps.tracker.status !== 'online') return this.changed()
    let reply: ServerMessage
    try {
      reply = await this.deps.tracker.request({ type: 'locate', fileId: this.fileId })
    } catch {
      return // offline again: located anew when the tracker is back
    }
    if (reply.type === 'error') {
      if (this.manifest) return
      this.fail(
        reply.code === 'not-found'
          ? 'No one is sharing this file right now. Ask the sender to keep their tab open: the download starts by itself as soon as they share it.'
          : `The tracker refused this link: ${reply.message}`,
      )
      return
    }
    if (reply.type !== 'location') return
    if (!this.manifest) {
      const manifest = reply.manifest
      if ((await fileIdOf(manifest)) !== this.fileId) {
        this.fail('The tracker sent a file that does not match this link, so it was not downloaded.')
        return
      }
      const space = await this.deps.spaceAvailable()
      if (space !== undefined && manifest.size > space) {
        this.fail(
          `“${manifest.name}” needs ${formatBytes(manifest.size)}, but this browser lets the site store only ${formatBytes(space)} more. ` +
            'Remove files from your library or free disk space, then try again.',
        )
        return
      }
      try {
        await this.deps.store.saveManifest(this.fileId, manifest)
        this.manifest = manifest
        await this.saveEntry()
      } catch (error) {
        this.manifest = undefined
        this.fail(storeMessage(error))
        return
      }
      this.adopt(manifest, new Bitfield(manifest.hashes.length))
    }
    for (const peer of reply.peers) this.learn(peer.peerId, peer.have)
    for (const push of this.earlyPushes.splice(0)) this.handlePush(push)
    this.connectMore()
    this.changed()
  }

  /**
   * After (re)connecting to the tracker: tell it what we hold (a restarted tracker knows nothing,
   * so a partial copy registers the file too), then learn the swarm again.
   */
  async onTrackerOnline(): Promise<void> {
    if (this.paused) return
    await this.announce()
    if (this.scheduler?.isComplete) return
    if (this.state === 'error' && !this.manifest) {
      this.state = 'locating'
      this.message = ''
    }
    await this.locate()
  }

  handlePush(message: ServerMessage): void {
    if (message.type === 'file-available') {
      this.retry()
      return
    }
    if (!this.manifest) {
      // The location reply is still being checked and stored: replay these after it.
      if (this.earlyPushes.length < MAX_EARLY_PUSHES) this.earlyPushes.push(message)
      return
    }
    switch (message.type) {
      case 'peer-joined':
        this.learn(message.peer.peerId, message.peer.have)
        break
      case 'peer-have':
        this.links.swarmHas(message.peerId, message.indexes, true)
        break
      case 'peer-lost':
        this.links.swarmHas(message.peerId, message.indexes, false)
        break
      case 'peer-left':
        this.links.left(message.peerId)
        break
      default:
        return
    }
    this.connectMore()
    this.changed()
  }

  handleSignal(from: string, linkId: string, data: SignalData): void {
    if (!this.closed && !this.paused) this.links.accept(from, linkId, data)
  }

  retry(): void {
    if (this.state !== 'error') return
    this.state = 'locating'
    this.message = ''
    this.changed()
    void this.locate()
  }

  close(): void {
    this.closed = true
    clearInterval(this.ticker)
    clearTimeout(this.haveTimer)
    clearTimeout(this.throttleTimer)
    this.links.closeAll()
  }

  /** Resolves once every chunk write that had started has finished (after close: none start). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.writes])
  }

  /** The stored chunks as one Blob; in Chromium it is backed by IndexedDB's files, not memory. */
  async assemble(): Promise<Blob> {
    const manifest = this.manifest
    if (!manifest || !this.scheduler?.isComplete) throw new Error('The file is not complete yet.')
    const parts: Blob[] = []
    for (let index = 0; index < manifest.hashes.length; index++) {
      const chunk = await this.deps.store.getChunk(this.fileId, index)
      if (!chunk) throw new StoreError(`Chunk ${index + 1} is missing from browser storage.`, 'corrupt')
      parts.push(chunk)
    }
    return new Blob(parts, { type: manifest.type || 'application/octet-stream' })
  }

  /** Chunks grouped into cells for drawing; undefined until the manifest is known. */
  pieceMap(): PieceMap | undefined {
    return this.scheduler ? buildPieceMap(this.scheduler.chunkStates()) : undefined
  }

  view(): TransferView {
    const now = this.deps.now()
    const manifest = this.manifest
    const total = manifest?.hashes.length ?? 0
    const bytesDone = manifest ? this.bytesHeld(manifest) : 0
    const downRate = this.down.rate(now)
    const remaining = manifest ? manifest.size - bytesDone : 0
    return {
      fileId: this.fileId,
      role: this.role,
      name: manifest?.name ?? '',
      size: manifest?.size ?? 0,
      chunkSize: manifest?.chunkSize ?? 0,
      state: this.state,
      message: this.message,
      have: this.scheduler?.haveCount ?? 0,
      total,
      bytesDone,
      downRate,
      upRate: this.up.rate(now),
      bytesUp: this.up.total,
      etaSeconds: this.state === 'downloading' && downRate > 0 ? Math.ceil(remaining / downRate) : undefined,
      peers: this.links.views(),
      addedAt: this.addedAt,
      paused: this.paused,
      complete: this.scheduler?.isComplete ?? false,
      files: manifest?.files,
    }
  }

  // ---- state ----

  private adopt(manifest: Manifest, have: Bitfield): void {
    this.manifest = manifest
    this.scheduler = new ChunkScheduler(manifest.hashes.length, have, this.deps.random)
    this.timesSent = new Uint16Array(manifest.hashes.length)
    this.updateState()
  }

  private bytesHeld(manifest: Manifest): number {
    const scheduler = this.scheduler
    if (!scheduler) return 0
    const last = manifest.hashes.length - 1
    let bytes = scheduler.haveCount * manifest.chunkSize
    if (last >= 0 && scheduler.has(last)) bytes -= manifest.chunkSize - chunkLength(manifest, last)
    return bytes
  }

  private fail(message: string): void {
    this.state = 'error'
    this.message = message
    this.changed()
  }

  private updateState(): void {
    const scheduler = this.scheduler
    if (this.state === 'error' || !scheduler) return
    if (this.paused) {
      this.state = 'paused'
      this.message ||= scheduler.isComplete ? 'Not shared with others while paused.' : 'Paused: no chunks are fetched until you resume.'
      return
    }
    if (scheduler.isComplete) {
      this.state = this.role === 'shared' ? 'seeding' : 'complete'
      this.message = ''
      return
    }
    const missing = scheduler.haveBitfield().missing()
    // A peer still connecting or handshaking may hold what we need: not stalled yet.
    const reachable = [...this.peers.values()].some((peer) => !peer.remote || missing.some((i) => peer.remote!.get(i)))
    if (reachable) {
      this.state = 'downloading'
      this.message = ''
    } else {
      this.state = 'stalled'
      this.message = `Waiting for a peer that has chunks ${describeChunkRanges(missing)} (${missing.length} of ${scheduler.total} still needed).`
    }
  }

  private changed(): void {
    this.updateState()
    this.deps.onChange()
  }

  // ---- swarm and links ----

  private learn(peerId: string, haveBase64: string): void {
    const manifest = this.manifest
    if (!manifest) return
    let field: Bitfield
    try {
      field = new Bitfield(manifest.hashes.length, fromBase64(haveBase64))
    } catch {
      field = new Bitfield(manifest.hashes.length)
    }
    this.links.learn(peerId, field)
  }

  private connectMore(): void {
    const scheduler = this.scheduler
    if (this.closed || this.paused || !scheduler || scheduler.isComplete || this.deps.tracker.status !== 'online') return
    this.links.dial(scheduler.haveBitfield().missing())
  }

  private onOpen(peer: Peer): void {
    const have = this.scheduler?.haveBitfield() ?? new Bitfield(0)
    peer.link.send(encodeFrame({ type: 'handshake', version: WIRE_VERSION, fileId: fromHex(this.fileId), bitfield: have }))
    initialChoke(peer, this.peers.values())
    this.links.sendPing(peer)
    this.changed()
  }

  /** A link is gone: its requests go back to the pool at once. */
  private onClosed(peer: Peer): void {
    for (const index of this.scheduler?.removePeer(peer.id) ?? []) this.assemblies.forget(index, peer.id)
    this.connectMore()
    this.pump()
    this.changed()
  }

  /** Tells the tracker what this tab uploads to whom, for swarm views; silent while nothing flows. */
  private reportRates(now: number): void {
    if (now - this.lastRateReport.at < RATE_REPORT_INTERVAL_MS || this.deps.tracker.status !== 'online' || this.paused) return
    const links = [...this.peers.values()]
      .map((peer) => ({ to: peer.id, rate: Math.round(peer.up.rate(now)) }))
      .filter((link) => link.rate > 0)
      .slice(0, MAX_REPORTED_LINKS)
    if (links.length === 0 && this.lastRateReport.empty) return
    this.lastRateReport = { at: now, empty: links.length === 0 }
    this.deps.tracker.send({ type: 'rates', fileId: this.fileId, links })
  }

  private tick(): void {
    const now = this.deps.now()
    this.links.tick()
    for (const { index, peerId, length } of this.assemblies.takeStalled(now, REQUEST_TIMEOUT_MS)) {
      this.scheduler?.release(index, peerId)
      this.peers.get(peerId)?.link.send(encodeFrame({ type: 'cancel', index, offset: 0, length }))
    }
    const have = this.scheduler?.haveBitfield()
    if (have) {
      const peers = [...this.peers.values()]
      if (now - this.choke.lastRechoke >= RECHOKE_INTERVAL_MS) {
        const downloading = !this.scheduler!.isComplete
        this.choke = { ...rechoke(peers, have, downloading, this.choke, now, this.deps.random), lastRechoke: now }
      } else {
        fillFreeSlots(peers, have)
      }
      for (const peer of peers) void this.serve(peer)
    }
    this.connectMore()
    this.pump()
    this.reportRates(now)
    this.changed()
  }

  // ---- wire ----

  private onData(peer: Peer, bytes: Uint8Array): void {
    const manifest = this.manifest
    if (!manifest) return
    const decoded = decodeFrame(bytes, manifest)
    if (!decoded.ok) {
      this.links.ban(peer, `sent an invalid message (${decoded.reason})`)
      return
    }
    this.onFrame(peer, decoded.frame, manifest)
  }

  private onFrame(peer: Peer, frame: Frame, manifest: Manifest): void {
    const scheduler = this.scheduler!
    switch (frame.type) {
      case 'handshake':
        if (toHex(frame.fileId) !== this.fileId || frame.version !== WIRE_VERSION) {
          this.links.ban(peer, 'is on a different file or protocol version')
          return
        }
        peer.remote = frame.bitfield
        scheduler.addPeer(peer.id, frame.bitfield)
        this.pump()
        this.changed()
        return
      case 'have':
        peer.remote?.set(frame.index)
        scheduler.peerHas(peer.id, frame.index)
        this.stealFromSlower(frame.index, peer)
        this.pump()
        return
      case 'request':
        if (!scheduler.has(frame.index) || !acceptRequest(peer, frame)) {
          peer.link.send(encodeFrame({ ...frame, type: 'reject' }))
          return
        }
        void this.serve(peer)
        return
      case 'cancel':
        peer.uploads = peer.uploads.filter((r) => r.index !== frame.index || r.offset !== frame.offset)
        return
      case 'reject':
        if (!this.assemblies.has(frame.index, peer.id)) return
        this.assemblies.forget(frame.index, peer.id)
        scheduler.release(frame.index, peer.id)
        scheduler.peerLacks(peer.id, frame.index)
        peer.remote?.set(frame.index, false)
        this.pump()
        this.changed()
        return
      case 'piece':
        this.onPiece(peer, frame.index, frame.offset, frame.bytes, manifest)
        return
      case 'ping':
        peer.link.send(encodeFrame({ type: 'pong', nonce: frame.nonce }))
        return
      case 'pong':
        this.links.pong(peer, frame.nonce)
        return
      case 'choke':
        peer.chokingUs = true
        for (const index of this.assemblies.fromPeer(peer.id)) {
          this.assemblies.forget(index, peer.id)
          scheduler.release(index, peer.id)
        }
        this.pump()
        return
      case 'unchoke':
        peer.chokingUs = false
        this.pump()
        return
    }
  }

  private onPiece(peer: Peer, index: number, offset: number, bytes: Uint8Array, manifest: Manifest): void {
    const now = this.deps.now()
    const chunk = this.assemblies.add(index, peer.id, offset, bytes, now)
    if (chunk === null) return // cancelled, choked or timed out: drop it
    peer.down.add(bytes.length, now)
    this.down.add(bytes.length, now)
    if (chunk === undefined) return
    if (this.scheduler!.has(index)) return // another peer's copy won (endgame)
    if (this.storing.has(index)) {
      this.scheduler!.release(index, peer.id) // another copy is being verified; if it fails, the chunk is re-requested
      return
    }
    void this.finishChunk(peer.id, index, chunk, manifest)
  }

  /**
   * A faster peer now has a chunk we wait for from a slower one that has not started sending it:
   * cancel there and let the scheduler place it again, so slow sources (a capped sharer) do not
   * spend their upload on chunks the swarm already spreads.
   */
  private stealFromSlower(index: number, faster: Peer): void {
    const waiting = this.assemblies.from(index)
    if (waiting.size === 0 || waiting.has(faster.id)) return
    const now = this.deps.now()
    const fasterRate = faster.down.rate(now)
    const unmeasured = faster.down.total === 0
    for (const [peerId, assembly] of waiting) {
      const slower = this.peers.get(peerId)
      if (!slower || assembly.received > 0) continue
      // A peer that has sent nothing yet gets the chance; otherwise only a faster one.
      if (!unmeasured && slower.down.rate(now) >= fasterRate) continue
      this.assemblies.forget(index, peerId)
      this.scheduler?.release(index, peerId)
      slower.link.send(encodeFrame({ type: 'cancel', index, offset: 0, length: assembly.buffer.length }))
    }
  }

  private async finishChunk(peerId: string, index: number, buffer: Uint8Array<ArrayBuffer>, manifest: Manifest): Promise<void> {
    const scheduler = this.scheduler!
    this.storing.add(index)
    try {
      if ((await sha256Hex(buffer)) !== manifest.hashes[index]) {
        scheduler.release(index, peerId)
        const strikes = (this.strikes.get(peerId) ?? 0) + 1
        this.strikes.set(peerId, strikes)
        const peer = this.peers.get(peerId)
        if (peer && strikes >= BAD_CHUNKS_BEFORE_BAN) this.links.ban(peer, 'sent corrupt data repeatedly')
        return
      }
      if (this.closed) return // removed meanwhile: nothing may be written after close
      const write = this.deps.store.putChunk(this.fileId, index, new Blob([buffer]))
      this.writes.add(write)
      try {
        await write
      } catch (error) {
        scheduler.release(index, peerId)
        // Nothing stored is lost: pause with the reason, so the user can free space and resume.
        this.message = `${storeMessage(error)} Paused with ${scheduler.haveCount} of ${scheduler.total} chunks kept: free some space, then resume.`
        await this.setPaused(true)
        return
      } finally {
        this.writes.delete(write)
      }
    } finally {
      this.storing.delete(index)
    }
    this.verified.add(index)
    for (const other of scheduler.complete(index)) {
      this.assemblies.forget(index, other)
      this.peers.get(other)?.link.send(encodeFrame({ type: 'cancel', index, offset: 0, length: buffer.length }))
    }
    for (const peer of this.peers.values()) {
      if (peer.remote && !peer.remote.get(index)) peer.link.send(encodeFrame({ type: 'have', index }))
    }
    this.queueHave(index)
    if (scheduler.isComplete) void this.saveEntry().catch(() => undefined)
    this.pump()
    this.changed()
  }

  /** Keeps every usable peer's pipeline full: fastest peers first; slow ones never get the last chunks. */
  private pump(): void {
    const scheduler = this.scheduler
    const manifest = this.manifest
    if (this.closed || this.paused || !scheduler || !manifest || scheduler.isComplete || this.state === 'error') return
    const now = this.deps.now()
    const usable = [...this.peers.values()].filter((peer) => peer.link.open && peer.remote && !peer.chokingUs)
    const ranked = rankPeers(usable.map((peer) => ({ id: peer.id, rttMs: peer.rttMs, rate: peer.down.rate(now), peer })))
    const fastest = ranked[0]
    const reserve = fastest ? requestSlots(fastest.rate, manifest.chunkSize) : 0
    for (const { peer, rate } of ranked) {
      // A peer that has sent nothing yet is unmeasured, not slow: it gets its chance.
      const slow = fastest !== undefined && peer.down.total > 0 && isSlowPeer(rate, fastest.rate)
      if (slow && scheduler.unrequestedAvailable() <= reserve) continue
      const slots = requestSlots(rate, manifest.chunkSize, peer.down.total > 0) - scheduler.inFlightFrom(peer.id)
      const picked = scheduler.assign(peer.id, slots, { endgame: !slow })
      for (const [i, index] of picked.entries()) {
        const length = chunkLength(manifest, index)
        if (!this.takeDownloadAllowance(length)) {
          for (const untaken of picked.slice(i)) scheduler.release(untaken, peer.id)
          return
        }
        this.assemblies.start(index, peer.id, length, now)
        peer.link.send(encodeFrame({ type: 'request', index, offset: 0, length }))
      }
    }
  }

  /** With a download cap, a request waits until the cap allows its bytes; pump runs again then. */
  private takeDownloadAllowance(bytes: number): boolean {
    const bucket = this.deps.bandwidth.down
    if (!bucket || bucket.tryTake(bytes, this.deps.now())) return true
    this.throttleTimer ??= setTimeout(
      () => {
        this.throttleTimer = undefined
        this.pump()
      },
      bucket.waitMs(bytes, this.deps.now()),
    )
    return false
  }

  private serve(peer: Peer): Promise<void> {
    return serveUploads(peer, {
      fileId: this.fileId,
      store: this.deps.store,
      bandwidth: this.deps.bandwidth,
      now: this.deps.now,
      onSent: (bytes) => this.up.add(bytes, this.deps.now()),
      isVerified: (index) => this.verified.has(index),
      timesSent: this.timesSent,
      verify: (index, bytes) => this.verifyStored(index, bytes),
    }).catch((error: unknown) => this.links.drop(peer, `could not be served: ${storeMessage(error)}`, false))
  }

  /** Checks a stored chunk before its first upload; a damaged one is dropped, withdrawn and fetched again. */
  private async verifyStored(index: number, bytes: Uint8Array<ArrayBuffer>): Promise<boolean> {
    const manifest = this.manifest!
    if ((await sha256Hex(bytes)) === manifest.hashes[index]) {
      this.verified.add(index)
      return true
    }
    if (!this.scheduler?.has(index)) return false
    this.scheduler.lose(index)
    this.deps.tracker.send({ type: 'lost', fileId: this.fileId, indexes: [index] })
    this.connectMore()
    this.pump()
    this.changed()
    return false
  }

  // ---- tracker announcements ----

  /** Registers the file with the tracker with what this tab holds (all of it, or part). */
  private async announce(): Promise<void> {
    const manifest = this.manifest
    const scheduler = this.scheduler
    if (!manifest || !scheduler || this.paused || this.deps.tracker.status !== 'online') return
    const have = scheduler.isComplete ? {} : { have: toBase64(scheduler.haveBitfield().bytes) }
    await this.deps.tracker.request({ type: 'publish', manifest, ...have }).catch(() => undefined) // re-sent on reconnect
  }

  private queueHave(index: number): void {
    this.pendingHave.push(index)
    this.haveTimer ??= setTimeout(() => {
      this.haveTimer = undefined
      const indexes = this.pendingHave.splice(0)
      if (indexes.length > 0) this.deps.tracker.send({ type: 'have', fileId: this.fileId, indexes })
    }, HAVE_BATCH_MS)
  }
}

function storeMessage(error: unknown): string {
  if (error instanceof StoreError) return error.message
  console.warn('Browser storage failed', error)
  return 'Browser storage failed. Reload the page and try again; if it keeps failing, free some disk space or clear this site’s data.'
}
