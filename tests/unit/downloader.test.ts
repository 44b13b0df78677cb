import { describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import type { Manifest } from '../../src/protocol/manifest'
import { encodeFrame, type Frame } from '../../src/protocol/wire'
import { TokenBucket } from '../../src/core/rate-limit'
import { ASK_AGAIN_AFTER_REJECT_MS, Downloader, REQUEST_TIMEOUT_MS, type KeepOutcome } from '../../src/engine/downloader'
import { Wire } from '../../src/engine/wire'
import { FakeClock } from '../support/fake-clock'
import { recordingLink } from '../support/recording-link'

const CHUNK = 1024
const manifest: Manifest = {
  v: 1,
  name: 'd.bin',
  size: 4 * CHUNK,
  type: '',
  chunkSize: CHUNK,
  hashes: Array(4).fill('00'.repeat(32)),
} as Manifest

/** A downloader over wires whose far ends are the test: it reads what was sent and answers by hand. */
function setup(options: { downCap?: number } = {}) {
  const clock = new FakeClock()
  const wires = new Map<string, { wire: Wire; sent: Frame[] }>()
  const kept: number[] = []
  const downloader = new Downloader(manifest, new Bitfield(4), {
    clock,
    random: () => 0.5,
    bandwidth: { up: undefined, down: options.downCap ? new TokenBucket(options.downCap, CHUNK, clock.now()) : undefined },
    wires: () => [...wires.values()].map((w) => w.wire),
    wire: (peerId) => wires.get(peerId)?.wire,
    canFetch: () => true,
    isStoring: () => false,
    keep: async (_peerId, index): Promise<KeepOutcome> => {
      kept.push(index)
      return 'stored'
    },
    onReceived: () => undefined,
    onStored: () => undefined,
    onChange: () => undefined,
  })
  const peer = (peerId: string, has: number[]) => {
    const { link, sent } = recordingLink(peerId, manifest)
    const wire = new Wire(
      peerId,
      link,
      { fileId: 'ab'.repeat(32), manifest: () => manifest, now: clock.now, random: () => 0.5 },
      {
        onHandshake: (w) => downloader.handshake(w),
        onHave: (w, index) => downloader.have(w, index),
        onPiece: (w, index, offset, bytes) => downloader.piece(w, index, offset, bytes),
        onUnwanted: (_w, bytes) => downloader.unwanted(bytes),
        onReject: (w, index) => downloader.rejected(w, index),
        onChoke: (w) => downloader.choked(w),
        onUnchoke: () => downloader.pump(),
        onRequest: () => undefined,
        onBad: () => undefined,
      },
    )
    wires.set(peerId, { wire, sent })
    const field = new Bitfield(4)
    for (const index of has) field.set(index)
    wire.receive(encodeFrame({ type: 'handshake', version: 1, fileId: new Uint8Array(32).fill(0xab), bitfield: field }))
    const requests = () => sent.filter((f) => f.type === 'request').map((f) => (f as { index: number }).index)
    const cancels = () => sent.filter((f) => f.type === 'cancel').map((f) => (f as { index: number }).index)
    return { wire, sent, requests, cancels }
  }
  return { clock, downloader, peer, kept }
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

  it('assembles pieces into a chunk and hands it to the keeper once', async () => {
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
