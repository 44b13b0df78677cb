import { Bitfield } from '../protocol/bitfield'
import type { Manifest } from '../protocol/manifest'
import type { SignalData } from '../protocol/tracker'
import { LANE_LINK_PREFIX } from '../protocol/wire'
import { RELAY_LINK_PREFIX } from '../protocol/relay-frame'
import { MAX_RELAYED_LANES } from '../core/lane-controller'
import type { Clock, PeerLinkFactory, RelayOption, TrackerPort } from '../core/ports'
import { SwarmMember, type Lane } from './swarm-member'
import { Wire, type WireEvents } from './wire'
import type { PeerView } from './views'
import {
  MAX_LINKS_PER_FILE,
  MAX_INCOMING_LINKS_PER_FILE,
  MAX_PENDING_INCOMING_LINKS,
  MAX_EXTRA_LANES_PER_FILE,
  PING_INTERVAL_MS,
  PING_TIMEOUT_MS,
  LEFT_PROBE_MS,
  DIRECT_RETRY_MS,
} from './swarm-limits'

export interface SwarmMembersDeps {
  fileId: string
  manifest: Manifest
  tracker: TrackerPort
  links: PeerLinkFactory
  relay: RelayOption | undefined
  connectTimeoutMs: number
  /** Lanes per member at most (1: no extra lanes). */
  maxLanes: number
  clock: Clock
  random: () => number
}

export interface SwarmMembersEvents {
  /** A lane's connection opened: its wire is ready to handshake. */
  onLaneOpen(member: SwarmMember, lane: Lane): void
  onDrain(member: SwarmMember, lane: Lane): void
  /** A lane is gone (already removed from its member): what was asked on it goes back to the pool. */
  onLaneClosed(member: SwarmMember, lane: Lane): void
  /** A lane's stats (route, round trip) changed. */
  onStats(member: SwarmMember, lane: Lane): void
  onChange(): void
}

const isLaneLinkId = (linkId: string) => linkId.startsWith(LANE_LINK_PREFIX)
const isRelayLinkId = (linkId: string) => linkId.startsWith(RELAY_LINK_PREFIX)

/**
 * The members of one file's swarm: who the tracker says is in it, the lanes to each (dialling,
 * offers, glare, liveness), and who is not to be dialled again and why.
 */
export class SwarmMembers {
  private readonly members = new Map<string, SwarmMember>()

  constructor(
    private readonly deps: SwarmMembersDeps,
    private readonly events: SwarmMembersEvents,
    /** Every wire's frames; a wire that reports bad frames is banned here first. */
    private readonly wireEvents: WireEvents,
  ) {}

  get(peerId: string): SwarmMember | undefined {
    return this.members.get(peerId)
  }

  all(): Iterable<SwarmMember> {
    return this.members.values()
  }

  /** Members with a lane whose handshake is done. */
  *ready(): Iterable<SwarmMember> {
    for (const member of this.members.values()) if (member.ready) yield member
  }

  private member(peerId: string): SwarmMember {
    let member = this.members.get(peerId)
    if (!member) this.members.set(peerId, (member = new SwarmMember(peerId)))
    return member
  }

  // ---- what the tracker says ----

  learn(peerId: string, have: Bitfield): void {
    if (peerId !== this.deps.tracker.peerId) this.member(peerId).tracked = have
  }

  /** Per chunk, how many swarm members hold it as the tracker told (linked to us or not). */
  knownHolders(total: number): Uint16Array {
    const counts = new Uint16Array(total)
    for (const { tracked } of this.members.values()) for (const index of tracked?.indexes() ?? []) if (index < total) counts[index]! += 1
    return counts
  }

  /**
   * A swarm member announced (or lost) chunks. A member not met yet (a big swarm's location lists
   * only a sample) is learnt from its first announcement.
   */
  swarmHas(peerId: string, indexes: number[], held: boolean): void {
    if (peerId === this.deps.tracker.peerId) return
    const member = held ? this.member(peerId) : this.members.get(peerId)
    if (!member) return
    if (!member.tracked && held) member.tracked = new Bitfield(this.deps.manifest.hashes.length)
    for (const index of indexes) if (member.tracked && index < member.tracked.length) member.tracked.set(index, held)
  }

  /** The tracker says the peer left; a lane to it that is still alive answers a ping, else it goes. */
  peerLeft(peerId: string): void {
    const member = this.members.get(peerId)
    if (!member) return
    member.forgetTracking()
    const open = member.openLanes()
    if (open.length === 0) return this.forgetIfIdle(member)
    member.leftProbeUntil = this.deps.clock.now() + LEFT_PROBE_MS
    for (const lane of open) this.ping(member, lane)
  }

