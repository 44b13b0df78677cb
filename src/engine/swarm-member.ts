import { Bitfield } from '../protocol/bitfield'
import { LaneController } from '../core/lane-controller'
import type { LinkStats, PeerLink } from '../core/ports'
import type { Wire } from './wire'
import type { PeerView } from './views'

/** A connection that failed waits this long times 2^failures before the next attempt. */
const RETRY_BASE_MS = 1_000
/** After a working connection closes, wait this long before dialling that peer again (it may be gone). */
export const REDIAL_DELAY_MS = 2_000
export const MAX_CONNECT_ATTEMPTS = 3
/** A peer is told "busy" at most this often: a flood of offers must not make us flood the tracker with answers. */
export const BUSY_ANSWER_INTERVAL_MS = 5_000

/** One peer connection to a member (its first link, or an extra lane), and the wire over it. */
export interface Lane {
  /** Names this connection in signals. */
  readonly linkId: string
  /** We offered it. */
  readonly initiator: boolean
  /** An extra lane (its link id says so), not the member's first link. */
  readonly extra: boolean
  /** A WebRTC connection, or a link through the service's relay. */
  readonly transport: 'webrtc' | 'relay'
  readonly startedAt: number
  readonly link: PeerLink
  readonly wire: Wire
  /** How the connection goes, from its last stats; undefined until read. */
  stats: LinkStats | undefined
}

/**
 * One peer of a file's swarm, as this peer knows it: what the tracker says it holds, the lanes
 * to it (one peer connection each, the wire protocol on each), what it said on them, and whether
 * and when it may be dialled (failed attempts, bans, busy answers).
 */
export class SwarmMember {
  readonly lanes: Lane[] = []
  /** What the tracker says it holds (undefined: it is not in the swarm, as far as the tracker said). */
  tracked: Bitfield | undefined
  /** What it said on its wires (handshake, have, reject); undefined until its first handshake. */
  remote: Bitfield | undefined
  /** It takes extra lanes (said on its wire). */
  takesLanes = false
  /** What it said it caps its upload at, bytes per second (undefined: no cap). */
  uploadCap: number | undefined
  /** Never to be asked again in this session, with the reason shown. */
  banned: string | undefined
  private failure: { count: number; reason: string; retryAt: number } | undefined
  private redialAt = 0
  private busyAnsweredAt = -Infinity
  /** The tracker said it left: a lane still alive must answer a ping by then. */
  leftProbeUntil: number | undefined
  /** WebRTC connections to it that failed to open in a row: past one, the relay is tried. */
  directFailures = 0
  /** While it is reached only through the relay, a direct connection is tried again at this time. */
  directRetryAt = 0
  /** When it last sent or was sent piece data, on any lane. */
  dataAt = -Infinity
  readonly laneControl = new LaneController()
  /** Bytes moved on lanes that have closed. */
  private retired = { down: 0, up: 0 }

  constructor(readonly id: string) {}

  /** A lane is gone: its byte counts stay with the member. */
  removeLane(lane: Lane): void {
    const at = this.lanes.indexOf(lane)
    if (at < 0) return
    this.lanes.splice(at, 1)
    this.retired.down += lane.wire.down.total
    this.retired.up += lane.wire.up.total
  }

