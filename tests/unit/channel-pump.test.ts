import { describe, expect, it } from 'vitest'
import { ChannelPump, HIGH_WATER_BYTES, type DataChannelLike } from '../../src/net/wire-channel'

/** A data channel that counts reads of its state and buffer (in Node's wrtc each is a blocking call into WebRTC). */
function fakeChannel() {
  const listeners = new Map<string, ((event?: unknown) => void)[]>()
  const reads = { readyState: 0, bufferedAmount: 0 }
  const sent: number[] = []
  let state = 'connecting'
  let buffered = 0
  const channel = {
    get readyState() {
      reads.readyState++
      return state
    },
    get bufferedAmount() {
      reads.bufferedAmount++
      return buffered
    },
    bufferedAmountLowThreshold: 0,
    binaryType: 'arraybuffer',
    send(data: Uint8Array) {
      sent.push(data.length)
      buffered += data.length
    },
    close() {
      state = 'closed'
    },
    addEventListener(type: string, listener: (event?: unknown) => void) {
      listeners.set(type, [...(listeners.get(type) ?? []), listener])
    },
    fire(type: string) {
      for (const listener of listeners.get(type) ?? []) listener()
    },
    setBuffered(bytes: number) {
      buffered = bytes
    },
    setState(s: string) {
      state = s
    },
  }
  return { channel: channel as typeof channel & DataChannelLike, reads, sent }
}

const events = () => {
  const seen = { opened: 0, drained: 0, closed: [] as string[] }
  return {
    seen,
    handlers: {
      onOpen: () => seen.opened++,
      onData: () => undefined,
      onDrain: () => seen.drained++,
      onClose: (reason: string) => seen.closed.push(reason),
    },
  }
}

describe('the channel pump', () => {
  it('knows the channel is open from its events, without asking it again', () => {
    const { channel, reads } = fakeChannel()
    const { seen, handlers } = events()
    const pump = new ChannelPump(channel, handlers)
    expect(pump.open).toBe(false)
    channel.setState('open')
    channel.fire('open')
    for (let i = 0; i < 100; i++) expect(pump.open).toBe(true)
    expect(reads.readyState).toBe(1)
    expect(seen.opened).toBe(1)
    channel.fire('closing')
    expect(pump.open).toBe(false)
    channel.fire('close')
    expect(pump.open).toBe(false)
    expect(seen.closed).toEqual(['the connection closed'])
  })

  it('sends the frames of one task together after one look at the buffer', async () => {
    const { channel, reads, sent } = fakeChannel()
    const { seen, handlers } = events()
    const pump = new ChannelPump(channel, handlers)
    channel.setState('open')
    channel.fire('open')
    for (let i = 0; i < 10; i++) pump.send(new Uint8Array(1000))
    expect(sent).toEqual([])
    await Promise.resolve()
    expect(sent).toHaveLength(10)
    expect(reads.bufferedAmount).toBe(1)
    expect(seen.drained).toBe(1)
  })

  it('holds frames while the buffer is above the high-water mark and sends them when it drains', async () => {
    const { channel, sent } = fakeChannel()
    const { seen, handlers } = events()
    const pump = new ChannelPump(channel, handlers)
    channel.setState('open')
    channel.fire('open')
    channel.setBuffered(HIGH_WATER_BYTES - 1500)
    for (let i = 0; i < 3; i++) pump.send(new Uint8Array(1000))
    await Promise.resolve()
    expect(sent).toEqual([1000, 1000]) // the second crosses the mark; the third waits
    expect(pump.queuedBytes).toBe(1000 + HIGH_WATER_BYTES + 500)
    expect(seen.drained).toBe(0)
    channel.setBuffered(0)
    channel.fire('bufferedamountlow')
    expect(sent).toEqual([1000, 1000, 1000])
    expect(seen.drained).toBe(1)
    pump.close()
  })
})
