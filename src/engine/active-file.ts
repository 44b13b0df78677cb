import type { Bitfield } from '../protocol/bitfield'
import type { Manifest } from '../protocol/manifest'
import { Capability, type Range } from '../protocol/wire'
import type { Bandwidth } from '../core/rate-limit'
import type { Cancel, ChunkReader, ChunkWriter, Clock, PeerLinkFactory, RelayOption, TrackerPort } from '../core/ports'
import { LANE_STEER_MS } from '../core/lane-controller'
import type { TransferNotice } from '../core/transfer-state'
import { buildPieceMap, withKnownHolders, type PieceMap } from '../core/piece-map'
import { ChunkChecker, storeErrorDetail } from './chunk-checker'
import { Downloader } from './downloader'
import { asTheWireCarries, type FileContent } from './file-content'
import { Playback } from './playback'
import type { Lane, SwarmMember } from './swarm-member'
import { SwarmMembers } from './swarm-members'
import { Uploader } from './uploader'
import type { Wire, WireEvents } from './wire'
import type { PeerView } from './views'

/** What the session lends an active file, and hears from it. */
export interface ActiveFileHooks {
  fileId: string
  manifest: Manifest
  content: FileContent
  have: Bitfield
  tracker: TrackerPort
  links: PeerLinkFactory
  /** The service's relay, for peers no WebRTC connection reaches. */
  relay: RelayOption | undefined
  connectTimeoutMs: number
  /** Lanes per member at most (1: none beyond the first link, and none offered). */
  maxLanes: number
  clock: Clock
  random: () => number
  bandwidth: Bandwidth
  /** The store's chunks (the file's own bytes), and its writer (undefined for a store that only seeds). */
  chunks: ChunkReader
  writer: ChunkWriter | undefined
  canFetch: () => boolean
  isClosed: () => boolean
  onReceived: (bytes: number) => void
  onSent: (bytes: number) => void
  onStored: (index: number) => void
  /** Lanes came or went: the session may dial others. */
  onLinksChanged: () => void
  onChange: () => void
  /** A chunk matched its hash but does not open with the link's key. */
  onUnopenable: () => void
  /** Storing failed: the session pauses with this reason, keeping what it has. */
  onStorageFailed: (notice: Extract<TransferNotice, { kind: 'storage-paused' }>) => void
  /** A stored chunk failed its check; the downloader already counts it missing. */
  onDamaged: (index: number) => void
}

/**
 * A file whose manifest is known (and opened): its members and their lanes, the downloader, the
 * chunk checker, the uploader and the playback, built once and wired to each other here.
 */
export class ActiveFile {
  readonly manifest: Manifest
  readonly content: FileContent
  readonly members: SwarmMembers
  readonly downloader: Downloader
  readonly checker: ChunkChecker
  readonly uploader: Uploader
  readonly playback: Playback
  private readonly stopSteering: Cancel

  constructor(private readonly hooks: ActiveFileHooks) {
    const { fileId, manifest, content, clock, random, bandwidth } = hooks
    this.manifest = manifest
    this.content = content
    this.members = new SwarmMembers(
      {
        fileId,
        manifest,
        tracker: hooks.tracker,
        links: hooks.links,
        relay: hooks.relay,
        connectTimeoutMs: hooks.connectTimeoutMs,
        maxLanes: hooks.maxLanes,
        clock,
        random,
      },
      {
        onLaneOpen: (member, lane) => this.laneOpened(member, lane),
        onDrain: (member, lane) => void this.uploader.serve(member, lane),
        onLaneClosed: (member, lane) => this.laneClosed(member, lane),
        onStats: () => {
          this.steerLanes()
          hooks.onChange()
        },
        onChange: hooks.onChange,
      },
      this.wireEvents(),
    )
    const members = this.members
    this.downloader = new Downloader(manifest, hooks.have, {
      clock,
      random,
      bandwidth,
      members: () => members.ready(),
      member: (peerId) => members.get(peerId),
      canFetch: hooks.canFetch,
      isStoring: (index) => this.checker.isStoring(index),
      store: (peerId, index, bytes) => this.checker.storeVerified(peerId, index, bytes),
      onReceived: hooks.onReceived,
      onStored: (index) => this.stored(index),
      onChange: hooks.onChange,
    })
    const scheduler = this.downloader.scheduler
    this.checker = new ChunkChecker({
      fileId,
      manifest,
      toStored: content.toStored,
      onUnopenable: hooks.onUnopenable,
      writer: hooks.writer,
      isClosed: hooks.isClosed,
      has: (index) => scheduler.has(index),
      ban: (peerId, reason) => members.ban(peerId, reason),
      onStorageFailed: (detail) =>
        hooks.onStorageFailed({ kind: 'storage-paused', detail, have: scheduler.haveCount, total: scheduler.total }),
      onDamaged: (index) => {
        this.downloader.lose(index)
        hooks.onDamaged(index)
      },
    })
    this.uploader = new Uploader({
      fileId,
      chunks: asTheWireCarries(hooks.chunks, () => content),
      members: () => members.ready(),
      bandwidth,
      clock,
      random,
      has: (index) => scheduler.has(index),
      isVerified: (index) => this.checker.isVerified(index),
      verify: (index, bytes) => this.checker.checkStored(index, bytes),
      onSent: (member, bytes) => {
        member.dataAt = clock.now()
        hooks.onSent(bytes)
      },
      onFailed: (member, error) =>
        members.dropPeer(member.id, `could not be served: ${storeErrorDetail(error) ?? 'browser storage failed'}`),
    })
    this.uploader.reset(manifest.hashes.length)
    this.playback = new Playback({
      layout: content.layout,
      has: (index) => scheduler.has(index),
      read: (index) => hooks.chunks.readChunk(fileId, index),
      prioritize: (indexes) => this.downloader.prioritize(indexes),
    })
    this.stopSteering = clock.every(LANE_STEER_MS, () => this.steerLanes())
  }