  // ---- first links ----

  /** Dials swarm members, those holding any of `missing` first, then the rest (to trade later). */
  dial(missing: number[]): void {
    const now = this.deps.clock.now()
    let outgoing = 0
    for (const member of this.members.values()) if (member.firstLane?.initiator) outgoing++
    const candidates = [...this.members.values()].filter((member) => member.canDial(now))
    // A WebRTC connection takes a good part of a second: have it up before there is trade.
    const useful = (member: SwarmMember) => missing.some((index) => member.tracked!.get(index))
    for (const member of [...candidates.filter(useful), ...candidates.filter((c) => !useful(c))]) {
      if (outgoing >= MAX_LINKS_PER_FILE) break
      // A peer no WebRTC connection reached is tried through the relay next (then directly again).
      const viaRelay = member.directFailures > 0 && this.relayAvailable
      this.addLane(member, true, this.newLinkId(viaRelay ? RELAY_LINK_PREFIX : ''), false, viaRelay ? 'relay' : 'webrtc')
      outgoing++
    }
  }

  /** A signal relayed by the tracker: part of a known lane, an extra lane, or an offer for a first link. */
  accept(from: string, linkId: string, data: SignalData): void {
    const member = this.member(from)
    if (member.banned !== undefined) return
    const known = member.laneByLinkId(linkId)
    if (data.type === 'busy') {
      // Our offer was refused for now: try others, and this peer again after the redial delay.
      if (known?.initiator && !known.link.open) this.dropLane(member, known, 'busy: at its limit of links', false)
      return
    }
    if (known) return known.link.signal(data)
    const viaRelay = isRelayLinkId(linkId) && data.type === 'relay'
    if (data.type !== 'offer' && !viaRelay) return // a late signal of an attempt that was abandoned
    if (viaRelay && !this.relayAvailable) return this.answerBusy(member, linkId)
    if (isLaneLinkId(linkId)) return this.acceptLane(member, linkId, data)
    if (member.linked) {
      const first = member.firstLane
      // Both sides dialled at once: the peer with the smaller id keeps its own attempt.
      if (first?.initiator && !first.link.open && (this.deps.tracker.peerId ?? '') < from) return
      // A new first link means the peer lost ours: every lane to it is stale. An offer of its own
      // that never got as far as a handshake counts as a failed attempt, so a peer re-offering
      // without end is backed off and then skipped; not so when the relay replaces it (that is
      // the peer's answer to the failure).
      const failed = !viaRelay && first !== undefined && !first.initiator && !first.wire.handshaken
      this.dropMember(member, viaRelay ? 'replaced by a link through the relay' : 'replaced by a newer connection', failed)
    }
    // A peer whose links keep failing to open waits, as when we dial it, and is skipped in the end.
    if (member.backedOff(this.deps.clock.now())) return
    let pending = 0
    let incoming = 0
    for (const other of this.members.values()) {
      const lane = other.firstLane
      if (!lane || lane.initiator) continue
      incoming++
      if (!lane.link.open) pending++
    }
    if (incoming >= MAX_INCOMING_LINKS_PER_FILE || pending >= MAX_PENDING_INCOMING_LINKS) return this.answerBusy(member, linkId)
    const lane = this.addLane(member, false, linkId, false, viaRelay ? 'relay' : 'webrtc')
    if (!viaRelay) lane.link.signal(data)
  }

  private get relayAvailable(): boolean {
    return this.deps.relay?.available() ?? false
  }

  /** An extra lane is taken only from a member already linked that takes lanes, under the caps. */
  private acceptLane(member: SwarmMember, linkId: string, data: SignalData): void {
    // A member reached only through the relay may always try one direct lane: it replaces the relay.
    const cap = member.onlyRelayed ? member.lanes.length + 1 : this.laneCap(member)
    if (!member.ready || !member.takesLanes || member.lanes.length >= cap || this.extraLanes() >= MAX_EXTRA_LANES_PER_FILE) {
      return this.answerBusy(member, linkId)
    }
    this.addLane(member, false, linkId, true).link.signal(data)
  }

