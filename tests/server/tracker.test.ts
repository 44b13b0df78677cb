import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fileIdOf, type Manifest } from '../../src/protocol/manifest'
import { MAX_TRACKER_FRAME_BYTES, type ServerMessage, type ServerMessageOf } from '../../src/protocol/tracker'
import type { RunningService } from '../../signaling-server/server'
import { startTestService } from '../support/service'
import { RawClient } from '../support/raw-client'
import { startRedis, type RedisServer } from '../support/redis'

const manifest: Manifest = {
  v: 1,
  name: 'notes.txt',
  size: 600_000,
  type: 'text/plain',
  chunkSize: 262144,
  hashes: ['01', '02', '03'].map((h) => h.repeat(32)),
}
let service: RunningService
let url: string
let redis: RedisServer
/** Where the tracker keeps its state: the same tests run against both. */
let backend: 'memory' | 'redis' = 'memory'
let prefixes = 0
const clients: RawClient[] = []

async function client(options = {}): Promise<RawClient> {
  const c = await RawClient.greeted(url, options)
  clients.push(c)
  return c
}

async function start(env: Record<string, string> = {}) {
  service = await startTestService({
    ICE_SERVERS: '[{"urls":"stun:127.0.0.1:3478"}]',
    ...(backend === 'redis' ? { REDIS_URL: redis.url, REDIS_PREFIX: `tracker${++prefixes}:` } : {}),
    ...env,
  })
  url = `ws://127.0.0.1:${service.port}/ws`
}

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis.stop())
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await service.close()
})

async function publish(c: RawClient, m: Manifest = manifest): Promise<string> {
  const reply = await c.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest: m })
  expect(reply.type).toBe('published')
  return reply.fileId
}

