import { Bitfield } from '../protocol/bitfield'
import type { Manifest } from '../protocol/manifest'
import type { SignalData } from '../protocol/tracker'
import type { Clock, LinkRoute, PeerLink, PeerLinkFactory, TrackerPort } from '../core/ports'
import { Wire, type WireEvents } from './wire'
import type { PeerView } from './views'

/** Outgoing connections per file while downloading. */
export const MAX_LINKS_PER_FILE = 8
export const MAX_INCOMING_LINKS_PER_FILE = 16
/** Incoming links still connecting, per file: offers that never complete cannot fill every slot. */
export const MAX_PENDING_INCOMING_LINKS = 4
export const MAX_CONNECT_ATTEMPTS = 3
export const PING_INTERVAL_MS = 10_000
/** A link whose ping goes unanswered this long is dead (Chromium can take ~30 s to notice). */
export const PING_TIMEOUT_MS = 20_000
/** When the tracker says a connected peer left, its link gets this long to answer a ping. */
export const LEFT_PROBE_MS = 3_000
/** After a working link closes, wait this long before dialling that peer again (it may be gone). */
export const REDIAL_DELAY_MS = 2_000
/** A failed connection waits this long times 2^failures before the next attempt. */
const RETRY_BASE_MS = 1_000
/**
 * A peer is told "busy" (at the limit of links) at most this often: a flood of offers must not
 * make this peer flood the tracker with answers.
 */
export const BUSY_ANSWER_INTERVAL_MS = 5_000

/** One connection attempt to a peer, and the wire over it. */
export interface Peer {
  readonly id: string
  /** Names this connection attempt in signals. */
  readonly linkId: string
  readonly initiator: boolean
  readonly startedAt: number
  readonly link: PeerLink
  readonly wire: Wire
}

export interface PeerLinksDeps {
  fileId: string
  tracker: TrackerPort
  links: PeerLinkFactory
  connectTimeoutMs: number
  clock: Clock
  random: () => number
  manifest: () => Manifest | undefined
}

export interface PeerLinksEvents {
  onOpen(wire: Wire): void
  onDrain(wire: Wire): void
  /** The link is gone (already removed): whatever was asked of the peer must go back to the pool. */
  onClosed(wire: Wire): void
  onChange(): void
}

/**
 * The peers of one file: who the tracker says is in the swarm, the WebRTC links to them (dialling,
 * glare, liveness), and who is not to be dialled again (failed connections, bans) and why.
 */
export class PeerLinks {
  readonly peers = new Map<string, Peer>()
  /** Peers the tracker says are in this file's swarm, with the chunks it says they hold. */
  private readonly swarm = new Map<string, Bitfield>()
  private readonly failures = new Map<string, { count: number; reason: string; retryAt: number }>()
  /** When each peer was last told this peer is busy. */
  private readonly busyAnsweredAt = new Map<string, number>()
  /** Peers never to be asked again in this session, with the reason shown to the user. */
  private readonly banned = new Map<string, string>()
  private readonly redialAt = new Map<string, number>()
  /** Links to peers the tracker says left: each must answer a ping by its deadline. */
  private readonly probes = new Map<Peer, number>()
  private readonly routes = new Map<Peer, LinkRoute>()

  constructor(
    private readonly deps: PeerLinksDeps,
    private readonly events: PeerLinksEvents,
    /** Every wire's frames; a wire that reports bad frames is banned here first. */
    private readonly wireEvents: WireEvents,
  ) {}

  /** The wires of open links (handshake done or not). */
  *wires(): Iterable<Wire> {
    for (const peer of this.peers.values()) if (peer.link.open) yield peer.wire
  }

  wire(peerId: string): Wire | undefined {
    return this.peers.get(peerId)?.wire
  }

  // ---- what the tracker says ----

  learn(peerId: string, have: Bitfield): void {
    if (peerId !== this.deps.tracker.peerId) this.swarm.set(peerId, have)
  }

  /** Per chunk, how many swarm members hold it as the tracker told (connected to us or not). */
  knownHolders(total: number): Uint16Array {
    const counts = new Uint16Array(total)
    for (const field of this.swarm.values()) for (const index of field.indexes()) if (index < total) counts[index]! += 1
    return counts
  }

  /**
   * A swarm member announced (or lost) chunks. A member not met yet (a big swarm's location lists
   * only a sample) is learnt from its first announcement.
   */
  swarmHas(peerId: string, indexes: number[], held: boolean): void {
    let field = this.swarm.get(peerId)
    const count = this.deps.manifest()?.hashes.length
    if (!field && held && count !== undefined && peerId !== this.deps.tracker.peerId) this.swarm.set(peerId, (field = new Bitfield(count)))
    for (const index of indexes) if (field && index < field.length) field.set(index, held)
  }