  get bytesDown(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.wire.down.total, this.retired.down)
  }

  get bytesUp(): number {
    return this.lanes.reduce((sum, lane) => sum + lane.wire.up.total, this.retired.up)
  }

  /** Lanes whose connection is open. */
  openLanes(): Lane[] {
    return this.lanes.filter((lane) => lane.link.open)
  }

  /** Open lanes whose wire finished its handshake: what requests and uploads go over. */
  readyLanes(): Lane[] {
    return this.lanes.filter((lane) => lane.wire.open && lane.wire.handshaken)
  }

  laneOf(wire: Wire): Lane | undefined {
    return this.lanes.find((lane) => lane.wire === wire)
  }

  laneByLinkId(linkId: string): Lane | undefined {
    return this.lanes.find((lane) => lane.linkId === linkId)
  }

  /** The first link: the one that is not an extra lane. */
  get firstLane(): Lane | undefined {
    return this.lanes.find((lane) => !lane.extra)
  }

  /** Some connection to it is open or under way. */
  get linked(): boolean {
    return this.lanes.length > 0
  }

  /** Some lane finished its handshake. */
  get ready(): boolean {
    return this.lanes.some((lane) => lane.wire.handshaken && lane.wire.open)
  }

  /** May be dialled now: not banned, not linked, not backed off or given up on, and not just gone (it may have left). */
  canDial(now: number): boolean {
    return this.banned === undefined && !this.linked && this.tracked !== undefined && !this.backedOff(now) && this.redialAt <= now
  }

  /** Its connections failed lately (it waits 2^failures seconds), or so often it is given up on. */
  backedOff(now: number): boolean {
    const failure = this.failure
    return failure !== undefined && (failure.count >= MAX_CONNECT_ATTEMPTS || failure.retryAt > now)
  }

  /** Its connections keep failing to open: shown as skipped with the reason. */
  get givenUp(): string | undefined {
    return this.failure && this.failure.count >= MAX_CONNECT_ATTEMPTS ? this.failure.reason : undefined
  }

  /** A first link opened: earlier failures are forgiven (a direct one's, the relay's too). */
  connected(transport: Lane['transport']): void {
    this.failure = undefined
    if (transport === 'webrtc') this.directFailures = 0
  }

  /** Reached only through the relay. */
  get onlyRelayed(): boolean {
    return this.lanes.length > 0 && this.lanes.every((lane) => lane.transport === 'relay')
  }

  /** A first link ended: a failure counts toward giving up; anything else only delays a redial. */
  ended(reason: string, isFailure: boolean, now: number): void {
    if (isFailure) {
      const count = (this.failure?.count ?? 0) + 1
      this.failure = { count, reason, retryAt: now + RETRY_BASE_MS * 2 ** count }
    } else {
      this.redialAt = now + REDIAL_DELAY_MS
    }
  }

  /** The tracker says it left: what was remembered for dialling it is forgotten. */
  forgetTracking(): void {
    this.tracked = undefined
    this.failure = undefined
    this.busyAnsweredAt = -Infinity
    this.redialAt = 0
  }

  /** Whether it may be told "busy" now (at most once per BUSY_ANSWER_INTERVAL_MS); records it. */
  takeBusyAnswer(now: number): boolean {
    if (now - this.busyAnsweredAt < BUSY_ANSWER_INTERVAL_MS) return false
    this.busyAnsweredAt = now
    return true
  }

  /** Nothing worth keeping: no lane, no tracking, no ban, nothing to wait out. */
  isForgettable(now: number): boolean {
    if (this.linked || this.tracked !== undefined || this.banned !== undefined || this.failure !== undefined) return false
    return this.redialAt <= now && now - this.busyAnsweredAt >= BUSY_ANSWER_INTERVAL_MS
  }

  /** What its wires said it holds: a handshake (of its first lane or another) adds to what is known. */
  learnHandshake(bitfield: Bitfield): number[] {
    if (!this.remote) {
      this.remote = new Bitfield(bitfield.length, bitfield.bytes)
      return bitfield.indexes()
    }
    const added = bitfield.indexes().filter((index) => !this.remote!.get(index))
    for (const index of added) this.remote.set(index)
    return added
  }

  /** The round trip of its path: the transport's where known (no queueing in it), else the wire's pings. */
  get rttMs(): number | undefined {
    let best: number | undefined
    for (const lane of this.lanes) {
      const rtt = lane.stats?.rttMs ?? lane.wire.rttMs
      if (rtt !== undefined && lane.link.open && (best === undefined || rtt < best)) best = rtt
    }
    return best
  }

  /** The transport's round trip (the path alone, no queueing); undefined where no lane reported one. */
  get pathRttMs(): number | undefined {
    const rtts = this.lanes.flatMap((lane) => (lane.link.open && lane.stats?.rttMs !== undefined ? [lane.stats.rttMs] : []))
    return rtts.length > 0 ? Math.min(...rtts) : undefined
  }

  downRate(now: number): number {
    return this.lanes.reduce((sum, lane) => sum + lane.wire.down.rate(now), 0)
  }

  upRate(now: number): number {
    return this.lanes.reduce((sum, lane) => sum + lane.wire.up.rate(now), 0)
  }

  /** How the page shows it: linked or being linked, or skipped with the reason; undefined when neither. */
  view(now: number): PeerView | undefined {
    const skipped = this.banned ?? (this.linked ? undefined : this.givenUp)
    if (skipped !== undefined) return { ...IDLE_VIEW, peerId: this.id, status: 'skipped', reason: skipped }
    if (!this.linked) return undefined
    const open = this.openLanes()
    const shown = open[0] ?? this.lanes[0]
    return {
      peerId: this.id,
      status: open.length > 0 ? 'connected' : 'connecting',
      route: shown?.stats?.route,
      path: shown?.stats?.path,
      rttMs: this.rttMs,
      lanes: open.length,
      uploadCap: this.uploadCap,
      bytesDown: this.bytesDown,
      bytesUp: this.bytesUp,
      downRate: this.downRate(now),
      upRate: this.upRate(now),
      reason: undefined,
    }
  }
}

const IDLE_VIEW: Omit<PeerView, 'peerId' | 'status' | 'reason'> = {
  route: undefined,
  path: undefined,
  rttMs: undefined,
  lanes: 0,
  uploadCap: undefined,
  bytesDown: 0,
  bytesUp: 0,
  downRate: 0,
  upRate: 0,
}