describe.each(['memory', 'redis'] as const)('on %s', (kind) => {
  beforeEach(() => {
    backend = kind
    return start()
  })

  describe('tracker', () => {
    it('welcomes each connection with its own server-assigned peer id and the ICE servers', async () => {
      const a = await client()
      const b = await client()
      expect(a.peerId).toMatch(/^[A-Za-z0-9_-]{16}$/)
      expect(a.peerId).not.toBe(b.peerId)
    })

    it('sends the configured ICE servers and heartbeat in welcome', async () => {
      const c = await RawClient.connect(url)
      clients.push(c)
      c.send({ type: 'hello', v: 1 })
      const welcome = await c.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
      expect(welcome).toMatchObject({ v: 1, heartbeatMs: 30_000, iceServers: [{ urls: 'stun:127.0.0.1:3478' }] })
    })

    it('refuses requests before hello and an unsupported protocol version', async () => {
      const c = await RawClient.connect(url)
      clients.push(c)
      expect(await c.ask({ type: 'list', id: 5 })).toMatchObject({ type: 'error', id: 5, code: 'malformed', message: 'send hello first' })
      c.send({ type: 'hello', v: 99 })
      expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'unsupported-version' })
    })

    it('refuses a hello with a field it does not know as malformed, and welcomes a plain one on the same connection', async () => {
      // What a newer client meets at a tracker of the version before (and greets again without).
      const c = await RawClient.connect(url)
      clients.push(c)
      c.send({ type: 'hello', v: 1, later: true })
      expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'malformed' })
      c.send({ type: 'hello', v: 1 })
      expect(await c.next((m) => m.type === 'welcome')).toMatchObject({ type: 'welcome' })
    })

    it('publishes a manifest under its content id and lists it', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      expect(fileId).toBe(await fileIdOf(manifest))
      const files = await alice.ask<ServerMessageOf<'files'>>({ type: 'list', id: 2 })
      expect(files.files).toEqual([{ fileId, name: 'notes.txt', size: 600_000, chunkCount: 3, peers: 1, seeders: 1, availability: 1 }])
    })

    it('answers a keeper with the files that most need a copy, fewest copies first, then most fetching, at most 32', async () => {
      const named = (i: number): Manifest => ({ ...manifest, name: `handout-${i}.pdf` })
      const sharers = await Promise.all(Array.from({ length: 35 }, () => client()))
      const ids = await Promise.all(sharers.map((c, i) => publish(c, named(i))))
      // File 0 gets a second complete copy; file 1 a member still fetching it.
      const second = await client()
      await second.ask({ type: 'publish', id: 2, manifest: named(0) })
      const fetching = await client()
      await fetching.ask({ type: 'locate', id: 3, fileId: ids[1]! })
      const keeper = await client()
      const reply = await keeper.ask<ServerMessageOf<'wanted'>>({ type: 'wanted', id: 4 })
      expect(reply.files).toHaveLength(32)
      expect(reply.files[0]).toEqual({ fileId: ids[1], size: 600_000, copies: 1, downloaders: 1 })
      expect(reply.files.every((file, i) => i === 0 || file.copies >= reply.files[i - 1]!.copies)).toBe(true)
      expect(reply.files.map((file) => file.fileId)).not.toContain(ids[0])
    })

    it('locates a file: manifest and who holds which chunks; the swarm hears of the newcomer', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      const location = await bob.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 3, fileId })
      expect(location.manifest).toEqual(manifest)
      expect(location.peers).toEqual([{ peerId: alice.peerId, have: Buffer.from([0b1110_0000]).toString('base64') }])
      const joined = await alice.next<ServerMessageOf<'peer-joined'>>((m) => m.type === 'peer-joined')
      expect(joined).toEqual({ type: 'peer-joined', fileId, peer: { peerId: bob.peerId, have: 'AA==' } })
    })

    it('relays chunk announcements to the swarm and counts them in the listing', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      bob.send({ type: 'have', fileId, indexes: [1] })
      expect(await alice.next((m) => m.type === 'peer-have')).toEqual({ type: 'peer-have', fileId, peerId: bob.peerId, indexes: [1] })
      const carol = await client()
      const location = await carol.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 4, fileId })
      expect(location.peers.find((p) => p.peerId === bob.peerId)?.have).toBe(Buffer.from([0b0100_0000]).toString('base64'))
      const files = await carol.ask<ServerMessageOf<'files'>>({ type: 'list', id: 5 })
      expect(files.files[0]).toMatchObject({ peers: 3, seeders: 1 })
    })

    it('gathers chunk news for a client that takes it: one swarm-news of each chunk’s latest state, sent before the peer leaves', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const news = await RawClient.greeted(url, {}, { news: true })
      clients.push(news)
      await news.ask({ type: 'locate', id: 3, fileId })
      const bob = await client()
      await bob.ask({ type: 'locate', id: 4, fileId })
      await news.next((m) => m.type === 'peer-joined')
      bob.send({ type: 'have', fileId, indexes: [0] })
      bob.send({ type: 'have', fileId, indexes: [1, 2] })
      bob.send({ type: 'lost', fileId, indexes: [0] })
      // A client that did not say `news` hears each announcement as it was made.
      const each = () => alice.next((m) => m.type === 'peer-have' || m.type === 'peer-lost')
      expect([await each(), await each(), await each()]).toEqual([
        { type: 'peer-have', fileId, peerId: bob.peerId, indexes: [0] },
        { type: 'peer-have', fileId, peerId: bob.peerId, indexes: [1, 2] },
        { type: 'peer-lost', fileId, peerId: bob.peerId, indexes: [0] },
      ])
      expect(await news.next((m) => m.type === 'swarm-news')).toEqual({
        type: 'swarm-news',
        fileId,
        changes: [{ peerId: bob.peerId, have: [1, 2], lost: [0] }],
      })
      expect(news.received.filter((m) => m.type === 'peer-have' || m.type === 'peer-lost')).toEqual([])
      // News still gathering when the peer leaves is sent before the word that it left.
      bob.send({ type: 'have', fileId, indexes: [0] })
      await alice.next((m) => m.type === 'peer-have')
      bob.close()
      await news.next((m) => m.type === 'peer-left' && m.peerId === bob.peerId)
      expect(news.received).toContainEqual({ type: 'swarm-news', fileId, changes: [{ peerId: bob.peerId, have: [0] }] })
    })

    it('lets a partial holder register a file with what it holds (as after a tracker restart)', async () => {
      const bob = await client()
      const partial = Buffer.from([0b0100_0000]).toString('base64')
      const reply = await bob.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest, have: partial })
      const carol = await client()
      const location = await carol.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 2, fileId: reply.fileId })
      expect(location.peers).toEqual([{ peerId: bob.peerId, have: partial }])
      expect((await carol.ask<ServerMessageOf<'files'>>({ type: 'list', id: 3 })).files[0]).toMatchObject({
        seeders: 0,
        availability: 1 / 3,
      })
      expect(await bob.ask({ type: 'publish', id: 4, manifest, have: 'AAAA' })).toMatchObject({
        type: 'error',
        id: 4,
        code: 'malformed',
        message: 'have: a bitfield of 3 chunks is 1 bytes',
      })
    })

    it('withdraws chunks a peer reports lost and tells the swarm', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      alice.send({ type: 'lost', fileId, indexes: [0] })
      expect(await bob.next((m) => m.type === 'peer-lost')).toEqual({ type: 'peer-lost', fileId, peerId: alice.peerId, indexes: [0] })
      const location = await bob.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 4, fileId })
      expect(location.peers.find((p) => p.peerId === alice.peerId)?.have).toBe(Buffer.from([0b0110_0000]).toString('base64'))
      const mallory = await client()
      mallory.send({ type: 'lost', fileId, indexes: [1] })
      expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
    })

    it('relays signals with the sender’s real id stamped as from', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      bob.send({ type: 'signal', to: alice.peerId, fileId, link: 'L1', data: { type: 'offer', sdp: 'v=0' } })
      expect(await alice.next((m) => m.type === 'signal')).toEqual({
        type: 'signal',
        from: bob.peerId,
        fileId,
        link: 'L1',
        data: { type: 'offer', sdp: 'v=0' },
      })
    })

    it('drops a closed connection’s chunk locations and tells the swarm', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      alice.close()
      expect(await bob.next((m) => m.type === 'peer-left')).toEqual({ type: 'peer-left', fileId, peerId: alice.peerId })
      const location = await bob.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 4, fileId })
      expect(location.peers).toEqual([])
    })

    it('forgets a file when its swarm is empty; locating it then says not found', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      alice.close()
      const bob = await client()
      await expect.poll(async () => (await bob.ask<ServerMessageOf<'files'>>({ type: 'list', id: 9 })).files).toEqual([])
      expect(await bob.ask({ type: 'locate', id: 7, fileId })).toEqual({
        type: 'error',
        id: 7,
        code: 'not-found',
        message: 'no one is sharing that file',
      })
    })

    it('tells a peer that looked for an unknown file when someone publishes it', async () => {
      const bob = await client()
      const fileId = await fileIdOf(manifest)
      expect(await bob.ask({ type: 'locate', id: 1, fileId })).toMatchObject({ code: 'not-found' })
      const alice = await client()
      await publish(alice)
      expect(await bob.next((m) => m.type === 'file-available')).toEqual({ type: 'file-available', fileId })
    })

    it('drops a peer that stops answering pings, with its chunk locations', async () => {
      await service.close()
      await start({ HEARTBEAT_MS: '1000' })
      const alice = await client({ autoPong: false })
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      expect(await bob.next((m) => m.type === 'peer-left', 4000)).toEqual({ type: 'peer-left', fileId, peerId: alice.peerId })
      expect(await alice.closed).toBe(1006)
    })

    describe('hostile input gets a typed error and changes nothing', () => {
      async function listing(c: RawClient) {
        return (await c.ask<ServerMessageOf<'files'>>({ type: 'list', id: 1000 })).files
      }

      it.each([
        ['non-JSON text', '{{{', 'malformed'],
        ['an unknown type', JSON.stringify({ type: 'drop-tables' }), 'malformed'],
        ['a missing field', JSON.stringify({ type: 'publish', id: 1 }), 'malformed'],
        ['a wrong field type', JSON.stringify({ type: 'locate', id: 1, fileId: 12 }), 'malformed'],
        ['an absurd manifest', JSON.stringify({ type: 'publish', id: 1, manifest: { ...manifest, size: 1e15, hashes: [] } }), 'malformed'],
        ['a frame over the size cap', JSON.stringify({ type: 'list', id: 1, pad: 'x'.repeat(MAX_TRACKER_FRAME_BYTES) }), 'too-large'],
      ])('%s', async (_title, frame, code) => {
        const alice = await client()
        await publish(alice)
        const before = await listing(alice)
        alice.sendRaw(frame)
        expect(await alice.next((m) => m.type === 'error')).toMatchObject({ type: 'error', code })
        expect(await listing(alice)).toEqual(before)
      })

      it('a binary frame', async () => {
        const alice = await client()
        alice.sendRaw(Buffer.from([0, 1, 2, 3]))
        expect(await alice.next((m) => m.type === 'error')).toMatchObject({
          code: 'malformed',
          message: 'frames must be JSON text, not binary',
        })
      })

      it('have for a file the peer never located or published, or past its chunk count', async () => {
        const alice = await client()
        const fileId = await publish(alice)
        const mallory = await client()
        mallory.send({ type: 'have', fileId, indexes: [0] })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
        await mallory.ask({ type: 'locate', id: 2, fileId })
        mallory.send({ type: 'have', fileId, indexes: [3] })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
        const location = await mallory.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 3, fileId })
        expect(location.peers).toEqual([{ peerId: alice.peerId, have: Buffer.from([0b1110_0000]).toString('base64') }])
      })

      it('signal to an unknown peer, to itself, or outside a shared swarm', async () => {
        const alice = await client()
        const fileId = await publish(alice)
        const mallory = await client()
        mallory.send({ type: 'signal', to: 'nobody-here-123', fileId, link: 'L1', data: { type: 'offer', sdp: '' } })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'unknown-peer' })
        mallory.send({ type: 'signal', to: mallory.peerId, fileId, link: 'L1', data: { type: 'offer', sdp: '' } })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'unknown-peer' })
        mallory.send({ type: 'signal', to: alice.peerId, fileId, link: 'L1', data: { type: 'offer', sdp: '' } })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
        // A round trip on alice's own socket first: anything relayed to her would have come before its reply.
        await alice.ask({ type: 'list', id: 9 })
        expect(alice.received.filter((m) => m.type === 'signal')).toEqual([])
      })

      it('unpublish of a file the peer is not sharing', async () => {
        const alice = await client()
        const fileId = await publish(alice)
        const mallory = await client()
        mallory.send({ type: 'unpublish', fileId })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
        expect((await listing(mallory))[0]).toMatchObject({ fileId, peers: 1 })
      })
    })
  })

  describe('swarm view', () => {
    const swarmPush = (m: ServerMessage) => m.type === 'swarm' && !('id' in m && m.id !== undefined)

    it('answers watch with the swarm, then pushes joins, chunks, rates and departures', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const viewer = await client()
      const first = await viewer.ask<ServerMessageOf<'swarm'>>({ type: 'watch', id: 7, fileId })
      expect(first).toEqual({
        type: 'swarm',
        id: 7,
        fileId,
        name: 'notes.txt',
        chunkCount: 3,
        peers: [{ peerId: alice.peerId, have: Buffer.from([0b1110_0000]).toString('base64') }],
        peerCount: 1,
        links: [],
      })
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      bob.send({ type: 'have', fileId, indexes: [2] })
      alice.send({ type: 'rates', fileId, links: [{ to: bob.peerId, rate: 250_000 }] })
      // Changes are coalesced: one push carries the newcomer, its chunk and the rate.
      const pushed = await viewer.next<ServerMessageOf<'swarm'>>(
        (m) => swarmPush(m) && m.type === 'swarm' && m.links.length === 1 && m.peers.some((p) => p.have === 'IA=='),
      )
      expect(pushed.peerCount).toBe(2)
      expect(pushed.links).toEqual([{ from: alice.peerId, to: bob.peerId, rate: 250_000 }])
      bob.close()
      const after = await viewer.next<ServerMessageOf<'swarm'>>((m) => swarmPush(m) && m.type === 'swarm' && m.peerCount === 1)
      expect(after.peers.map((p) => p.peerId)).toEqual([alice.peerId])
      expect(after.links).toEqual([])
    })

    it('describes an unknown file as an empty swarm and fills in once it is published', async () => {
      const viewer = await client()
      const fileId = await fileIdOf(manifest)
      expect(await viewer.ask({ type: 'watch', id: 1, fileId })).toMatchObject({ type: 'swarm', name: '', chunkCount: 0, peers: [] })
      await publish(await client())
      expect(await viewer.next((m) => swarmPush(m))).toMatchObject({ name: 'notes.txt', peerCount: 1 })
    })

    it('stops pushing after unwatch', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const viewer = await client()
      await viewer.ask({ type: 'watch', id: 1, fileId })
      viewer.send({ type: 'unwatch', fileId })
      await viewer.ask({ type: 'list', id: 2 }) // the unwatch has been handled once this answers
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      await expect(viewer.next((m) => swarmPush(m), 1500)).rejects.toThrow()
    })

    it('takes rates only from members, and only between members', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const mallory = await client()
      mallory.send({ type: 'rates', fileId, links: [{ to: alice.peerId, rate: 1 }] })
      expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
      const viewer = await client()
      alice.send({ type: 'rates', fileId, links: [{ to: mallory.peerId, rate: 5 }] })
      await viewer.ask({ type: 'list', id: 1 })
      expect(await viewer.ask({ type: 'watch', id: 2, fileId })).toMatchObject({ links: [] })
      alice.send({ type: 'rates', fileId, links: Array.from({ length: 65 }, () => ({ to: mallory.peerId, rate: 5 })) })
      expect(await alice.next((m) => m.type === 'error')).toMatchObject({ code: 'malformed' })
    })
  })

  describe('resuming after a reconnect', () => {
    it('keeps the peer id for a client that proves it with the token from welcome', async () => {
      const first = await RawClient.connect(url)
      clients.push(first)
      first.send({ type: 'hello', v: 1 })
      const welcome = await first.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
      first.close()
      await first.closed
      const again = await RawClient.connect(url)
      clients.push(again)
      again.send({ type: 'hello', v: 1, resume: { peerId: welcome.peerId, token: welcome.resumeToken } })
      expect(await again.next((m) => m.type === 'welcome')).toMatchObject({ peerId: welcome.peerId })
    })

    it('gives a new id to a forged token, and cannot be used to take over another peer', async () => {
      const victim = await client()
      const attacker = await RawClient.connect(url)
      clients.push(attacker)
      attacker.send({ type: 'hello', v: 1, resume: { peerId: victim.peerId, token: 'A'.repeat(43) } })
      const welcome = await attacker.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
      expect(welcome.peerId).not.toBe(victim.peerId)
      expect(await victim.ask({ type: 'list', id: 1 })).toMatchObject({ type: 'files' })
    })

    it('hands the id over from a stale connection the client left behind (one that stopped answering pings)', async () => {
      await service.close()
      await start({ HEARTBEAT_MS: '1000' })
      const old = await RawClient.connect(url)
      clients.push(old)
      old.send({ type: 'hello', v: 1 })
      const welcome = await old.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
      old.socket.pause() // its pongs stop, as when the tab's network went away
      // While the old connection may still be alive, a resume gets a new id; once its ping goes unanswered, the id.
      await expect
        .poll(
          async () => {
            const fresh = await RawClient.connect(url)
            clients.push(fresh)
            fresh.send({ type: 'hello', v: 1, resume: { peerId: welcome.peerId, token: welcome.resumeToken } })
            return (await fresh.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')).peerId
          },
          { timeout: 5000 },
        )
        .toBe(welcome.peerId)
      old.socket.resume()
      expect(await old.closed).toBe(1006)
    })
  })

  describe('limits', () => {
    const other: Manifest = { ...manifest, name: 'other.txt' }
    const third: Manifest = { ...manifest, name: 'third.txt' }

    it('refuses messages over the rate with rate-limited, then disconnects a client that persists', async () => {
      await service.close()
      await start({ LIMIT_MESSAGES_PER_SECOND: '1', LIMIT_MESSAGE_BURST: '5', LIMIT_REFUSALS_BEFORE_DISCONNECT: '3' })
      const flood = await client()
      for (let id = 0; id < 20; id++) flood.send({ type: 'list', id })
      expect(await flood.next((m) => m.type === 'error')).toMatchObject({ code: 'rate-limited', message: 'too many messages: slow down' })
      expect(await flood.closed).toBe(1008)
      const calm = await client()
      expect(await calm.ask({ type: 'list', id: 1 })).toMatchObject({ type: 'files' })
    })

    it('caps the files one peer publishes', async () => {
      await service.close()
      await start({ LIMIT_FILES_PER_PEER: '2' })
      const alice = await client()
      await publish(alice)
      await publish(alice, other)
      expect(await alice.ask({ type: 'publish', id: 7, manifest: third })).toMatchObject({ type: 'error', id: 7, code: 'rate-limited' })
      expect(await alice.ask({ type: 'publish', id: 8, manifest })).toMatchObject({ type: 'published' }) // re-publishing is free
      expect((await alice.ask<ServerMessageOf<'files'>>({ type: 'list', id: 9 })).files.map((f) => f.name).sort()).toEqual([
        'notes.txt',
        'other.txt',
      ])
    })

    it('caps the manifest bytes one peer publishes', async () => {
      await service.close()
      await start({ LIMIT_MANIFEST_BYTES_PER_PEER: '1024' })
      const alice = await client()
      await publish(alice) // about 300 bytes
      const big: Manifest = {
        ...manifest,
        size: 20 * 262144,
        hashes: Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(64, '0')),
      }
      expect(await alice.ask({ type: 'publish', id: 2, manifest: big })).toMatchObject({
        type: 'error',
        code: 'rate-limited',
        message: 'a peer may publish at most 1024 bytes of manifests',
      })
    })

    it('caps the swarms one peer is in', async () => {
      await service.close()
      await start({ LIMIT_SWARMS_PER_PEER: '1' })
      const alice = await client()
      await publish(alice)
      const otherId = await publish(await client(), other)
      expect(await alice.ask({ type: 'locate', id: 3, fileId: otherId })).toMatchObject({ type: 'error', id: 3, code: 'rate-limited' })
    })

    it('refuses WebSocket upgrades from origins outside the allow-list', async () => {
      await service.close()
      await start({ ALLOWED_ORIGINS: 'http://class.example' })
      await expect(RawClient.connect(url, { origin: 'http://evil.example' })).rejects.toThrow(/403/)
      const allowed = await RawClient.greeted(url, { origin: 'http://class.example' })
      clients.push(allowed)
      expect(allowed.peerId).not.toBe('')
    })
  })
})

describe('HTTP side', () => {
  beforeEach(() => {
    backend = 'memory'
    return start()
  })

  it('serves the app with security headers, and a clear message when it is not built', async () => {
    const response = await fetch(`http://127.0.0.1:${service.port}/`)
    expect(response.status).toBe(503)
    expect(await response.text()).toContain('not built yet')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'")
  })
})
