import { describe, expect, it } from 'vitest'
import { decodeClientMessage, decodeServerMessage, MAX_TRACKER_FRAME_BYTES } from '../../src/protocol/tracker'

const fileId = 'ab'.repeat(32)
const manifest = { v: 1, name: 'a.txt', size: 3, type: 'text/plain', chunkSize: 262144, hashes: ['cd'.repeat(32)] }

describe('decodeClientMessage', () => {
  it.each([
    { type: 'hello', v: 1 },
    { type: 'publish', id: 1, manifest },
    { type: 'unpublish', fileId },
    { type: 'have', fileId, indexes: [0, 5, 2047] },
    { type: 'list', id: 2 },
    { type: 'locate', id: 3, fileId },
    { type: 'signal', to: 'peer-12345678', fileId, link: 'L1', data: { type: 'offer', sdp: 'v=0' } },
    {
      type: 'signal',
      to: 'peer-12345678',
      fileId,
      link: 'L1',
      data: { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMLineIndex: 0, sdpMid: '0' } },
    },
  ])('accepts $type', (message) => {
    expect(decodeClientMessage(JSON.stringify(message))).toEqual({ ok: true, message })
  })

  it.each([
    ['binary data', new Uint8Array([1, 2]), 'malformed', 'frames must be JSON text, not binary'],
    ['text that is not JSON', '{nope', 'malformed', 'the frame is not valid JSON'],
    [
      'a frame over the size cap',
      `"${'x'.repeat(MAX_TRACKER_FRAME_BYTES)}"`,
      'too-large',
      `frames are limited to ${MAX_TRACKER_FRAME_BYTES} bytes`,
    ],
  ])('refuses %s', (_title, frame, code, message) => {
    expect(decodeClientMessage(frame)).toEqual({ ok: false, code, message })
  })

  it.each([
    ['an unknown type', { type: 'shutdown' }],
    ['a JSON value that is not an object', 42],
    ['null', null],
    ['a missing field', { type: 'locate', id: 1 }],
    ['a wrong field type', { type: 'locate', id: 1, fileId: 7 }],
    ['a file id that is not 64 hex', { type: 'locate', id: 1, fileId: 'abc' }],
    ['a negative chunk index', { type: 'have', fileId, indexes: [-1] }],
    ['a chunk index past any manifest', { type: 'have', fileId, indexes: [2048] }],
    ['a fractional index', { type: 'have', fileId, indexes: [1.5] }],
    ['an empty have', { type: 'have', fileId, indexes: [] }],
    [
      'a spoofed sender on a signal',
      { type: 'signal', to: 'peer-12345678', from: 'peer-87654321', fileId, link: 'L1', data: { type: 'offer', sdp: '' } },
    ],
    ['a signal without a link id', { type: 'signal', to: 'peer-12345678', fileId, data: { type: 'offer', sdp: '' } }],
    ['signal data of an unknown shape', { type: 'signal', to: 'peer-12345678', fileId, link: 'L1', data: { type: 'evil', payload: 1 } }],
    [
      'a manifest with an absurd chunk count',
      { type: 'publish', id: 4, manifest: { ...manifest, size: 10 ** 12, hashes: Array(3000).fill('cd'.repeat(32)) } },
    ],
    ['a manifest whose hashes do not match its size', { type: 'publish', id: 4, manifest: { ...manifest, size: 10 ** 9 } }],
    ['a request id out of range', { type: 'list', id: -1 }],
  ])('refuses %s as malformed', (_title, value) => {
    const decoded = decodeClientMessage(JSON.stringify(value))
    expect(decoded.ok).toBe(false)
    if (!decoded.ok) expect(decoded.code).toBe('malformed')
  })

  it('echoes the request id when a request is malformed, so the client can match the error', () => {
    expect(decodeClientMessage(JSON.stringify({ type: 'locate', id: 9, fileId: 'x' }))).toMatchObject({ ok: false, id: 9 })
  })
})

describe('decodeServerMessage', () => {
  it('accepts a location with peers and rejects a bitfield that is not base64', () => {
    const location = { type: 'location', id: 1, fileId, manifest, peers: [{ peerId: 'peer-12345678', have: 'gA==' }] }
    expect(decodeServerMessage(JSON.stringify(location)).ok).toBe(true)
    const bad = { ...location, peers: [{ peerId: 'peer-12345678', have: '!!' }] }
    expect(decodeServerMessage(JSON.stringify(bad)).ok).toBe(false)
  })
})