  /** The tracker says the peer left; a link to it that is still alive answers a ping, else it goes. */
  left(peerId: string): void {
    this.swarm.delete(peerId)
    this.failures.delete(peerId)
    this.busyAnsweredAt.delete(peerId)
    this.redialAt.delete(peerId)
    const peer = this.peers.get(peerId)
    if (peer?.link.open) {
      this.probes.set(peer, this.deps.clock.now() + LEFT_PROBE_MS)
      this.sendPing(peer)
    }
  }

  // ---- links ----

  /** Dials swarm members, those holding any of `missing` first, then the rest (to trade later). */
  dial(missing: number[]): void {
    const now = this.deps.clock.now()
    let outgoing = [...this.peers.values()].filter((peer) => peer.initiator).length
    const candidates = [...this.swarm].filter(([peerId]) => {
      const failure = this.failures.get(peerId)
      if (this.peers.has(peerId) || this.banned.has(peerId)) return false
      if (failure && (failure.count >= MAX_CONNECT_ATTEMPTS || failure.retryAt > now)) return false
      return (this.redialAt.get(peerId) ?? 0) <= now
    })
    // A WebRTC connection takes a good part of a second: have it up before there is trade.
    const useful = ([, field]: [string, Bitfield]) => missing.some((index) => field.get(index))
    for (const [peerId] of [...candidates.filter(useful), ...candidates.filter((c) => !useful(c))]) {
      if (outgoing >= MAX_LINKS_PER_FILE) break
      this.add(peerId, true, Math.floor(this.deps.random() * 2 ** 52).toString(36))
      outgoing++
    }
  }

  /** A signal relayed by the tracker: part of a known attempt, or an offer for a new link. */
  accept(from: string, linkId: string, data: SignalData): void {
    if (this.banned.has(from)) return
    const existing = this.peers.get(from)
    if (data.type === 'busy') {
      // Our offer was refused for now: try others, and this peer again after the redial delay.
      if (existing?.linkId === linkId && existing.initiator && !existing.link.open)
        this.drop(existing, 'busy: at its limit of links', false)
      return
    }
    if (existing?.linkId === linkId) {
      existing.link.signal(data)
      return
    }
    if (data.type !== 'offer') return // a late signal of an attempt that was abandoned
    if (existing) {
      // Both sides dialled at once: the peer with the smaller id keeps its own attempt.
      if (existing.initiator && !existing.link.open && (this.deps.tracker.peerId ?? '') < from) return
      // An offer of its own that never got as far as a handshake counts as a failed attempt, so a
      // peer re-offering without end is backed off and then skipped. (A link that worked and went
      // quiet can look closed here without saying so: that is no failure.)
      this.drop(existing, 'replaced by a newer connection', !existing.initiator && !existing.wire.remote)
    }
    // A peer whose links keep failing to open waits, as when we dial it, and is skipped in the end.
    const failure = this.failures.get(from)
    if (failure && (failure.count >= MAX_CONNECT_ATTEMPTS || failure.retryAt > this.deps.clock.now())) return
    let pending = 0
    for (const peer of this.peers.values()) if (!peer.initiator && !peer.link.open) pending++
    if (this.peers.size >= MAX_INCOMING_LINKS_PER_FILE || pending >= MAX_PENDING_INCOMING_LINKS) return this.answerBusy(from, linkId)
    this.add(from, false, linkId).link.signal(data)
  }

  /** Refuses an offer at once (the dialer would otherwise wait out its connect timeout), at most once per BUSY_ANSWER_INTERVAL_MS a peer. */
  private answerBusy(to: string, linkId: string): void {
    const now = this.deps.clock.now()
    if (now - (this.busyAnsweredAt.get(to) ?? -Infinity) < BUSY_ANSWER_INTERVAL_MS) return
    this.busyAnsweredAt.set(to, now)
    this.deps.tracker.send({ type: 'signal', to, fileId: this.deps.fileId, link: linkId, data: { type: 'busy' } })
  }

  /** Closes a link; a failure counts toward skipping the peer, anything else only delays a redial. */
  drop(peer: Peer, reason: string, isFailure: boolean): void {
    this.closed(peer, reason, isFailure)
    peer.link.close()
  }

  /** Disconnects a misbehaving peer for good; it is listed as skipped with the reason. */
  ban(peerId: string, reason: string): void {
    this.banned.set(peerId, reason)
    const peer = this.peers.get(peerId)
    if (peer) this.drop(peer, reason, false)
  }

  /** Closes the link to a peer, if any, as `drop` does. */
  dropPeer(peerId: string, reason: string): void {
    const peer = this.peers.get(peerId)
    if (peer) this.drop(peer, reason, false)
  }

  isBanned(peerId: string): boolean {
    return this.banned.has(peerId)
  }

  closeAll(): void {
    for (const peer of [...this.peers.values()]) this.drop(peer, 'closed here', false)
  }

