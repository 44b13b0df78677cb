import { describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import type { Manifest } from '../../src/protocol/manifest'
import { encodeFrame, type Range } from '../../src/protocol/wire'
import type { PeerLink } from '../../src/core/ports'
import { MAX_QUEUED_UPLOADS, Wire, type WireEvents } from '../../src/engine/wire'
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
    route: async () => 'direct',
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
      onHandshake: (wire) => events.push(['handshake', wire.remote?.indexes()]),
      onHave: (_wire, index) => events.push(['have', index]),
      onPiece: (_wire, index, offset, bytes) => events.push(['piece', index, offset, bytes.length]),
      onUnwanted: (_wire, bytes) => events.push(['unwanted', bytes]),
      onReject: (_wire, index) => events.push(['reject', index]),
      onChoke: (_wire, dropped) => events.push(['choke', dropped]),
      onUnchoke: () => events.push(['unchoke']),
      onRequest: (wire, range: Range) => {
        events.push(['request', range.index])
        wire.queueUpload(range)
      },
      onBad: (_wire, reason) => events.push(['bad', reason]),
    },
  }
}

function connectedPair() {
  const clock = new FakeClock()
  const { links, ends, flush } = pipe()
  const alice = recorder()
  const bob = recorder()
  const context = { fileId: FILE_ID, manifest: () => manifest, now: clock.now, random: () => 0.5 }
  ends.a = new Wire('B', links.a, context, alice.handler)
  ends.b = new Wire('A', links.b, context, bob.handler)
  const aliceHas = Bitfield.full(4)
  const bobHas = new Bitfield(4)
  bobHas.set(1)
  ends.a.handshake(aliceHas)
  ends.b.handshake(bobHas)
  flush()
  return { clock, links, flush, a: ends.a, b: ends.b, alice: alice.events, bob: bob.events }
}

describe('two wires piped together', () => {
  it('exchange handshakes: each learns what the other holds', () => {
    const { a, b, alice, bob } = connectedPair()
    expect(alice).toEqual([['handshake', [1]]])
    expect(bob).toEqual([['handshake', [0, 1, 2, 3]]])
    expect(a.remote?.indexes()).toEqual([1])
    expect(b.remote?.count()).toBe(4)
  })

  it('carries a request, the pieces of its answer, and forgets the request once every byte arrived', () => {
    const { a, b, flush, alice, bob } = connectedPair()
    b.request(3, 100)
    flush()
    expect(alice).toContainEqual(['request', 3])
    expect(a.uploads).toEqual([{ index: 3, offset: 0, length: 100 }])
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

  it('choking drops their queued requests, and the choked side hears which of its requests died', () => {
    const { a, b, flush, bob } = connectedPair()
    b.request(0, CHUNK)
    b.request(2, CHUNK)
    flush()
    expect(a.uploads).toHaveLength(2)
    a.choke()
    flush()
    expect(a.uploads).toEqual([])
    expect(b.chokingUs).toBe(true)
    expect(bob).toContainEqual(['choke', [0, 2]])
    expect(b.requests()).toEqual([])
    // Requests to a choked peer are dropped without a reply, as it knows.
    b.request(0, CHUNK)
    flush()
    expect(a.uploads).toEqual([])
    a.unchoke()
    flush()
    expect(b.chokingUs).toBe(false)
    expect(bob).toContainEqual(['unchoke'])
  })

  it('cancel removes a queued request, and late pieces of it are dropped and counted as waste', () => {
    const { a, b, flush, bob } = connectedPair()
    b.request(2, CHUNK)
    b.request(3, 100)
    flush()
    b.cancel(2, CHUNK)
    flush()
    expect(a.uploads).toEqual([{ index: 3, offset: 0, length: 100 }])
    a.piece(2, 0, new Uint8Array(1000))
    flush()
    expect(bob.some(([type]) => type === 'piece')).toBe(false)
    expect(bob).toContainEqual(['unwanted', 1000])
  })

  it('reject reaches only a request that was made, and marks the chunk as not held', () => {
    const { a, b, flush, bob } = connectedPair()
    b.request(1, CHUNK)
    flush()
    a.reject({ index: 1, offset: 0, length: CHUNK })
    a.reject({ index: 2, offset: 0, length: CHUNK }) // never asked: ignored
    flush()
    expect(bob.filter(([type]) => type === 'reject')).toEqual([['reject', 1]])
    expect(b.remote?.get(1)).toBe(false)
  })

  it('a full upload queue refuses further requests', () => {
    const { a, b, flush, bob } = connectedPair()
    for (let i = 0; i <= MAX_QUEUED_UPLOADS; i++) b.request(i % 4, 10)
    flush()
    expect(a.uploads).toHaveLength(MAX_QUEUED_UPLOADS)
    expect(bob.filter(([type]) => type === 'reject')).toHaveLength(1)
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

  it('announces a chunk only to a peer that lacks it', () => {
    const { a, b, flush, alice, bob } = connectedPair()
    b.have(1) // Alice holds everything: nothing is sent
    a.have(2)
    flush()
    expect(alice.filter(([type]) => type === 'have')).toEqual([])
    expect(bob).toContainEqual(['have', 2])
    expect(b.remote?.get(2)).toBe(true)
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
    ends.a = new Wire('B', links.a, { fileId: FILE_ID, manifest: () => manifest, now: clock.now, random: Math.random }, alice.handler)
    ends.b = new Wire(
      'A',
      links.b,
      { fileId: 'cd'.repeat(32), manifest: () => manifest, now: clock.now, random: Math.random },
      recorder().handler,
    )
    ends.b.handshake(new Bitfield(4))
    flush()
    expect(alice.events).toEqual([['bad', 'is on a different file or protocol version']])
  })

  it('drops frames until the manifest is known', () => {
    let known: Manifest | undefined
    const { links, ends, flush } = pipe()
    const alice = recorder()
    ends.a = new Wire('B', links.a, { fileId: FILE_ID, manifest: () => known, now: () => 0, random: Math.random }, alice.handler)
    ends.b = new Wire('A', links.b, { fileId: FILE_ID, manifest: () => manifest, now: () => 0, random: Math.random }, recorder().handler)
    ends.b.handshake(new Bitfield(4))
    flush()
    expect(alice.events).toEqual([])
    known = manifest
    ends.b.handshake(new Bitfield(4))
    flush()
    expect(alice.events).toEqual([['handshake', []]])
  })
})
