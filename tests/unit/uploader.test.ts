import { describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import type { Manifest } from '../../src/protocol/manifest'
import { encodeFrame, type Frame } from '../../src/protocol/wire'
import { TokenBucket } from '../../src/core/rate-limit'
import { Uploader } from '../../src/engine/uploader'
import { Wire } from '../../src/engine/wire'
import { FakeClock } from '../support/fake-clock'
import { recordingLink } from '../support/recording-link'

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

/** An uploader capped at one piece a second, serving one peer whose frames the test reads and writes. */
function setup() {
  const clock = new FakeClock()
  const { link, sent } = recordingLink('p', manifest, PIECE + 9)
  let wire: Wire
  const uploader = new Uploader({
    fileId: 'ab'.repeat(32),
    chunks: { readChunk: async () => new Uint8Array(CHUNK), storedChunks: async () => [0, 1] },
    bandwidth: { up: new TokenBucket(PIECE, PIECE, clock.now()), down: undefined },
    clock,
    random: () => 0.5,
    wires: () => [wire],
    has: () => true,
    isVerified: () => true,
    verify: async () => true,
    onSent: () => undefined,
    onFailed: () => undefined,
  })
  uploader.reset(2)
  wire = new Wire(
    'p',
    link,
    { fileId: 'ab'.repeat(32), manifest: () => manifest, now: clock.now, random: () => 0.5 },
    {
      onHandshake: () => undefined,
      onHave: () => undefined,
      onPiece: () => undefined,
      onUnwanted: () => undefined,
      onReject: () => undefined,
      onChoke: () => undefined,
      onUnchoke: () => undefined,
      onRequest: (w, range) => uploader.request(w, range),
      onBad: () => undefined,
    },
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
  return { from, pieces, run, wire: () => wire }
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

  it('stops a chunk being sent when it chokes the peer (which drops its requests)', async () => {
    const { from, pieces, run, wire } = setup()
    from({ type: 'request', index: 0, offset: 0, length: CHUNK })
    await run(0)
    expect(pieces()).toEqual([0])
    wire().choke()
    for (let second = 0; second < 5; second++) await run(1000)
    expect(pieces()).toEqual([0])
  })
})
