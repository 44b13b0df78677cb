import { describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import { decodeFrame, encodeFrame, MAX_PIECE_BYTES, type Frame } from '../../src/protocol/wire'

const file = { size: 3 * 262144 + 1000, chunkSize: 262144 } // 4 chunks, the last of 1000 bytes

describe('wire frames', () => {
  const handshakeField = new Bitfield(4)
  handshakeField.set(1)
  const frames: Frame[] = [
    { type: 'handshake', version: 1, fileId: Uint8Array.from({ length: 32 }, (_, i) => i), bitfield: handshakeField },
    { type: 'have', index: 3 },
    { type: 'request', index: 0, offset: 0, length: 262144 },
    { type: 'piece', index: 3, offset: 0, bytes: Uint8Array.from({ length: 1000 }, (_, i) => i & 255) },
    { type: 'piece', index: 1, offset: 65536, bytes: new Uint8Array(MAX_PIECE_BYTES) },
    { type: 'cancel', index: 2, offset: 10, length: 20 },
    { type: 'reject', index: 3, offset: 0, length: 1000 },
    { type: 'ping', nonce: 0xdeadbeef },
    { type: 'pong', nonce: 7 },
    { type: 'choke' },
    { type: 'unchoke' },
  ]
  it.each(frames.map((frame) => [frame.type, frame] as const))('round-trips %s', (_type, frame) => {
    const decoded = decodeFrame(encodeFrame(frame), file)
    expect(decoded).toEqual({ ok: true, frame })
  })

  it.each([
    ['an empty frame', new Uint8Array(0), 'empty frame'],
    ['an unknown type', Uint8Array.of(99, 0, 0, 0, 0), 'unknown frame type 99'],
    ['a short have', Uint8Array.of(2, 0, 0), 'have has the wrong length'],
    ['a have past the last chunk', encodeFrame({ type: 'have', index: 4 }), 'chunk index 4 is outside 0..3'],
    [
      'a request past the end of the last chunk',
      encodeFrame({ type: 'request', index: 3, offset: 0, length: 1001 }),
      'range 0+1001 is outside chunk 3',
    ],
    ['a zero-length request', encodeFrame({ type: 'request', index: 0, offset: 0, length: 0 }), 'range 0+0 is outside chunk 0'],
    [
      'a request with an overflowing offset',
      encodeFrame({ type: 'request', index: 0, offset: 0xffffffff, length: 2 }),
      'range 4294967295+2 is outside chunk 0',
    ],
    [
      'a piece over the size cap',
      encodeFrame({ type: 'piece', index: 0, offset: 0, bytes: new Uint8Array(MAX_PIECE_BYTES + 1) }),
      `piece payload over ${MAX_PIECE_BYTES} bytes`,
    ],
    [
      'a piece past its chunk',
      encodeFrame({ type: 'piece', index: 3, offset: 999, bytes: new Uint8Array(2) }),
      'range 999+2 is outside chunk 3',
    ],
    ['a handshake with a bitfield of the wrong size', Uint8Array.of(1, 1, ...new Uint8Array(32), 0, 0), 'handshake has the wrong length'],
    ['a choke with trailing bytes', Uint8Array.of(9, 0), 'choke has the wrong length'],
    ['a ping with trailing bytes', Uint8Array.of(7, 0, 0, 0, 0, 0), 'ping has the wrong length'],
  ])('rejects %s', (_title, bytes, reason) => {
    expect(decodeFrame(bytes, file)).toEqual({ ok: false, reason })
  })

  it('decodes a frame that sits inside a larger buffer', () => {
    const frame = encodeFrame({ type: 'have', index: 2 })
    const padded = new Uint8Array(frame.length + 8)
    padded.set(frame, 4)
    expect(decodeFrame(padded.subarray(4, 4 + frame.length), file)).toEqual({ ok: true, frame: { type: 'have', index: 2 } })
  })
})
