import { describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import type { Manifest } from '../../src/protocol/manifest'
import { Capability, capabilityNonce, encodeFrame, uploadCapNonce, uploadCapOf, type Range } from '../../src/protocol/wire'
import type { PeerLink } from '../../src/core/ports'
import { Wire, type WireEvents } from '../../src/engine/wire'
import { FakeClock } from '../support/fake-clock'

const CHUNK = 262_144
const FILE_ID = 'ab'.repeat(32)
const manifest: Manifest = {
  v: 1,
  name: 'w.bin',
  size: 3 * CHUNK + 100,
  type: '',
  chunkSize: CHUNK,
  hashes: ['00'.repeat(32), '11'.repeat(32), '22'.repeat(32), '33'.repeat(32)],
} as Manifest

/** Two ends of a link in memory: frames queue until `flush`, in order. */
function pipe() {
  const queue: { to: 'a' | 'b'; bytes: Uint8Array }[] = []
  const ends = { a: undefined as Wire | undefined, b: undefined as Wire | undefined }
  const link = (self: 'a' | 'b'): PeerLink & { sent: Uint8Array[]; open: boolean } => ({
    remoteId: self === 'a' ? 'B' : 'A',
    open: true,
    queuedBytes: 0,
    maxMessageBytes: undefined,
    sent: [],
    send(frame) {
      this.sent.push(frame)
      queue.push({ to: self === 'a' ? 'b' : 'a', bytes: frame })
    },
    signal() {},
    linkId: 'piped',
    stats: async () => ({ route: 'direct', path: 'host', rttMs: undefined }),
    close() {
      this.open = false
    },
  })
  const flush = () => {
    while (queue.length > 0) {
      const { to, bytes } = queue.shift()!
      ends[to]!.receive(bytes)
    }
  }
  return { links: { a: link('a'), b: link('b') }, ends, flush }
}

type Event = [string, ...unknown[]]

function recorder(): { events: Event[]; handler: WireEvents } {
  const events: Event[] = []
  return {
    events,
    handler: {
      onHandshake: (_wire, bitfield) => events.push(['handshake', bitfield.indexes()]),
      onCapabilities: (_wire, capabilities) => events.push(['capabilities', capabilities]),
      onUploadCap: (_wire, bytesPerSecond) => events.push(['upload-cap', bytesPerSecond]),
      onHave: (_wire, index) => events.push(['have', index]),
      onPiece: (_wire, index, offset, bytes) => events.push(['piece', index, offset, bytes.length]),
      onUnwanted: (_wire, bytes) => events.push(['unwanted', bytes]),
      onReject: (_wire, index) => events.push(['reject', index]),
      onChoke: (_wire, dropped) => events.push(['choke', dropped]),
      onUnchoke: () => events.push(['unchoke']),
      onRequest: (_wire, range: Range) => events.push(['request', range.index]),
      onCancel: (_wire, range: Range) => events.push(['cancel', range.index, range.offset]),
      onBad: (_wire, reason) => events.push(['bad', reason]),
    },
  }
}

function connectedPair({ capabilities = 0, uploadCap = undefined as number | undefined } = {}) {
  const clock = new FakeClock()
  const { links, ends, flush } = pipe()
  const alice = recorder()
  const bob = recorder()
  const context = { fileId: FILE_ID, manifest, now: clock.now, random: () => 0.5 }
  ends.a = new Wire('B', links.a, context, alice.handler)
  ends.b = new Wire('A', links.b, context, bob.handler)
  const aliceHas = Bitfield.full(4)
  const bobHas = new Bitfield(4)
  bobHas.set(1)
  ends.a.handshake(aliceHas, capabilities, uploadCap)
  ends.b.handshake(bobHas, 0)
  flush()
  return { clock, links, flush, a: ends.a, b: ends.b, alice: alice.events, bob: bob.events }
}

/** A plain ping over `wire`'s link from a wire whose random source would give exactly `nonce`. */
function pingWithRandomNonce(wire: Wire, nonce: number): void {
  const context = { fileId: FILE_ID, manifest, now: () => 0, random: () => nonce / 2 ** 32 }
  new Wire('B', wire['link'], context, recorder().handler).sendPing()
}

describe('two wires piped together', () => {
  it('exchange handshakes: each learns what the other holds', () => {
    const { a, b, alice, bob } = connectedPair()
    expect(alice).toEqual([['handshake', [1]]])
    expect(bob).toEqual([['handshake', [0, 1, 2, 3]]])
    expect(a.handshaken && b.handshaken).toBe(true)
  })

  it('says its capabilities in a ping after the handshake, which a peer without them just answers', () => {
    const { a, b, bob, links } = connectedPair({ capabilities: Capability.lanes })
    expect(bob).toEqual([
      ['handshake', [0, 1, 2, 3]],
      ['capabilities', Capability.lanes],
    ])
    // The far end answered it as any ping (a peer of the version before does the same), and it is no RTT sample.
    expect(links.b.sent.at(-1)).toEqual(encodeFrame({ type: 'pong', nonce: capabilityNonce(Capability.lanes) }))
    expect(a.rttMs).toBeUndefined()
    expect(b.lastPing()).toBeUndefined()
  })

  it('never says capabilities by chance in a plain ping', () => {
    const { a, bob, flush } = connectedPair()
    // A random source that would give the capability tag itself.
    pingWithRandomNonce(a, capabilityNonce(1))
    a.sendPing()
    flush()
    expect(bob.filter(([type]) => type === 'capabilities')).toEqual([])
  })

  it('says its upload cap after the handshake and again when it changes; a peer without the word just answers', () => {
    const { a, b, bob, links, flush } = connectedPair({ uploadCap: 200_000 })
    const said = () => bob.filter(([type]) => type === 'upload-cap').map(([, rate]) => rate)
    expect(said()).toHaveLength(1)
    // Within the code's 9 % steps.
    expect(Math.abs((said()[0] as number) / 200_000 - 1)).toBeLessThan(0.05)
    expect(links.b.sent.at(-1)).toEqual(encodeFrame({ type: 'pong', nonce: uploadCapNonce(200_000) }))
    a.uploadCap(undefined)
    flush()
    expect(said().at(-1)).toBeUndefined()
    expect(said()).toHaveLength(2)
    expect(b.lastPing()).toBeUndefined()
  })

  it('codes upload caps from 1 KB/s to beyond any line within 5 %, and a plain ping never reads as one', () => {
    for (const rate of [1000, 56_000, 200_000, 1_000_000, 2_000_000, 125_000_000, 10_000_000_000])
      expect(Math.abs(uploadCapOf(uploadCapNonce(rate))!.bytesPerSecond! / rate - 1)).toBeLessThan(0.05)
    expect(uploadCapOf(uploadCapNonce(undefined))).toEqual({ bytesPerSecond: undefined })
    expect(uploadCapOf(capabilityNonce(Capability.lanes))).toBeUndefined()
    const { a, bob, flush } = connectedPair()
    pingWithRandomNonce(a, uploadCapNonce(1_000_000))
    flush()
    expect(bob.filter(([type]) => type === 'upload-cap')).toEqual([])
  })

  it('carries a request, the pieces of its answer, and forgets the request once every byte arrived', () => {
    const { a, b, flush, alice, bob } = connectedPair()
    b.request(3, 100)
    flush()
    expect(alice).toContainEqual(['request', 3])
    a.piece(3, 0, new Uint8Array(60))
    a.piece(3, 60, new Uint8Array(40))
    flush()
    expect(bob.filter(([type]) => type === 'piece')).toEqual([
      ['piece', 3, 0, 60],
      ['piece', 3, 60, 40],
    ])
    expect(b.isRequested(3)).toBe(false)
    expect(b.down.total).toBe(100)
    expect(a.up.total).toBe(100)
    // A piece nobody asked for (any more) is dropped.
    a.piece(3, 0, new Uint8Array(100))
    flush()
    expect(bob.filter(([type]) => type === 'piece')).toHaveLength(2)
  })

  it('a choke tells the choked side which of its requests died; unchoke lifts it', () => {
    const { a, b, flush, bob } = connectedPair()
    b.request(0, CHUNK)
    b.request(2, CHUNK)
    flush()
    a.choke()
    flush()
    expect(b.chokingUs).toBe(true)
    expect(bob).toContainEqual(['choke', [0, 2]])
    expect(b.requests()).toEqual([])
    a.unchoke()
    flush()
    expect(b.chokingUs).toBe(false)
    expect(bob).toContainEqual(['unchoke'])
  })

  it('reports a cancel to the uploader, and late pieces of the cancelled request are dropped and counted as waste', () => {
    const { a, b, flush, alice, bob } = connectedPair()
    b.request(2, CHUNK)
    b.request(3, 100)
    flush()
    b.cancel(2, CHUNK)
    b.cancel(1, CHUNK) // never asked: not sent
    flush()
    expect(alice.filter(([type]) => type === 'cancel')).toEqual([['cancel', 2, 0]])
    a.piece(2, 0, new Uint8Array(1000))
    flush()
    expect(bob.some(([type]) => type === 'piece')).toBe(false)
    expect(bob).toContainEqual(['unwanted', 1000])
  })

  it('reject reaches only a request that was made', () => {
    const { a, b, flush, bob } = connectedPair()
    b.request(1, CHUNK)
    flush()
    a.reject({ index: 1, offset: 0, length: CHUNK })
    a.reject({ index: 2, offset: 0, length: CHUNK }) // never asked: ignored
    flush()
    expect(bob.filter(([type]) => type === 'reject')).toEqual([['reject', 1]])
    expect(b.isRequested(1)).toBe(false)
  })

  it('measures the round-trip time from ping to pong on the injected clock', () => {
    const { a, clock, flush } = connectedPair()
    a.sendPing()
    expect(a.lastPing()).toEqual({ sentAt: 0, answered: false })
    clock.advance(42)
    flush()
    expect(a.rttMs).toBe(42)
    expect(a.lastPing()?.answered).toBe(true)
  })

  it('counts any frame it hears as a sign of life', () => {
    const { a, b, clock, flush } = connectedPair()
    clock.advance(5_000)
    b.have(2)
    flush()
    expect(a.lastHeardAt).toBe(5_000)
  })

  it('ends at a frame that does not decode, and ignores everything after', () => {
    const { a, links, alice } = connectedPair()
    a.receive(Uint8Array.of(99, 1, 2, 3))
    expect(alice).toContainEqual(['bad', 'sent an invalid message (unknown frame type 99)'])
    expect(a.open).toBe(false)
    a.receive(encodeFrame({ type: 'have', index: 0 }))
    expect(alice.filter(([type]) => type === 'have')).toEqual([])
    expect(links.a.open).toBe(true) // closing the link is the owner's call
  })

  it('refuses a handshake for another file', () => {
    const clock = new FakeClock()
    const { links, ends, flush } = pipe()
    const alice = recorder()
    ends.a = new Wire('B', links.a, { fileId: FILE_ID, manifest, now: clock.now, random: Math.random }, alice.handler)
    ends.b = new Wire('A', links.b, { fileId: 'cd'.repeat(32), manifest, now: clock.now, random: Math.random }, recorder().handler)
    ends.b.handshake(new Bitfield(4), 0)
    flush()
    expect(alice.events).toEqual([['bad', 'is on a different file or protocol version']])
  })

  it('takes nothing but pings before the handshake', () => {
    const { links, ends, flush } = pipe()
    const alice = recorder()
    ends.a = new Wire('B', links.a, { fileId: FILE_ID, manifest, now: () => 0, random: Math.random }, alice.handler)
    ends.b = new Wire('A', links.b, { fileId: FILE_ID, manifest, now: () => 0, random: Math.random }, recorder().handler)
    ends.b.have(1)
    ends.b.request(0, CHUNK)
    flush()
    expect(alice.events).toEqual([])
    ends.b.handshake(new Bitfield(4), 0)
    ends.b.have(1)
    flush()
    expect(alice.events).toEqual([
      ['handshake', []],
      ['have', 1],
    ])
  })
})