  /** Once a second: connection timeouts, liveness probes and pings. */
  tick(): void {
    const now = this.deps.clock.now()
    for (const peer of [...this.peers.values()]) {
      const ping = peer.wire.lastPing()
      if (ping?.answered) this.probes.delete(peer)
      const probe = this.probes.get(peer)
      if (!peer.link.open) {
        if (now - peer.startedAt > this.deps.connectTimeoutMs) {
          this.drop(peer, 'could not connect (the WebRTC connection timed out)', !peer.wire.remote)
        }
      } else if (probe !== undefined && now > probe) {
        this.drop(peer, 'left (its tab closed)', false)
      } else if (ping && !ping.answered && now - ping.sentAt > PING_TIMEOUT_MS) {
        this.drop(peer, 'stopped answering', false)
      } else if (!ping || (ping.answered && now - ping.sentAt > PING_INTERVAL_MS)) {
        this.sendPing(peer)
      }
    }
  }

  /** Pings a connected peer (its pong measures the RTT). */
  ping(peerId: string): void {
    const peer = this.peers.get(peerId)
    if (peer) this.sendPing(peer)
  }

  /** Some peer, connected or being connected, may hold one of `missing` (unknown until its handshake). */
  mayHold(missing: number[]): boolean {
    for (const { wire } of this.peers.values()) if (!wire.remote || missing.some((index) => wire.remote!.get(index))) return true
    return false
  }

  /** Pings the peer and reads the link's route again (ICE can change it). */
  private sendPing(peer: Peer): void {
    peer.wire.sendPing()
    void peer.link.route().then(
      (route) => {
        if (route === undefined || route === this.routes.get(peer) || this.peers.get(peer.id) !== peer) return
        this.routes.set(peer, route)
        this.events.onChange()
      },
      () => undefined,
    )
  }

  /** Every peer to show: connected or connecting, and those skipped with the reason. */
  views(): PeerView[] {
    const now = this.deps.clock.now()
    const views: PeerView[] = [...this.peers.values()].map((peer) => ({
      peerId: peer.id,
      status: peer.link.open ? 'connected' : 'connecting',
      route: this.routes.get(peer),
      rttMs: peer.wire.rttMs,
      bytesDown: peer.wire.down.total,
      bytesUp: peer.wire.up.total,
      downRate: peer.wire.down.rate(now),
      upRate: peer.wire.up.rate(now),
      reason: undefined,
    }))
    const skipped = (peerId: string, reason: string): PeerView => ({
      peerId,
      status: 'skipped',
      route: undefined,
      rttMs: undefined,
      bytesDown: 0,
      bytesUp: 0,
      downRate: 0,
      upRate: 0,
      reason,
    })
    for (const [peerId, failure] of this.failures) {
      if (!this.peers.has(peerId) && failure.count >= MAX_CONNECT_ATTEMPTS) views.push(skipped(peerId, failure.reason))
    }
    for (const [peerId, reason] of this.banned) views.push(skipped(peerId, reason))
    return views
  }

  private add(remoteId: string, initiator: boolean, linkId: string): Peer {
    const current = () => this.peers.get(remoteId) === peer
    const link = this.deps.links.create(
      { initiator, remoteId, iceServers: this.deps.tracker.iceServers },
      {
        onSignal: (data) => this.deps.tracker.send({ type: 'signal', to: remoteId, fileId: this.deps.fileId, link: linkId, data }),
        onOpen: () => {
          if (!current()) return
          this.failures.delete(remoteId)
          this.events.onOpen(peer.wire)
        },
        onData: (bytes) => {
          if (current()) peer.wire.receive(bytes)
        },
        onDrain: () => this.events.onDrain(peer.wire),
        onClose: (reason) => this.closed(peer, reason, initiator && !peer.wire.remote),
      },
    )
    const { fileId, clock, random, manifest } = this.deps
    const wire = new Wire(remoteId, link, { fileId, manifest, now: clock.now, random }, this.wireEvents)
    const peer: Peer = { id: remoteId, linkId, initiator, startedAt: clock.now(), link, wire }
    this.peers.set(remoteId, peer)
    this.events.onChange()
    return peer
  }

  private closed(peer: Peer, reason: string, isFailure: boolean): void {
    if (this.peers.get(peer.id) !== peer) return
    this.peers.delete(peer.id)
    this.probes.delete(peer)
    this.routes.delete(peer)
    const now = this.deps.clock.now()
    if (isFailure) {
      const count = (this.failures.get(peer.id)?.count ?? 0) + 1
      this.failures.set(peer.id, { count, reason, retryAt: now + RETRY_BASE_MS * 2 ** count })
    } else {
      this.redialAt.set(peer.id, now + REDIAL_DELAY_MS)
    }
    this.events.onClosed(peer.wire)
  }
}
