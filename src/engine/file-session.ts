import { Bitfield } from '../protocol/bitfield'
import { fromBase64, fromHex, sha256Hex, toHex } from '../protocol/encoding'
import { chunkLength, fileIdOf, type Manifest } from '../protocol/manifest'
import type { ServerMessage, SignalData } from '../protocol/tracker'
import { decodeFrame, encodeFrame, MAX_PIECE_BYTES, WIRE_VERSION, type Frame, type Range } from '../protocol/wire'
import { ChunkScheduler } from '../core/scheduler'
import { RateMeter } from '../core/rate-meter'
import { describeChunkRanges } from '../core/ranges'
import { StoreError, type ChunkStore, type LibraryRole, type PeerLink, type PeerLinkFactory, type TrackerPort } from '../core/ports'
import type { PeerView, TransferState, TransferView } from './views'

export const MAX_LINKS_PER_FILE = 8
export const MAX_INCOMING_LINKS_PER_FILE = 16
/** Requests in flight per peer, in bytes: enough to keep a fast loopback link busy. */
export const IN_FLIGHT_BYTES_PER_PEER = 4 * 1024 * 1024
export const MIN_REQUESTS_PER_PEER = 2
/** Upload side: stop reading chunks for a peer while this much is already queued to it. */
export const UPLOAD_QUEUE_BYTES = 2 * 1024 * 1024
export const MAX_QUEUED_UPLOADS = 64
export const REQUEST_TIMEOUT_MS = 15_000
export const CONNECT_TIMEOUT_MS = 15_000
export const MAX_CONNECT_ATTEMPTS = 3
export const BAD_CHUNKS_BEFORE_BAN = 3
export const PING_INTERVAL_MS = 10_000

export interface SessionDeps {
  store: ChunkStore
  tracker: TrackerPort
  links: PeerLinkFactory
  now: () => number
  random: () => number
  onChange: () => void
}

interface Peer {
  id: string
  link: PeerLink
  initiator: boolean
  startedAt: number
  /** From the peer's handshake; undefined until it arrives. */
  remote: Bitfield | undefined
  down: RateMeter
  up: RateMeter
  rttMs: number | undefined
  ping: { nonce: number; sentAt: number } | undefined
  uploads: Range[]
  uploading: boolean
}

interface Assembly {
  peerId: string
  buffer: Uint8Array<ArrayBuffer>
  received: number
  lastActivity: number
}

/** One file in this tab: shares what it holds, fetches what it lacks. Role-agnostic. */
export class FileSession {
  manifest: Manifest | undefined
  private scheduler: ChunkScheduler | undefined
  private state: TransferState
  private message = ''
  private readonly peers = new Map<string, Peer>()
  /** Peers the tracker says are in this file's swarm, with the chunks it says they hold. */
  private readonly swarm = new Map<string, Bitfield>()
  private readonly failures = new Map<string, { count: number; reason: string; retryAt: number }>()
  private readonly strikes = new Map<string, number>()
  private readonly assemblies = new Map<number, Assembly>()
  private readonly down = new RateMeter()
  private readonly up = new RateMeter()
  private readonly pendingHave: number[] = []
  private haveTimer: ReturnType<typeof setTimeout> | undefined
  private ticker: ReturnType<typeof setInterval> | undefined
  private closed = false

  constructor(
    readonly fileId: string,
    readonly role: LibraryRole,
    private readonly deps: SessionDeps,
  ) {
    this.state = role === 'shared' ? 'seeding' : 'locating'
    this.ticker = setInterval(() => this.tick(), 1000)
  }

