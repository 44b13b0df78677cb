// One suite, two registries: the in-memory one and the Redis one must behave the same.
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import { fromBase64 } from '../../src/protocol/encoding'
import type { Manifest } from '../../src/protocol/manifest'
import { MemoryRegistry, type Registry } from '../../signaling-server/registry'
import { RedisRegistry } from '../../signaling-server/redis-registry'
import { startRedis, type RedisServer } from '../support/redis'

const manifest: Manifest = {
  v: 1,
  name: 'notes.txt',
  size: 2_500_000,
  type: 'text/plain',
  chunkSize: 262144,
  hashes: Array.from({ length: 10 }, (_, i) => String(i).padStart(64, '0')),
}
const FILE = 'f'.repeat(64)
const OTHER = 'e'.repeat(64)
const TTL_MS = 300

let redis: RedisServer
let prefixes = 0
const opened: Registry[] = []

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis.stop())

const kinds = {
  memory: () => new MemoryRegistry(TTL_MS),
  // Each test gets its own key prefix; `again` opens a second client on the same data.
  redis: () => new RedisRegistry(new Redis(redis.url), TTL_MS, `test${++prefixes}:`),
}

async function isMember(registry: Registry, peerId: string, fileId: string): Promise<boolean> {
  return (await registry.swarm(fileId))?.peers.some((peer) => peer.peerId === peerId) ?? false
}

function held(have: string, count = manifest.hashes.length): number[] {
  return [...new Bitfield(count, fromBase64(have)).indexes()]
}

