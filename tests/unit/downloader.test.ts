import { describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import type { Manifest } from '../../src/protocol/manifest'
import { encodeFrame, type Frame } from '../../src/protocol/wire'
import { TokenBucket } from '../../src/core/rate-limit'
import {
  ASK_AGAIN_AFTER_REJECT_MS,
  Downloader,
  REQUEST_TIMEOUT_MS,
  TAIL_STALL_MIN_MS,
  type StoreOutcome,
} from '../../src/engine/downloader'
import { SwarmMember } from '../../src/engine/swarm-member'
import type { Wire } from '../../src/engine/wire'
import { recordedLane } from '../support/lanes'
import { FakeClock } from '../support/fake-clock'

const CHUNK = 1024
const KiB = 1024
const manifest: Manifest = {
  v: 1,
  name: 'd.bin',
  size: 4 * CHUNK,
  type: '',
  chunkSize: CHUNK,
  hashes: Array(4).fill('00'.repeat(32)),
} as Manifest

/** A downloader over members whose lanes' far ends are the test: it reads what was sent and answers by hand. */
function setup(options: { downCap?: number } = {}) {
  const clock = new FakeClock()
  const members = new Map<string, SwarmMember>()
  const kept: number[] = []
  const downloader = new Downloader(manifest, new Bitfield(4), {
    clock,
    random: () => 0.5,
    bandwidth: { up: undefined, down: options.downCap ? new TokenBucket(options.downCap, CHUNK, clock.now()) : undefined },
    members: () => [...members.values()].filter((member) => member.ready),
    member: (peerId) => members.get(peerId),
    canFetch: () => true,
    isStoring: () => false,
    store: async (_peerId, index): Promise<StoreOutcome> => {
      kept.push(index)
      return 'stored'
    },
    onReceived: () => undefined,
    onStored: () => undefined,
    onChange: () => undefined,
  })
  const routed = (member: SwarmMember) => ({
    onHandshake: (_w: Wire, bitfield: Bitfield) => {
      const first = member.remote === undefined
      downloader.handshake(member, member.learnHandshake(bitfield), first)
    },
    onHave: (_w: Wire, index: number) => downloader.have(member, index),
    onPiece: (_w: Wire, index: number, offset: number, bytes: Uint8Array) => downloader.piece(member, index, offset, bytes),
    onUnwanted: (_w: Wire, bytes: number) => downloader.unwanted(bytes),
    onReject: (_w: Wire, index: number) => {
      member.remote?.set(index, false)
      downloader.rejected(member, index)
    },
    onChoke: (_w: Wire, dropped: number[]) => downloader.dropped(member, dropped),
    onUnchoke: () => downloader.pump(),
  })
  /** One more lane to a member (a new member for a new id), its handshake saying it holds `has`. */
  const lane = (peerId: string, has: number[]) => {
    let member = members.get(peerId)
    if (!member) members.set(peerId, (member = new SwarmMember(peerId)))
    const { wire, sent } = recordedLane(member, manifest, clock.now, routed(member))
    const field = new Bitfield(4)
    for (const index of has) field.set(index)
    wire.receive(encodeFrame({ type: 'handshake', version: 1, fileId: new Uint8Array(32).fill(0xab), bitfield: field }))
    const requests = () => sent.filter((f) => f.type === 'request').map((f) => (f as { index: number }).index)
    const cancels = () => sent.filter((f) => f.type === 'cancel').map((f) => (f as { index: number }).index)
    return { wire, sent, requests, cancels, member }
  }
  return { clock, downloader, peer: lane, lane, kept }
}

describe('the downloader, on a fake clock', () => {
  it('requests what a peer holds as soon as its handshake arrives', () => {
    const { peer } = setup()
    const x = peer('x', [0, 1, 2, 3])
    expect(x.requests().sort()).toEqual([0, 1, 2, 3])
  })

  it('cancels a request that brings no byte for REQUEST_TIMEOUT_MS and places it again', () => {
    const { clock, downloader, peer } = setup()
    const slow = peer('slow', [2])
    expect(slow.requests()).toEqual([2])
    clock.advance(REQUEST_TIMEOUT_MS - 1)
    downloader.tick()
    expect(slow.cancels()).toEqual([])
    clock.advance(2)
    downloader.tick()
    expect(slow.cancels()).toEqual([2])
    expect(slow.requests()).toEqual([2, 2])
  })

  it('assembles pieces into a chunk and hands it to be verified and stored once', async () => {
    const { peer, kept } = setup()
    const x = peer('x', [1])
    x.wire.receive(encodeFrame({ type: 'piece', index: 1, offset: 0, bytes: new Uint8Array(512) }))
    expect(kept).toEqual([])
    x.wire.receive(encodeFrame({ type: 'piece', index: 1, offset: 512, bytes: new Uint8Array(512) }))
    await Promise.resolve()
    expect(kept).toEqual([1])
  })

  it('a refused chunk goes to another holder at once, and is asked of the refusing peer again later if no one served it', () => {
    const { clock, downloader, peer } = setup()
    const busy = peer('busy', [0])
    expect(busy.requests()).toEqual([0])
    busy.wire.receive(encodeFrame({ type: 'reject', index: 0, offset: 0, length: CHUNK }))
    const other = peer('other', [0])
    expect(other.requests()).toEqual([0])
    // Nobody delivers: once the wait is over, the refusing peer is a candidate again (after the other's timeout).
    other.wire.receive(encodeFrame({ type: 'choke' }))
    clock.advance(ASK_AGAIN_AFTER_REJECT_MS - 1)
    downloader.tick()
    expect(busy.requests()).toEqual([0])
    clock.advance(1)
    expect(busy.requests()).toEqual([0, 0])
  })

  it('puts what a choking peer dropped back in the pool for others', () => {
    const { downloader, peer } = setup()
    const x = peer('x', [0])
    expect(x.requests()).toEqual([0])
    x.wire.receive(encodeFrame({ type: 'choke' }))
    expect(downloader.scheduler.inFlightFrom('x')).toBe(0)
    const y = peer('y', [0])
    expect(y.requests()).toEqual([0])
    expect(x.requests()).toEqual([0]) // nothing more is asked of a peer that chokes us
  })

  it('under a download cap, waits for the bucket on the clock before asking for more', () => {
    const { clock, peer } = setup({ downCap: CHUNK }) // one chunk per second, burst of one chunk
    const x = peer('x', [0, 1, 2, 3])
    expect(x.requests()).toHaveLength(1)
    clock.advance(999)
    expect(x.requests()).toHaveLength(1)
    clock.advance(1)
    expect(x.requests()).toHaveLength(2)
  })
})

describe('a member over several lanes', () => {
  const big: Manifest = { ...manifest, size: 16 * 256 * KiB, chunkSize: 256 * KiB, hashes: Array(16).fill('00'.repeat(32)) } as Manifest

  function lanes(chunks = 16) {
    const clock = new FakeClock()
    const member = new SwarmMember('m')
    const manifest = { ...big, size: chunks * 256 * KiB, hashes: big.hashes.slice(0, chunks) } as Manifest
    const downloader = new Downloader(manifest, new Bitfield(chunks), {
      clock,
      random: () => 0.5,
      bandwidth: { up: undefined, down: undefined },
      members: () => (member.ready ? [member] : []),
      member: (peerId) => (peerId === 'm' ? member : undefined),
      canFetch: () => true,
      isStoring: () => false,
      store: async () => 'stored',
      onReceived: () => undefined,
      onStored: () => undefined,
      onChange: () => undefined,
    })
    const open = () => {
      const { lane, wire, sent } = recordedLane(member, manifest, clock.now, {
        onHandshake: (_w, bitfield) => {
          const first = member.remote === undefined
          downloader.handshake(member, member.learnHandshake(bitfield), first)
        },
        onPiece: (_w, index, offset, bytes) => downloader.piece(member, index, offset, bytes),
      })
      wire.receive(encodeFrame({ type: 'handshake', version: 1, fileId: new Uint8Array(32).fill(0xab), bitfield: Bitfield.full(chunks) }))
      const indexes = (type: string) => sent.filter((f) => f.type === type).map((f) => (f as { index: number }).index)
      return { lane, wire, requested: () => indexes('request'), cancelled: () => indexes('cancel') }
    }
    return { clock, member, downloader, open }
  }

  it('stripes requests over the lanes: each lane gets its own pipeline', () => {
    const { open } = lanes()
    const first = open()
    const second = open()
    expect(first.requested().length).toBeGreaterThan(0)
    expect(second.requested().length).toBe(first.requested().length)
    expect(new Set([...first.requested(), ...second.requested()]).size).toBe(first.requested().length * 2) // no chunk asked twice
  })

  it('gives a closed lane’s requests back at once (not after the request timeout), and asks them over the other lane', async () => {
    const { member, downloader, open } = lanes()
    const first = open()
    const second = open()
    const lost = first.wire.requests()
    member.removeLane(first.lane)
    downloader.dropped(member, lost)
    expect(downloader.scheduler.inFlightFrom('m')).toBe(second.wire.requests().length)
    expect(downloader.scheduler.unrequestedFrom('m')).toBeGreaterThanOrEqual(lost.length)
    // The other lane delivers what it was asked: the lost chunks are asked there next, each once, with no time passing.
    for (const done of second.wire.requests()) {
      second.wire.receive(encodeFrame({ type: 'piece', index: done, offset: 0, bytes: new Uint8Array(192 * KiB) }))
      second.wire.receive(encodeFrame({ type: 'piece', index: done, offset: 192 * KiB, bytes: new Uint8Array(64 * KiB) }))
    }
    for (let i = 0; i < 20; i++) await Promise.resolve() // the chunks' checks and stores
    const again = second.requested().filter((index) => lost.includes(index))
    expect(again.length).toBeGreaterThan(0)
    expect(new Set(again).size).toBe(again.length)
  })

  it('in the tail, a lane with nothing to do takes the newest untouched chunk queued on a busy lane', () => {
    const { open } = lanes(4) // the first lane asks for all four chunks at once
    const first = open()
    expect(first.requested()).toEqual([0, 1, 2, 3])
    // A piece of the first chunk arrives: it is under way, the others untouched.
    first.wire.receive(encodeFrame({ type: 'piece', index: 0, offset: 0, bytes: new Uint8Array(192 * KiB) }))
    const second = open()
    expect(second.requested()).toEqual([3])
    expect(first.cancelled()).toEqual([3])
    expect(first.wire.requests()).toEqual([0, 1, 2])
  })
  it('in the tail, the chunks of a lane that stopped move to an idle lane, and only that lane’s copy counts', async () => {
    const { clock, downloader, open } = lanes(2)
    const first = open()
    expect(first.requested()).toEqual([0, 1])
    // Both chunks under way (a piece each), so neither is merely queued.
    for (const index of [0, 1]) first.wire.receive(encodeFrame({ type: 'piece', index, offset: 0, bytes: new Uint8Array(16 * KiB) }))
    const second = open()
    expect(second.requested()).toEqual([])
    // Chunk 1 waits its turn behind chunk 0 on a lane that still moves (32 KiB every 100 ms): it stays.
    for (let i = 0; i < 7; i++) {
      clock.advance(100)
      first.wire.receive(encodeFrame({ type: 'piece', index: 0, offset: (16 + i * 32) * KiB, bytes: new Uint8Array(32 * KiB) }))
      downloader.tick()
    }
    expect(second.requested()).toEqual([])
    // Then the lane stops (its last packets lost): after three of its usual gaps, a chunk moves to the idle lane.
    clock.advance(1_000)
    downloader.tick()
    expect(second.requested()).toEqual([])
    clock.advance(1_000)
    downloader.tick()
    const moved = second.requested()
    expect(moved).toHaveLength(1)
    expect(first.cancelled()).toEqual(moved)
    // The rest of it from the first lane comes too late to count; the second lane's copy does.
    first.wire.receive(encodeFrame({ type: 'piece', index: moved[0]!, offset: 16 * KiB, bytes: new Uint8Array(192 * KiB) }))
    expect(downloader.scheduler.has(moved[0]!)).toBe(false)
    second.wire.receive(encodeFrame({ type: 'piece', index: moved[0]!, offset: 0, bytes: new Uint8Array(192 * KiB) }))
    second.wire.receive(encodeFrame({ type: 'piece', index: moved[0]!, offset: 192 * KiB, bytes: new Uint8Array(64 * KiB) }))
    for (let i = 0; i < 20; i++) await Promise.resolve() // the chunk's check and store
    expect(downloader.scheduler.has(moved[0]!)).toBe(true)
  })

  it('in the tail, a slow but steady lane (a capped sender) keeps its chunks', () => {
    const { clock, downloader, open } = lanes(2)
    const first = open()
    for (const index of [0, 1]) first.wire.receive(encodeFrame({ type: 'piece', index, offset: 0, bytes: new Uint8Array(16 * KiB) }))
    const second = open()
    // 64 KiB a second, a piece at a time: over a second between pieces, never stalled.
    for (let i = 0; i < 3; i++) {
      for (let tick = 0; tick < 5; tick++) {
        clock.advance(250)
        downloader.tick()
      }
      first.wire.receive(encodeFrame({ type: 'piece', index: 0, offset: (16 + i * 64) * KiB, bytes: new Uint8Array(64 * KiB) }))
    }
    expect(second.requested()).toEqual([])
    expect(first.cancelled()).toEqual([])
  })
})