  get complete(): boolean {
    return this.downloader.scheduler.isComplete
  }

  close(): void {
    this.stopSteering()
    this.downloader.close()
    this.members.closeAll()
    this.playback.close()
  }

  /** Our upload cap changed: every member hears it on each of its lanes. */
  uploadCapChanged(): void {
    const rate = this.hooks.bandwidth.up?.rate
    for (const member of this.members.ready()) for (const lane of member.readyLanes()) lane.wire.uploadCap(rate)
  }

  /** Once a second: lanes' timeouts and pings, stalled requests, choking. */
  tick(): void {
    this.members.tick()
    this.downloader.tick()
    const scheduler = this.downloader.scheduler
    this.uploader.tick([...this.members.ready()], scheduler.haveBitfield(), !scheduler.isComplete)
  }

  peerViews(): PeerView[] {
    return this.members.views()
  }

  /** Chunks grouped into cells for drawing (holders: linked members, or the tracker's word). */
  pieceMap(): PieceMap {
    const scheduler = this.downloader.scheduler
    return buildPieceMap(withKnownHolders(scheduler.chunkStates(), this.members.knownHolders(scheduler.total)))
  }

  /** A chunk is verified and stored: every member that lacks it hears so, over one of its lanes. */
  private stored(index: number): void {
    for (const member of this.members.ready()) {
      if (member.remote?.get(index)) continue
      member.readyLanes()[0]?.wire.have(index)
    }
    this.playback.arrived(index)
    this.hooks.onStored(index)
  }

  private laneOpened(member: SwarmMember, lane: Lane): void {
    const capabilities = this.hooks.maxLanes > 1 ? Capability.lanes : 0
    lane.wire.handshake(this.downloader.scheduler.haveBitfield(), capabilities, this.hooks.bandwidth.up?.rate)
    this.members.preferDirect(member, lane)
    this.uploader.laneOpened(member, lane)
    this.members.ping(member, lane)
    this.hooks.onChange()
  }

  private laneClosed(member: SwarmMember, lane: Lane): void {
    this.downloader.dropped(member, lane.wire.requests())
    if (!member.linked) this.uploader.memberGone(member)
    this.hooks.onLinksChanged()
  }

  /** Each member's lane controller decides from what its lanes move and what is left to fetch from it (every LANE_STEER_MS, and as lanes open). */
  steerLanes(): void {
    const now = this.hooks.clock.now()
    for (const member of this.members.ready()) {
      const cap = this.members.laneCap(member)
      if (cap <= 1 || !member.takesLanes) continue
      const open = member.openLanes().length
      const decision = member.laneControl.decide({
        now,
        cap,
        open,
        connecting: member.lanes.length - open,
        ours: member.lanes.filter((lane) => lane.extra && lane.initiator && lane.link.open).length,
        bytesDown: member.bytesDown,
        rttMs: member.pathRttMs,
        wantedBytes: this.downloader.wantedFrom(member),
        senderCap: member.uploadCap,
        idleMs: now - member.dataAt,
      })
      if (decision && 'open' in decision) this.members.openLanes(member, decision.open)
      else if (decision) this.members.closeLanes(member, decision.close, `closed: ${decision.reason}`)
    }
  }

  private wireEvents(): WireEvents {
    const hooks = this.hooks
    const on = <T extends unknown[]>(handle: (member: SwarmMember, lane: Lane, ...rest: T) => void) => {
      return (wire: Wire, ...rest: T) => {
        const member = this.members.get(wire.peerId)
        const lane = member?.laneOf(wire)
        if (member && lane) handle(member, lane, ...rest)
      }
    }
    return {
      onHandshake: on((member, _lane, bitfield: Bitfield) => {
        const first = member.remote === undefined
        this.downloader.handshake(member, member.learnHandshake(bitfield), first)
        hooks.onChange()
      }),
      onCapabilities: on((member, _lane, capabilities: number) => {
        member.takesLanes = (capabilities & Capability.lanes) !== 0
      }),
      onUploadCap: on((member, _lane, bytesPerSecond: number | undefined) => {
        member.uploadCap = bytesPerSecond
      }),
      onHave: on((member, _lane, index: number) => {
        member.remote?.set(index)
        this.downloader.have(member, index)
      }),
      onPiece: on((member, _lane, index: number, offset: number, bytes: Uint8Array) => {
        member.dataAt = hooks.clock.now()
        this.downloader.piece(member, index, offset, bytes)
      }),
      onUnwanted: (_wire, bytes) => this.downloader.unwanted(bytes),
      onReject: on((member, _lane, index: number) => {
        member.remote?.set(index, false)
        this.downloader.rejected(member, index)
        hooks.onChange()
      }),
      onChoke: on((member, _lane, dropped: number[]) => this.downloader.dropped(member, dropped)),
      onUnchoke: () => this.downloader.pump(),
      onRequest: on((member, lane, range: Range) => this.uploader.request(member, lane, range)),
      onCancel: on((_member, lane, range: Range) => this.uploader.cancel(lane, range)),
      onBad: (wire, reason) => this.members.ban(wire.peerId, reason),
    }
  }
}