/** Polls until `read` returns something truthy (registrations lapse on the registry's own clock). */
async function eventually<T>(read: () => Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await read()
    if (value || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe.each(Object.keys(kinds) as (keyof typeof kinds)[])('%s registry', (kind) => {
  let registry: Registry
  beforeEach(() => {
    registry = kinds[kind]()
    opened.push(registry)
  })
  afterEach(async () => {
    for (const r of opened.splice(0)) await r.close()
  })

  it('registers a published file with every chunk held, and lists it', async () => {
    const self = await registry.publish('alice', FILE, manifest)
    expect(held(self.have)).toHaveLength(10)
    expect(await registry.list()).toEqual([
      { fileId: FILE, name: 'notes.txt', size: 2_500_000, chunkCount: 10, peers: 1, seeders: 1, availability: 1 },
    ])
    const swarm = await registry.swarm(FILE)
    expect(swarm?.manifest).toEqual(manifest)
    expect(swarm?.peers.map((p) => p.peerId)).toEqual(['alice'])
  })

  it('tells keepers of listed files and of private ones a sharer opened to keepers, with their copies and downloaders', async () => {
    const sealed: Manifest = {
      v: 2,
      size: 2_500_170,
      chunkSize: 262161,
      hashes: manifest.hashes,
      salt: 'A'.repeat(22),
      meta: 'B'.repeat(40),
    }
    const SEALED = 'd'.repeat(64)
    const HIDDEN = 'c'.repeat(64)
    await registry.publish('alice', FILE, manifest)
    await registry.join('bob', FILE)
    await registry.publish('carol', SEALED, sealed, undefined, true)
    await registry.publish('carol', HIDDEN, sealed)
    // A swarm whose chunks are not all somewhere cannot be kept whole.
    const partial = new Bitfield(10)
    partial.set(0)
    await registry.publish('dave', OTHER, manifest, partial)
    const wanted = (await registry.wanted()).sort((a, b) => (a.fileId < b.fileId ? -1 : 1))
    expect(wanted).toEqual([
      { fileId: SEALED, size: 2_500_170, copies: 1, downloaders: 0 },
      { fileId: FILE, size: 2_500_000, copies: 1, downloaders: 1 },
    ])
    // Opened to keepers once, it stays open (a later publish without the flag does not close it).
    await registry.publish('erin', SEALED, sealed)
    expect((await registry.wanted()).find((file) => file.fileId === SEALED)?.copies).toBe(2)
  })

  it('joins a known swarm holding nothing and returns the others with what they hold; unknown files are undefined', async () => {
    expect(await registry.join('bob', FILE)).toBeUndefined()
    const partial = new Bitfield(10)
    partial.set(0)
    partial.set(9)
    await registry.publish('alice', FILE, manifest, partial)
    const joined = await registry.join('bob', FILE)
    expect(joined?.manifest).toEqual(manifest)
    expect(held(joined!.self.have)).toEqual([])
    expect(joined!.peers.map((p) => [p.peerId, held(p.have)])).toEqual([['alice', [0, 9]]])
    expect(await isMember(registry, 'bob', FILE)).toBe(true)
    // Joining again keeps what the member holds.
    await registry.have('bob', FILE, [3])
    expect(held((await registry.join('bob', FILE))!.self.have)).toEqual([3])
  })

  it('records chunks held and lost, refusing non-members and indexes past the end without a change', async () => {
    await registry.publish('alice', FILE, manifest)
    await registry.join('bob', FILE)
    expect(await registry.have('bob', FILE, [1, 2, 7])).toBe(true)
    expect(await registry.lost('alice', FILE, [0, 9])).toBe(true)
    expect(await registry.have('carol', FILE, [1])).toBe(false)
    expect(await registry.have('bob', FILE, [4, 10])).toBe(false)
    expect(await registry.have('bob', OTHER, [1])).toBe(false)
    const peers = new Map((await registry.swarm(FILE))!.peers.map((p) => [p.peerId, held(p.have)]))
    expect(peers.get('bob')).toEqual([1, 2, 7])
    expect(peers.get('alice')).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(await registry.list()).toEqual([expect.objectContaining({ peers: 2, seeders: 0, availability: 0.8 })])
    await registry.lost('alice', FILE, [1, 2, 3, 4, 5, 6, 7, 8])
    expect(await registry.list()).toEqual([expect.objectContaining({ seeders: 0, availability: 0.3 })])
  })

  it('stores thousands of chunk locations in one call', async () => {
    const big = { ...manifest, size: 10_000 * 262144, hashes: Array.from({ length: 10_000 }, (_, i) => i.toString(16).padStart(64, '0')) }
    await registry.publish('alice', FILE, big)
    await registry.join('bob', FILE)
    expect(
      await registry.have(
        'bob',
        FILE,
        Array.from({ length: 10_000 }, (_, i) => i),
      ),
    ).toBe(true)
    expect(await registry.list()).toEqual([expect.objectContaining({ chunkCount: 10_000, seeders: 2 })])
  })

  it('forgets a swarm when its last member leaves', async () => {
    await registry.publish('alice', FILE, manifest)
    await registry.join('bob', FILE)
    expect(await registry.leave('carol', FILE)).toBe(false)
    expect(await registry.leave('alice', FILE)).toBe(true)
    expect(await registry.leave('alice', FILE)).toBe(false)
    expect(await registry.list()).toEqual([expect.objectContaining({ peers: 1, availability: 0 })])
    expect(await registry.leave('bob', FILE)).toBe(true)
    expect(await registry.list()).toEqual([])
    expect(await registry.swarm(FILE)).toBeUndefined()
    expect(await registry.join('bob', FILE)).toBeUndefined()
    expect(await registry.roomFor('bob', OTHER, 1)).toBe(true)
  })

  it('has room for a peer in its own swarms, and in new ones below the cap', async () => {
    expect(await registry.roomFor('alice', FILE, 1)).toBe(true)
    await registry.publish('alice', FILE, manifest)
    expect(await registry.roomFor('alice', FILE, 1)).toBe(true)
    expect(await registry.roomFor('alice', OTHER, 1)).toBe(false)
    expect(await registry.roomFor('alice', OTHER, 2)).toBe(true)
    await registry.leave('alice', FILE)
    expect(await registry.roomFor('alice', OTHER, 1)).toBe(true)
  })

  it('keeps upload rates from members only, and drops them when the member leaves', async () => {
    await registry.publish('alice', FILE, manifest)
    await registry.join('bob', FILE)
    expect(await registry.reportRates('carol', FILE, [{ to: 'bob', rate: 5 }])).toBe(false)
    expect(await registry.reportRates('alice', FILE, [{ to: 'bob', rate: 1000 }])).toBe(true)
    expect(await registry.rates(FILE)).toEqual([{ from: 'alice', links: [{ to: 'bob', rate: 1000 }] }])
    await registry.leave('alice', FILE)
    expect(await registry.rates(FILE)).toEqual([])
  })

  it('routes a signal to the instance holding the target, only within a shared swarm', async () => {
    await registry.claim('alice', 'instance-1', 's1')
    await registry.claim('bob', 'instance-2', 's2')
    await registry.publish('alice', FILE, manifest)
    expect(await registry.signalRoute('alice', 'carol', FILE)).toEqual({ refused: 'unknown-peer' })
    expect(await registry.signalRoute('alice', 'bob', FILE)).toEqual({ refused: 'not-in-swarm' })
    await registry.join('bob', FILE)
    expect(await registry.signalRoute('alice', 'bob', FILE)).toEqual({ instance: 'instance-2' })
    expect(await registry.signalRoute('bob', 'alice', FILE)).toEqual({ instance: 'instance-1' })
    expect(await registry.signalRoute('bob', 'alice', OTHER)).toEqual({ refused: 'not-in-swarm' })
  })

  it('releases a peer only for the session that owns it, and hands a reconnected peer over', async () => {
    expect(await registry.claim('alice', 'instance-1', 's1')).toEqual({ previous: undefined, fileIds: [] })
    await registry.publish('alice', FILE, manifest)
    await registry.publish('alice', OTHER, manifest)
    // Reconnected through instance 2: the old session's swarms are left, and it is told who held it.
    const handover = await registry.claim('alice', 'instance-2', 's2')
    expect(handover.previous).toEqual({ instance: 'instance-1', session: 's1' })
    expect(handover.fileIds.sort()).toEqual([OTHER, FILE].sort())
    expect(await registry.roomFor('alice', FILE, 1)).toBe(true)
    expect(await isMember(registry, 'alice', OTHER)).toBe(false)
    await registry.publish('alice', FILE, manifest)
    // The old session closing afterwards changes nothing.
    expect(await registry.release('alice', 'instance-1', 's1')).toBeUndefined()
    expect(await isMember(registry, 'alice', FILE)).toBe(true)
    expect(await registry.release('alice', 'instance-2', 's2')).toEqual([FILE])
    expect(await registry.list()).toEqual([])
    expect(await registry.signalRoute('bob', 'alice', FILE)).toEqual({ refused: 'unknown-peer' })
  })

  it('refreshes thousands of peers in one call and names the ones it no longer knows', async () => {
    const peers = Array.from({ length: 2500 }, (_, i) => `peer-${i}`)
    await Promise.all(peers.map((peer) => registry.claim(peer, 'instance-1', 's1')))
    await registry.release('peer-1234', 'instance-1', 's1')
    expect(await registry.refresh([...peers, 'ghost'])).toEqual(['peer-1234', 'ghost'])
  })

  it('hands lapsed peers out in batches no larger than asked', async () => {
    for (const peer of ['p1', 'p2', 'p3']) await registry.claim(peer, 'instance-1', 's1')
    const batches: string[][] = []
    await eventually(async () => {
      const batch = await registry.expire(2)
      if (batch.length > 0) batches.push(batch.map((entry) => entry.peerId))
      return batches.flat().length >= 3
    })
    expect(batches.every((batch) => batch.length <= 2)).toBe(true)
    expect(batches.flat().sort()).toEqual(['p1', 'p2', 'p3'])
  })

  it('lets a peer lapse when its instance stops refreshing it, once, to one caller', async () => {
    await registry.claim('alice', 'instance-1', 's1')
    await registry.claim('bob', 'instance-2', 's2')
    await registry.publish('alice', FILE, manifest)
    await registry.join('bob', FILE)
    // Instance 2 keeps refreshing bob; instance 1 is gone.
    const keepBob = setInterval(() => void registry.refresh(['bob']), TTL_MS / 4)
    try {
      const expired = await eventually(async () => {
        const [first, second] = await Promise.all([registry.expire(10), registry.expire(10)])
        return [...first, ...second].length > 0 ? [...first, ...second] : undefined
      })
      expect(expired).toEqual([{ peerId: 'alice', fileIds: [FILE] }])
      expect(await isMember(registry, 'alice', FILE)).toBe(false)
      expect(await registry.refresh(['alice', 'bob'])).toEqual(['alice'])
      expect(await isMember(registry, 'bob', FILE)).toBe(true)
      expect(await registry.expire(10)).toEqual([])
    } finally {
      clearInterval(keepBob)
    }
  })
})