  /** Refuses an offer at once (the dialer would otherwise wait out its connect timeout), at most once per interval a peer. */
  private answerBusy(member: SwarmMember, linkId: string): void {
    if (!member.takeBusyAnswer(this.deps.clock.now())) return
    this.deps.tracker.send({ type: 'signal', to: member.id, fileId: this.deps.fileId, link: linkId, data: { type: 'busy' } })
  }

  // ---- lanes ----

  /** The most lanes a member may have: fewer through a TURN relay (each costs an allocation there), one through the service's. */
  laneCap(member: SwarmMember): number {
    if (member.lanes.some((lane) => lane.transport === 'relay')) return 1
    const relayed = member.lanes.some((lane) => lane.stats?.route === 'relayed')
    return relayed ? Math.min(this.deps.maxLanes, MAX_RELAYED_LANES) : this.deps.maxLanes
  }

  private extraLanes(): number {
    let count = 0
    for (const member of this.members.values()) for (const lane of member.lanes) if (lane.extra) count++
    return count
  }

  /** Opens up to `count` extra lanes to a member that takes them. */
  openLanes(member: SwarmMember, count: number): void {
    const room = Math.min(this.laneCap(member) - member.lanes.length, MAX_EXTRA_LANES_PER_FILE - this.extraLanes())
    if (!member.takesLanes || !member.ready) return
    for (let i = 0; i < Math.min(count, room); i++) this.addLane(member, true, this.newLinkId(LANE_LINK_PREFIX), true)
  }

  /** Closes up to `count` of the extra lanes we opened to a member, the newest first. */
  closeLanes(member: SwarmMember, count: number, reason: string): void {
    const ours = member.lanes.filter((lane) => lane.extra && lane.initiator).reverse()
    for (const lane of ours.slice(0, count)) this.dropLane(member, lane, reason, false)
  }

  /** Closes a lane; for a first link, a failure counts toward skipping the peer, anything else only delays a redial. */
  dropLane(member: SwarmMember, lane: Lane, reason: string, isFailure: boolean): void {
    this.closed(member, lane, reason, isFailure)
    lane.link.close()
  }

  /** Closes every lane to a member. */
  dropMember(member: SwarmMember, reason: string, isFailure = false): void {
    for (const lane of [...member.lanes]) this.dropLane(member, lane, reason, isFailure)
  }

  /** Disconnects a misbehaving peer for good; it is listed as skipped with the reason. */
  ban(peerId: string, reason: string): void {
    const member = this.member(peerId)
    member.banned = reason
    this.dropMember(member, reason)
  }

  /** Closes every lane to a peer, if any, as `dropLane` does. */
  dropPeer(peerId: string, reason: string): void {
    const member = this.members.get(peerId)
    if (member) this.dropMember(member, reason)
  }

  closeAll(): void {
    for (const member of [...this.members.values()]) this.dropMember(member, 'closed here')
  }

  /** Once a second: connection timeouts, liveness (any frame counts as life) and pings. */
  tick(): void {
    const now = this.deps.clock.now()
    for (const member of [...this.members.values()]) {
      if (member.isForgettable(now)) {
        this.members.delete(member.id)
        continue
      }
      if (member.leftProbeUntil !== undefined && member.lanes.some((lane) => lane.wire.lastPing()?.answered ?? false)) {
        member.leftProbeUntil = undefined
      }
      if (member.leftProbeUntil !== undefined && now > member.leftProbeUntil) {
        member.leftProbeUntil = undefined
        this.dropMember(member, 'left (its tab closed)')
        continue
      }
      for (const lane of [...member.lanes]) this.tickLane(member, lane, now)
      this.retryDirect(member, now)
    }
  }

  /** A member reached only through the relay gets a direct lane now and then; once it opens, the relay goes (see laneOpened). */
  private retryDirect(member: SwarmMember, now: number): void {
    if (!member.onlyRelayed || !member.ready || !member.takesLanes || now < member.directRetryAt) return
    member.directRetryAt = now + DIRECT_RETRY_MS
    this.addLane(member, true, this.newLinkId(LANE_LINK_PREFIX), true, 'webrtc')
  }

  /** A direct lane opened to a member reached through the relay: the relayed ones close. */
  preferDirect(member: SwarmMember, opened: Lane): void {
    if (opened.transport !== 'webrtc') return
    for (const lane of member.lanes.filter((other) => other.transport === 'relay'))
      this.dropLane(member, lane, 'replaced by a direct connection', false)
  }

