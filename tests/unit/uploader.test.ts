import { describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import type { Manifest } from '../../src/protocol/manifest'
import { encodeFrame, type Frame } from '../../src/protocol/wire'
import { TokenBucket } from '../../src/core/rate-limit'
import { MAX_QUEUED_UPLOADS, Uploader } from '../../src/engine/uploader'
import { RECHOKE_INTERVAL_MS } from '../../src/core/choker'
import { SwarmMember } from '../../src/engine/swarm-member'
import { FakeClock } from '../support/fake-clock'
import { recordedLane } from '../support/lanes'

const CHUNK = 64 * 1024
/** Pieces of 16 KiB: the link says its messages hold no more. */
const PIECE = 16 * 1024
const manifest: Manifest = {
  v: 1,
  name: 'u.bin',
  size: 2 * CHUNK,
  type: '',
  chunkSize: CHUNK,
  hashes: Array(2).fill('00'.repeat(32)),
} as Manifest

/** An uploader capped at one piece a second, serving one member whose frames the test reads and writes. */
function setup() {
  const clock = new FakeClock()
  const member = new SwarmMember('p')
  const uploader = new Uploader({
    fileId: 'ab'.repeat(32),
    chunks: { readChunk: async () => new Uint8Array(CHUNK), storedChunks: async () => [0, 1] },
    bandwidth: { up: new TokenBucket(PIECE, PIECE, clock.now()), down: undefined },
    clock,
    random: () => 0.5,
    members: () => [member],
    has: () => true,
    isVerified: () => true,
    verify: async () => true,
    onSent: () => undefined,
    onFailed: () => undefined,
  })
  uploader.reset(2)
  const { lane, wire, sent } = recordedLane(
    member,
    manifest,
    clock.now,
    {
      onHandshake: (_w, bitfield) => void member.learnHandshake(bitfield),
      onRequest: (_w, range) => uploader.request(member, lane, range),
      onCancel: (_w, range) => uploader.cancel(lane, range),
    },
    PIECE + 9,
  )
  wire.receive(encodeFrame({ type: 'handshake', version: 1, fileId: new Uint8Array(32).fill(0xab), bitfield: new Bitfield(2) }))
  const from = (frame: Frame) => wire.receive(encodeFrame(frame))
  const pieces = () => sent.filter((frame) => frame.type === 'piece').map((frame) => frame.index)
  /** Lets the uploader's awaited reads run, then moves the clock. */
  const run = async (ms: number) => {
    for (let i = 0; i < 10; i++) await Promise.resolve()
    clock.advance(ms)
    for (let i = 0; i < 10; i++) await Promise.resolve()
  }
  return { from, pieces, run, uploader, member, sent, clock }
}

describe('the uploader, on a fake clock', () => {
  it('sends a whole chunk in pieces as the cap allows', async () => {
    const { from, pieces, run } = setup()
    from({ type: 'request', index: 0, offset: 0, length: CHUNK })
    for (let second = 0; second < 5; second++) await run(1000)
    expect(pieces()).toEqual([0, 0, 0, 0])
  })

  it('stops the rest of a chunk the peer cancels while it waits on the cap, and goes on with the next', async () => {
    const { from, pieces, run } = setup()
    from({ type: 'request', index: 0, offset: 0, length: CHUNK })
    from({ type: 'request', index: 1, offset: 0, length: CHUNK })
    await run(0)
    expect(pieces()).toEqual([0])
    from({ type: 'cancel', index: 0, offset: 0, length: CHUNK })
    for (let second = 0; second < 6; second++) await run(1000)
    expect(pieces()).toEqual([0, 1, 1, 1, 1])
  })

  it('stops a chunk being sent when it chokes the member (which drops its requests), and drops requests while choked', async () => {
    const { from, pieces, run, uploader, member, sent, clock } = setup()
    from({ type: 'request', index: 0, offset: 0, length: CHUNK })
    await run(0)
    expect(pieces()).toEqual([0])
    // At the next rechoke, six other members as interested take every upload slot (the optimistic one drawn among the rest).
    const others = Array.from({ length: 6 }, (_, i) => new SwarmMember(`o${i}`))
    for (const other of others) {
      other.remote = new Bitfield(2)
      recordedLane(other, manifest, clock.now, {})
    }
    clock.advance(RECHOKE_INTERVAL_MS)
    uploader.tick([...others, member], Bitfield.full(2), false)
    expect(uploader.isChoking(member)).toBe(true)
    expect(sent.at(-1)).toEqual({ type: 'choke' })
    for (let second = 0; second < 5; second++) await run(1000)
    expect(pieces()).toEqual([0])
    from({ type: 'request', index: 1, offset: 0, length: CHUNK })
    for (let second = 0; second < 5; second++) await run(1000)
    expect(pieces()).toEqual([0])
  })

  it('refuses requests over the queue limit of a lane', async () => {
    const { from, sent } = setup()
    for (let i = 0; i <= MAX_QUEUED_UPLOADS + 1; i++) from({ type: 'request', index: i % 2, offset: 0, length: 16 })
    // One is taken for sending at once; the queue holds the limit; the rest is refused.
    expect(sent.filter((frame) => frame.type === 'reject')).toHaveLength(1)
  })
})
