import { describe, expect, it, vi } from 'vitest'
import { readCallArguments, readPageMessage, readWorkerMessage, transferablesOf } from '../../src/worker/messages'

// The one check of what crosses between the page and the engine's worker.

describe('messages between the page and the worker', () => {
  it('passes well-formed messages from the page and names what they move', () => {
    const frame = new ArrayBuffer(8)
    expect(readPageMessage({ type: 'call', id: 3, method: 'open', args: ['ab'.repeat(32)] })).toEqual({
      type: 'call',
      id: 3,
      method: 'open',
      args: ['ab'.repeat(32)],
    })
    const data = readPageMessage({ type: 'link-data', linkId: 1, data: frame })!
    expect(transferablesOf(data)).toEqual([frame])
    expect(readPageMessage({ type: 'frame', pieceMaps: [] })).toEqual({ type: 'frame', pieceMaps: [] })
  })

  it('ignores, with a warning, what the page may not ask or sends malformed', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const bad: unknown[] = [
      { type: 'call', id: 1, method: 'close', args: [] }, // not an engine call the page may make
      { type: 'call', id: -1, method: 'open', args: [] },
      { type: 'link-data', linkId: 1, data: 'not bytes' },
      { type: 'link-signal', linkId: 1, data: { type: 'offer', sdp: 'x'.repeat(100_000) } },
      { type: 'frame', pieceMaps: Array.from({ length: 65 }, () => 'f') },
      { type: 'nonsense' },
      null,
      'hello',
    ]
    for (const message of bad) expect(readPageMessage(message)).toBeUndefined()
    expect(warn).toHaveBeenCalledTimes(bad.length)
    warn.mockRestore()
  })

  it('checks the worker’s messages on the page the same way', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    expect(readWorkerMessage({ type: 'reply', id: 2, ok: false, message: 'no' })).toEqual({
      type: 'reply',
      id: 2,
      ok: false,
      message: 'no',
    })
    expect(readWorkerMessage({ type: 'link-create', linkId: 4, initiator: true, iceServers: [{ urls: 'stun:x' }] })).toEqual({
      type: 'link-create',
      linkId: 4,
      initiator: true,
      iceServers: [{ urls: 'stun:x' }],
    })
    expect(readWorkerMessage({ type: 'link-create', linkId: 4, initiator: 'yes', iceServers: [] })).toBeUndefined()
    expect(readWorkerMessage({ type: 'link-send', linkId: 4, frame: new Uint8Array(3) })).toBeUndefined() // a view, not a buffer to move
    expect(warn).toHaveBeenCalledTimes(2)
    warn.mockRestore()
  })

  it('checks each call’s arguments against what the engine method takes', () => {
    const file = new File(['x'], 'x.bin')
    expect(readCallArguments('share', [file, { listed: true }])).toEqual([file, { listed: true }])
    expect(readCallArguments('share', ['not a file', {}])).toBeUndefined()
    expect(readCallArguments('share', [file, { listed: true, extra: 1 }])).toBeUndefined()
    expect(readCallArguments('open', ['ab'.repeat(32), undefined])).toEqual(['ab'.repeat(32), undefined])
    expect(readCallArguments('open', ['ab'.repeat(33)])).toBeUndefined()
    expect(readCallArguments('setLimits', [{ up: 1000, down: undefined }])).toEqual([{ up: 1000, down: undefined }])
    expect(readCallArguments('setLimits', [{ up: -1, down: undefined }])).toBeUndefined()
    expect(readCallArguments('setKeeping', [undefined])).toEqual([undefined])
    expect(readCallArguments('mediaDuration', ['ab'.repeat(32), Infinity])).toBeUndefined()
    expect(readCallArguments('wake', [1])).toBeUndefined()
  })
})