  /** Starts from what the store holds (a shared file, or a download resumed after reload). */
  async restore(manifest: Manifest): Promise<void> {
    const stored = await this.deps.store.storedChunks(this.fileId)
    const have = new Bitfield(manifest.hashes.length)
    for (const index of stored) if (index < have.length) have.set(index)
    this.adopt(manifest, have)
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
          ? 'No one is sharing this file right now. Ask the sender to keep their tab open, then try again.'
          : `The tracker refused this link: ${reply.message}`,
      )
      return
    }
    if (reply.type !== 'location') return
    if (!this.manifest) {
      if ((await fileIdOf(reply.manifest)) !== this.fileId) {
        this.fail('The tracker sent a file that does not match this link, so it was not downloaded.')
        return
      }
      try {
        await this.deps.store.saveManifest(this.fileId, reply.manifest)
        await this.deps.store.saveEntry({
          fileId: this.fileId,
          name: reply.manifest.name,
          size: reply.manifest.size,
          role: 'downloaded',
          addedAt: this.deps.now(),
          updatedAt: this.deps.now(),
        })
      } catch (error) {
        this.fail(storeMessage(error))
        return
      }
      this.adopt(reply.manifest, new Bitfield(reply.manifest.hashes.length))
    }
    for (const peer of reply.peers) this.learn(peer.peerId, peer.have)
    this.announce()
    this.connectMore()
    this.changed()
  }

  /** After (re)connecting to the tracker: tell it what we hold, learn the swarm again. */
  onTrackerOnline(): void {
    if (this.scheduler?.isComplete) {
      this.announce()
      return
    }
    if (this.state === 'error' && !this.manifest) {
      this.state = 'locating'
      this.message = ''
    }
    void this.locate()
  }

  handlePush(message: ServerMessage): void {
    switch (message.type) {
      case 'peer-joined':
        this.learn(message.peer.peerId, message.peer.have)
        break
      case 'peer-have': {
        const field = this.swarm.get(message.peerId)
        for (const index of message.indexes) if (field && index < field.length) field.set(index)
        break
      }
      case 'peer-left':
        this.swarm.delete(message.peerId)
        this.failures.delete(message.peerId)
        break
      default:
        return
    }
    this.connectMore()
    this.changed()
  }

  handleSignal(from: string, data: SignalData): void {
    if (this.closed || this.isBanned(from)) return
    const existing = this.peers.get(from)
    if (data.type === 'offer') {
      // Both sides dialled at once: the peer with the larger id yields its own attempt.
      if (existing?.initiator && !existing.link.open) {
        if ((this.deps.tracker.peerId ?? '') < from) return
        this.drop(existing, 'replaced by the other side’s connection', false)
      } else if (existing) {
        existing.link.signal(data)
        return
      }
      if (this.peers.size >= MAX_INCOMING_LINKS_PER_FILE) return
      this.addLink(from, false).link.signal(data)
      return
    }
    existing?.link.signal(data)
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
    for (const peer of [...this.peers.values()]) this.drop(peer, 'closed here', false)
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

  view(): TransferView {
    const now = this.deps.now()
    const manifest = this.manifest
    const total = manifest?.hashes.length ?? 0
    const have = this.scheduler?.haveCount ?? 0
    const bytesDone = manifest ? this.bytesHeld(manifest) : 0
    const downRate = this.down.rate(now)
    const peers: PeerView[] = [...this.peers.values()].map((peer) => ({
      peerId: peer.id,
      status: peer.link.open ? 'connected' : 'connecting',
      rttMs: peer.rttMs,
      bytesDown: peer.down.total,
      bytesUp: peer.up.total,
      downRate: peer.down.rate(now),
      upRate: peer.up.rate(now),
      reason: undefined,
    }))
    const skipped = (peerId: string, reason: string): PeerView => ({
      peerId,
      status: 'skipped',
      rttMs: undefined,
      bytesDown: 0,
      bytesUp: 0,
      downRate: 0,
      upRate: 0,
      reason,
    })
    for (const [peerId, failure] of this.failures) {
      if (!this.peers.has(peerId) && failure.count >= MAX_CONNECT_ATTEMPTS) peers.push(skipped(peerId, failure.reason))
    }
    for (const peerId of this.strikes.keys()) {
      if (this.isBanned(peerId)) peers.push(skipped(peerId, 'sent corrupt data repeatedly'))
    }
    const remaining = manifest ? manifest.size - bytesDone : 0
    return {
      fileId: this.fileId,
      role: this.role,
      name: manifest?.name ?? '',
      size: manifest?.size ?? 0,
      chunkSize: manifest?.chunkSize ?? 0,
      state: this.state,
      message: this.message,
      have,
      total,
      bytesDone,
      downRate,
      upRate: this.up.rate(now),
      bytesUp: this.up.total,
      etaSeconds: this.state === 'downloading' && downRate > 0 ? Math.ceil(remaining / downRate) : undefined,
      peers,
    }
  }

  // ---- state ----

  private adopt(manifest: Manifest, have: Bitfield): void {
    this.manifest = manifest
    this.scheduler = new ChunkScheduler(manifest.hashes.length, have, this.deps.random)
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
    if (scheduler.isComplete) {
      this.state = this.role === 'shared' ? 'seeding' : 'complete'
      this.message = ''
      return
    }
    const missing = scheduler.haveBitfield().missing()
    const reachable = [...this.peers.values()].some((peer) => !peer.link.open || missing.some((i) => peer.remote?.get(i)))
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
    if (peerId === this.deps.tracker.peerId) return
    let field: Bitfield | undefined
    if (manifest) {
      try {
        field = new Bitfield(manifest.hashes.length, fromBase64(haveBase64))
      } catch {
        field = new Bitfield(manifest.hashes.length)
      }
    }
    this.swarm.set(peerId, field ?? new Bitfield(0))
  }

  private connectMore(): void {
    const scheduler = this.scheduler
    if (this.closed || !scheduler || scheduler.isComplete || this.deps.tracker.status !== 'online') return
    const now = this.deps.now()
    const missing = scheduler.haveBitfield().missing()
    for (const [peerId, field] of this.swarm) {
      if (this.peers.size >= MAX_LINKS_PER_FILE) break
      if (this.peers.has(peerId) || this.isBanned(peerId)) continue
      const failure = this.failures.get(peerId)
      if (failure && (failure.count >= MAX_CONNECT_ATTEMPTS || failure.retryAt > now)) continue
      if (!missing.some((index) => field.get(index))) continue
      this.addLink(peerId, true)
    }
  }

  private addLink(remoteId: string, initiator: boolean): Peer {
    const peer: Peer = {
      id: remoteId,
      initiator,
      startedAt: this.deps.now(),
      remote: undefined,
      down: new RateMeter(),
      up: new RateMeter(),
      rttMs: undefined,
      ping: undefined,
      uploads: [],
      uploading: false,
      link: undefined as unknown as PeerLink,
    }
    peer.link = this.deps.links.create(
      { initiator, remoteId, iceServers: this.deps.tracker.iceServers },
      {
        onSignal: (data) => this.deps.tracker.send({ type: 'signal', to: remoteId, fileId: this.fileId, data }),
        onOpen: () => this.onOpen(peer),
        onData: (bytes) => this.onData(peer, bytes),
        onDrain: () => void this.pumpUploads(peer),
        onClose: (reason) => this.onClose(peer, reason),
      },
    )
    this.peers.set(remoteId, peer)
    this.changed()
    return peer
  }

  private onOpen(peer: Peer): void {
    if (this.peers.get(peer.id) !== peer) return
    this.failures.delete(peer.id)
    const have = this.scheduler?.haveBitfield() ?? new Bitfield(0)
    peer.link.send(encodeFrame({ type: 'handshake', version: WIRE_VERSION, fileId: fromHex(this.fileId), bitfield: have }))
    this.sendPing(peer)
    this.changed()
  }

  private onClose(peer: Peer, reason: string): void {
    if (this.peers.get(peer.id) !== peer) return
    this.peers.delete(peer.id)
    if (!peer.remote && peer.initiator) this.recordFailure(peer.id, reason)
    for (const index of this.scheduler?.removePeer(peer.id) ?? []) this.assemblies.delete(index)
    this.connectMore()
    this.pump()
    this.changed()
  }

  private drop(peer: Peer, reason: string, isFailure: boolean): void {
    if (isFailure) this.recordFailure(peer.id, reason)
    this.onClose(peer, reason)
    peer.link.close()
  }

  private recordFailure(peerId: string, reason: string): void {
    const count = (this.failures.get(peerId)?.count ?? 0) + 1
    const backoff = 1000 * 2 ** count
    this.failures.set(peerId, { count, reason, retryAt: this.deps.now() + backoff })
  }

  private isBanned(peerId: string): boolean {
    return (this.strikes.get(peerId) ?? 0) >= BAD_CHUNKS_BEFORE_BAN
  }

  private tick(): void {
    const now = this.deps.now()
    for (const peer of [...this.peers.values()]) {
      if (!peer.link.open && now - peer.startedAt > CONNECT_TIMEOUT_MS) {
        this.drop(peer, 'could not connect (the WebRTC connection timed out)', peer.initiator)
      } else if (peer.link.open && (!peer.ping || now - peer.ping.sentAt > PING_INTERVAL_MS)) {
        this.sendPing(peer)
      }
    }
    for (const [index, assembly] of this.assemblies) {
      if (now - assembly.lastActivity > REQUEST_TIMEOUT_MS) {
        this.assemblies.delete(index)
        this.scheduler?.release(index)
        const peer = this.peers.get(assembly.peerId)
        peer?.link.send(encodeFrame({ type: 'cancel', index, offset: 0, length: assembly.buffer.length }))
      }
    }
    this.connectMore()
    this.pump()
    this.changed()
  }

  private sendPing(peer: Peer): void {
    const nonce = Math.floor(this.deps.random() * 2 ** 32)
    peer.ping = { nonce, sentAt: this.deps.now() }
    peer.link.send(encodeFrame({ type: 'ping', nonce }))
  }

  // ---- wire ----

  private onData(peer: Peer, bytes: Uint8Array): void {
    const manifest = this.manifest
    if (!manifest || this.peers.get(peer.id) !== peer) return
    const decoded = decodeFrame(bytes, manifest)
    if (!decoded.ok) {
      this.drop(peer, `sent an invalid message (${decoded.reason})`, false)
      return
    }
    this.onFrame(peer, decoded.frame, manifest)
  }

  private onFrame(peer: Peer, frame: Frame, manifest: Manifest): void {
    switch (frame.type) {
      case 'handshake':
        if (toHex(frame.fileId) !== this.fileId || frame.version !== WIRE_VERSION) {
          this.drop(peer, 'is on a different file or protocol version', false)
          return
        }
        peer.remote = frame.bitfield
        this.scheduler?.addPeer(peer.id, frame.bitfield)
        this.pump()
        this.changed()
        return
      case 'have':
        peer.remote?.set(frame.index)
        this.scheduler?.peerHas(peer.id, frame.index)
        this.pump()
        return
      case 'request':
        if (!this.scheduler?.has(frame.index) || peer.uploads.length >= MAX_QUEUED_UPLOADS) {
          peer.link.send(encodeFrame({ ...frame, type: 'reject' }))
          return
        }
        peer.uploads.push(frame)
        void this.pumpUploads(peer)
        return
      case 'cancel':
        peer.uploads = peer.uploads.filter((r) => r.index !== frame.index || r.offset !== frame.offset)
        return
      case 'reject': {
        const assembly = this.assemblies.get(frame.index)
        if (assembly?.peerId !== peer.id) return
        this.assemblies.delete(frame.index)
        this.scheduler?.release(frame.index)
        this.scheduler?.peerLacks(peer.id, frame.index)
        this.pump()
        return
      }
      case 'piece':
        this.onPiece(peer, frame.index, frame.offset, frame.bytes, manifest)
        return
      case 'ping':
        peer.link.send(encodeFrame({ type: 'pong', nonce: frame.nonce }))
        return
      case 'pong':
        if (peer.ping?.nonce === frame.nonce) peer.rttMs = Math.max(0, Math.round(this.deps.now() - peer.ping.sentAt))
        return
    }
  }

  private onPiece(peer: Peer, index: number, offset: number, bytes: Uint8Array, manifest: Manifest): void {
    const assembly = this.assemblies.get(index)
    if (assembly?.peerId !== peer.id) return // cancelled or re-assigned: drop it
    assembly.buffer.set(bytes, offset)
    assembly.received += bytes.length
    assembly.lastActivity = this.deps.now()
    peer.down.add(bytes.length, assembly.lastActivity)
    this.down.add(bytes.length, assembly.lastActivity)
    if (assembly.received >= assembly.buffer.length) {
      this.assemblies.delete(index)
      void this.finishChunk(peer.id, index, assembly.buffer, manifest)
    }
  }

  private async finishChunk(peerId: string, index: number, buffer: Uint8Array<ArrayBuffer>, manifest: Manifest): Promise<void> {
    const scheduler = this.scheduler!
    if ((await sha256Hex(buffer)) !== manifest.hashes[index]) {
      scheduler.release(index)
      const strikes = (this.strikes.get(peerId) ?? 0) + 1
      this.strikes.set(peerId, strikes)
      const peer = this.peers.get(peerId)
      if (peer && strikes >= BAD_CHUNKS_BEFORE_BAN) this.drop(peer, 'sent corrupt data repeatedly', false)
      this.pump()
      return
    }
    try {
      await this.deps.store.putChunk(this.fileId, index, new Blob([buffer]))
    } catch (error) {
      scheduler.release(index)
      this.fail(storeMessage(error))
      return
    }
    scheduler.complete(index)
    for (const peer of this.peers.values()) {
      if (peer.remote && !peer.remote.get(index)) peer.link.send(encodeFrame({ type: 'have', index }))
    }
    this.queueHave(index)
    if (scheduler.isComplete) {
      const now = this.deps.now()
      void this.deps.store
        .saveEntry({ fileId: this.fileId, name: manifest.name, size: manifest.size, role: this.role, addedAt: now, updatedAt: now })
        .catch(() => undefined)
    }
    this.pump()
    this.changed()
  }

  private pump(): void {
    const scheduler = this.scheduler
    const manifest = this.manifest
    if (this.closed || !scheduler || !manifest || scheduler.isComplete || this.state === 'error') return
    const perPeer = Math.max(MIN_REQUESTS_PER_PEER, Math.floor(IN_FLIGHT_BYTES_PER_PEER / manifest.chunkSize))
    for (const peer of this.peers.values()) {
      if (!peer.link.open || !peer.remote) continue
      const slots = perPeer - scheduler.inFlightFrom(peer.id)
      for (const index of scheduler.assign(peer.id, slots)) {
        const length = chunkLength(manifest, index)
        this.assemblies.set(index, { peerId: peer.id, buffer: new Uint8Array(length), received: 0, lastActivity: this.deps.now() })
        peer.link.send(encodeFrame({ type: 'request', index, offset: 0, length }))
      }
    }
  }

  /** Serves queued requests one chunk at a time, pausing while the link's queue is full. */
  private async pumpUploads(peer: Peer): Promise<void> {
    if (peer.uploading) return
    peer.uploading = true
    try {
      while (peer.uploads.length > 0 && peer.link.open && peer.link.queuedBytes < UPLOAD_QUEUE_BYTES) {
        const range = peer.uploads.shift()!
        const chunk = await this.deps.store.getChunk(this.fileId, range.index)
        if (!chunk || chunk.size < range.offset + range.length) {
          peer.link.send(encodeFrame({ ...range, type: 'reject' }))
          continue
        }
        const bytes = new Uint8Array(await chunk.slice(range.offset, range.offset + range.length).arrayBuffer())
        for (let at = 0; at < bytes.length; at += MAX_PIECE_BYTES) {
          const piece = bytes.subarray(at, at + MAX_PIECE_BYTES)
          peer.link.send(encodeFrame({ type: 'piece', index: range.index, offset: range.offset + at, bytes: piece }))
          const now = this.deps.now()
          peer.up.add(piece.length, now)
          this.up.add(piece.length, now)
        }
      }
    } catch (error) {
      this.drop(peer, `could not be served: ${storeMessage(error)}`, false)
    } finally {
      peer.uploading = false
    }
  }

  // ---- tracker announcements ----

  private announce(): void {
    const manifest = this.manifest
    const scheduler = this.scheduler
    if (!manifest || !scheduler || this.deps.tracker.status !== 'online') return
    if (scheduler.isComplete) {
      void this.deps.tracker.request({ type: 'publish', manifest }).catch(() => undefined)
      return
    }
    const held = scheduler.haveBitfield().indexes()
    if (held.length > 0) this.deps.tracker.send({ type: 'have', fileId: this.fileId, indexes: held })
  }

  private queueHave(index: number): void {
    this.pendingHave.push(index)
    this.haveTimer ??= setTimeout(() => {
      this.haveTimer = undefined
      const indexes = this.pendingHave.splice(0)
      if (indexes.length > 0) this.deps.tracker.send({ type: 'have', fileId: this.fileId, indexes })
    }, 200)
  }
}

function storeMessage(error: unknown): string {
  if (error instanceof StoreError) return error.message
  return `Something went wrong with browser storage (${(error as Error)?.message ?? String(error)}).`
}