  private tickLane(member: SwarmMember, lane: Lane, now: number): void {
    const ping = lane.wire.lastPing()
    if (!lane.link.open) {
      if (now - lane.startedAt > this.deps.connectTimeoutMs) {
        this.dropLane(member, lane, 'could not connect (the WebRTC connection timed out)', !lane.wire.handshaken)
      }
    } else if (ping && !ping.answered && now - ping.sentAt > PING_TIMEOUT_MS && now - lane.wire.lastHeardAt > PING_TIMEOUT_MS) {
      this.dropLane(member, lane, 'stopped answering', false)
    } else if (!ping || (ping.answered && now - ping.sentAt > PING_INTERVAL_MS)) {
      this.ping(member, lane)
    }
  }

  /** Pings over a lane (its pong measures the round trip) and reads its stats again (ICE can change the route). */
  ping(member: SwarmMember, lane: Lane): void {
    lane.wire.sendPing()
    this.readStats(member, lane)
  }

  readStats(member: SwarmMember, lane: Lane): void {
    void lane.link.stats().then(
      (stats) => {
        if (!stats || (stats.route === lane.stats?.route && stats.rttMs === lane.stats?.rttMs)) return
        lane.stats = stats
        this.events.onStats(member, lane)
      },
      () => undefined,
    )
  }

  /** Set when every member that is ready is reached only through the service's relay: what it carries. */
  relayedOnly(): { bytesPerSecond: number | undefined } | undefined {
    const ready = [...this.ready()]
    if (ready.length === 0 || !ready.every((member) => member.onlyRelayed)) return undefined
    return { bytesPerSecond: this.deps.relay?.bytesPerSecond() }
  }

  /** Some member, linked or being linked, may hold one of `missing` (unknown until its handshake). */
  mayHold(missing: number[]): boolean {
    for (const member of this.members.values()) {
      if (!member.linked) continue
      if (!member.remote || missing.some((index) => member.remote!.get(index))) return true
    }
    return false
  }

  /** Every member to show: linked or being linked, and those skipped with the reason. */
  views(): PeerView[] {
    const now = this.deps.clock.now()
    return [...this.members.values()].flatMap((member) => member.view(now) ?? [])
  }

  private newLinkId(prefix: string): string {
    return prefix + Math.floor(this.deps.random() * 2 ** 52).toString(36)
  }

  private addLane(member: SwarmMember, initiator: boolean, linkId: string, extra: boolean, transport: Lane['transport'] = 'webrtc'): Lane {
    const { deps } = this
    const current = () => member.lanes.includes(lane)
    const factory = transport === 'relay' && deps.relay ? deps.relay.links : deps.links
    const link = factory.create(
      { initiator, remoteId: member.id, linkId, fileId: deps.fileId, iceServers: deps.tracker.iceServers },
      {
        onSignal: (data) => deps.tracker.send({ type: 'signal', to: member.id, fileId: deps.fileId, link: linkId, data }),
        onOpen: () => {
          if (!current()) return
          if (!extra) member.connected(transport)
          this.events.onLaneOpen(member, lane)
        },
        onData: (bytes) => {
          if (current()) lane.wire.receive(bytes)
        },
        onDrain: () => this.events.onDrain(member, lane),
        onClose: (reason) => this.closed(member, lane, reason, initiator && !lane.wire.handshaken),
      },
    )
    const wire = new Wire(
      member.id,
      link,
      { fileId: deps.fileId, manifest: deps.manifest, now: deps.clock.now, random: deps.random },
      this.wireEvents,
    )
    const lane: Lane = { linkId, initiator, extra, transport, startedAt: deps.clock.now(), link, wire, stats: undefined }
    member.lanes.push(lane)
    this.events.onChange()
    return lane
  }

  private closed(member: SwarmMember, lane: Lane, reason: string, isFailure: boolean): void {
    if (!member.lanes.includes(lane)) return
    member.removeLane(lane)
    const now = this.deps.clock.now()
    if (!lane.extra) member.ended(reason, isFailure, now)
    else if (lane.initiator && isFailure) member.laneControl.laneFailed()
    if (isFailure && lane.transport === 'webrtc' && !lane.wire.handshaken) member.directFailures++
    if (!member.linked) {
      member.remote = undefined
      member.takesLanes = false
      // Its first link had gone before: the redial waits as after any link that worked.
      if (lane.extra) member.ended(reason, false, now)
    }
    this.events.onLaneClosed(member, lane)
    this.forgetIfIdle(member)
  }

  private forgetIfIdle(member: SwarmMember): void {
    if (member.isForgettable(this.deps.clock.now())) this.members.delete(member.id)
  }
}
