import { describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import type { Manifest } from '../../src/protocol/manifest'
import type { ClientMessage, SignalData } from '../../src/protocol/tracker'
import type { LinkStats, PeerLink, PeerLinkEvents, PeerLinkOptions, TrackerPort } from '../../src/core/ports'
import { MAX_EXTRA_LANES_PER_FILE, MAX_INCOMING_LINKS_PER_FILE, MAX_LINKS_PER_FILE } from '../../src/engine/swarm-limits'
import { SwarmMembers } from '../../src/engine/swarm-members'
import { FakeClock } from '../support/fake-clock'
import { QUIET_WIRE } from '../support/lanes'

const manifest = { v: 1, name: 'm.bin', size: 4 * 1024, type: '', chunkSize: 1024, hashes: Array(4).fill('00'.repeat(32)) } as Manifest
const OFFER: SignalData = { type: 'offer', sdp: 'x' }

class FakeLink implements PeerLink {
  open = false
  closed = false
  queuedBytes = 0
  maxMessageBytes = undefined
  signals: SignalData[] = []
  readonly remoteId: string
  readonly linkId: string
  readonly initiator: boolean

  constructor(
    options: PeerLinkOptions,
    readonly events: PeerLinkEvents,
  ) {
    this.remoteId = options.remoteId
    this.linkId = options.linkId
    this.initiator = options.initiator
  }

  send(): void {}
  signal(data: SignalData): void {
    this.signals.push(data)
  }
  async stats(): Promise<LinkStats> {
    return { route: 'direct', path: 'host', rttMs: 40 }
  }
  close(): void {
    this.closed = true
    this.open = false
  }
  connect(): void {
    this.open = true
    this.events.onOpen()
  }
}

function setup({ maxLanes = 8 } = {}) {
  const clock = new FakeClock()
  const sent: ClientMessage[] = []
  const links: FakeLink[] = []
  const tracker = {
    status: 'online',
    peerId: 'me',
    iceServers: [],
    send: (message: ClientMessage) => sent.push(message),
  } as unknown as TrackerPort
  const members = new SwarmMembers(
    {
      fileId: 'ab'.repeat(32),
      manifest,
      relay: undefined,
      tracker,
      links: { create: (options, events) => links[links.push(new FakeLink(options, events)) - 1]! },
      connectTimeoutMs: 15_000,
      maxLanes,
      clock,
      random: Math.random,
    },
    {
      onLaneOpen: () => undefined,
      onDrain: () => undefined,
      onLaneClosed: () => undefined,
      onStats: () => undefined,
      onChange: () => undefined,
    },
    QUIET_WIRE,
  )
  const busyTo = (peerId: string) => sent.filter((m) => m.type === 'signal' && m.to === peerId && m.data.type === 'busy')
  /** A member that dialled us, linked and handshaken, that says it takes lanes (or not). */
  const linkedMember = (peerId: string, takesLanes = true) => {
    members.accept(peerId, `first${peerId}`, OFFER)
    const link = links.at(-1)!
    link.connect()
    const member = members.get(peerId)!
    member.lanes[0]!.wire.handshaken = true
    member.takesLanes = takesLanes
    return member
  }
  return { clock, members, links, sent, busyTo, linkedMember }
}

describe('a file’s swarm members and their lanes', () => {
  it('takes an extra lane from a linked member that takes lanes, as the same member', () => {
    const { members, links, linkedMember, busyTo } = setup()
    const member = linkedMember('p')
    members.accept('p', 'Lextra1', OFFER)
    expect(member.lanes).toHaveLength(2)
    expect(member.lanes[1]).toMatchObject({ extra: true, initiator: false, linkId: 'Lextra1' })
    expect(links.at(-1)!.signals).toEqual([OFFER])
    expect(busyTo('p')).toEqual([])
    links.at(-1)!.connect()
    expect(members.views()).toEqual([expect.objectContaining({ peerId: 'p', status: 'connected', lanes: 2 })])
  })

  it('answers "busy" to a lane offer from a stranger, from a member that did not say it takes lanes, and over the cap', () => {
    const { members, clock, linkedMember, busyTo } = setup({ maxLanes: 2 })
    members.accept('stranger', 'Lx', OFFER)
    expect(busyTo('stranger')).toHaveLength(1)
    expect(members.get('stranger')?.lanes ?? []).toEqual([])
    linkedMember('old', false)
    members.accept('old', 'Ly', OFFER)
    expect(busyTo('old')).toHaveLength(1)
    const member = linkedMember('new')
    members.accept('new', 'L1', OFFER)
    clock.advance(10_000)
    members.accept('new', 'L2', OFFER)
    expect(member.lanes).toHaveLength(2)
    expect(busyTo('new')).toHaveLength(1)
  })

  it('opens lanes only to a member that takes them, each with a lane link id, up to the cap', () => {
    const { members, links, linkedMember } = setup({ maxLanes: 4 })
    const old = linkedMember('old', false)
    members.openLanes(old, 3)
    expect(old.lanes).toHaveLength(1)
    const member = linkedMember('new')
    members.openLanes(member, 10)
    expect(member.lanes).toHaveLength(4)
    expect(links.slice(-3).map((link) => [link.initiator, link.linkId[0]])).toEqual([
      [true, 'L'],
      [true, 'L'],
      [true, 'L'],
    ])
    members.closeLanes(member, 2, 'closed: idle')
    expect(member.lanes).toHaveLength(2)
    expect(links.slice(-2).every((link) => link.closed)).toBe(true)
  })

  it('keeps extra lanes to a file under its cap, all members together', () => {
    const { members, linkedMember } = setup()
    let opened = 0
    for (let i = 0; i < 10; i++) {
      const member = linkedMember(`m${i}`)
      members.openLanes(member, 7)
      opened += member.lanes.length - 1
    }
    expect(opened).toBe(MAX_EXTRA_LANES_PER_FILE)
  })

  it('counts only members that dialled us against the incoming limit', () => {
    const { members, links, linkedMember, busyTo } = setup()
    for (let i = 0; i < MAX_LINKS_PER_FILE; i++) members.learn(`out${i}`, new Bitfield(4))
    members.dial([0])
    for (const link of links) link.connect()
    for (let i = 0; i < MAX_INCOMING_LINKS_PER_FILE; i++) linkedMember(`in${i}`)
    expect(busyTo(`in${MAX_INCOMING_LINKS_PER_FILE - 1}`)).toEqual([])
    members.accept('one-more', 'late', OFFER)
    expect(busyTo('one-more')).toHaveLength(1)
  })

  it('a new first-link offer from a linked member replaces all its lanes (it lost them)', () => {
    const { members, links, linkedMember } = setup()
    const member = linkedMember('p')
    members.accept('p', 'Lextra', OFFER)
    const [first, extra] = links.slice(-2)
    members.accept('p', 'again', OFFER)
    expect(first!.closed && extra!.closed).toBe(true)
    expect(member.lanes.map((lane) => lane.linkId)).toEqual(['again'])
  })

  it('drops a lane that hears nothing and leaves its ping unanswered, but not one still receiving data', () => {
    const { members, clock, links, linkedMember } = setup()
    const member = linkedMember('p')
    members.accept('p', 'Lextra', OFFER)
    links.at(-1)!.connect()
    const [quiet, busy] = member.lanes
    members.tick() // pings both
    for (let second = 0; second < 25; second++) {
      clock.advance(1000)
      busy!.wire.lastHeardAt = clock.now() // frames keep arriving on this one (its pong is behind them)
      members.tick()
    }
    expect(member.lanes).toEqual([busy])
    expect(quiet!.link.open).toBe(false)
  })
})
