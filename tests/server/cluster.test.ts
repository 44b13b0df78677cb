// Two tracker instances on one Redis act as one tracker.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fileIdOf, type Manifest } from '../../src/protocol/manifest'
import type { ServerMessageOf } from '../../src/protocol/tracker'
import { ConfigError, loadConfig } from '../../signaling-server/config'
import type { RunningService } from '../../signaling-server/server'
import { startTestService } from '../support/service'
import { startRedis, type RedisServer } from '../support/redis'
import { startTrackerProcess } from '../support/tracker-process'
import { RawClient } from '../support/raw-client'

const manifest: Manifest = {
  v: 1,
  name: 'lecture.pdf',
  size: 600_000,
  type: 'application/pdf',
  chunkSize: 262144,
  hashes: ['0a', '0b', '0c'].map((h) => h.repeat(32)),
}
const SECRET = 'cluster-test-secret-0123456789'
/** Short, so a dead instance's peers lapse quickly; every instance sweeps four times per TTL. */
const TTL_MS = 2000

let redis: RedisServer
let prefixes = 0
let env: Record<string, string>
let one: RunningService
let two: RunningService
const clients: RawClient[] = []

const wsUrl = (service: { port: number }) => `ws://127.0.0.1:${service.port}/ws`

async function client(service: { port: number }): Promise<RawClient> {
  const c = await RawClient.greeted(wsUrl(service))
  clients.push(c)
  return c
}

async function publish(c: RawClient, m: Manifest = manifest): Promise<string> {
  const reply = await c.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest: m })
  expect(reply.type).toBe('published')
  return reply.fileId
}

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis.stop())
beforeEach(async () => {
  env = {
    REDIS_URL: redis.url,
    REDIS_PREFIX: `cluster${++prefixes}:`,
    TRACKER_SECRET: SECRET,
    PEER_TTL_MS: String(TTL_MS),
  }
  one = await startTestService(env)
  two = await startTestService(env)
})
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await one.close()
  await two.close()
})

describe('two tracker instances on one Redis', () => {
  it('find each other’s files and swarms, and relay chunk news both ways', async () => {
    const alice = await client(one)
    const bob = await client(two)
    const fileId = await publish(alice)
    const location = await bob.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 2, fileId })
    expect(location).toMatchObject({ type: 'location', manifest, peers: [{ peerId: alice.peerId }] })
    expect(await alice.next((m) => m.type === 'peer-joined')).toMatchObject({ fileId, peer: { peerId: bob.peerId } })

    bob.send({ type: 'have', fileId, indexes: [0, 2] })
    expect(await alice.next((m) => m.type === 'peer-have')).toEqual({ type: 'peer-have', fileId, peerId: bob.peerId, indexes: [0, 2] })
    alice.send({ type: 'lost', fileId, indexes: [1] })
    expect(await bob.next((m) => m.type === 'peer-lost')).toEqual({ type: 'peer-lost', fileId, peerId: alice.peerId, indexes: [1] })

    const files = await (await client(one)).ask<ServerMessageOf<'files'>>({ type: 'list', id: 3 })
    expect(files.files).toEqual([expect.objectContaining({ fileId, peers: 2, seeders: 0, availability: 2 / 3 })])
  })

  it('relay WebRTC signals to the instance holding the target, stamped with the sender', async () => {
    const alice = await client(one)
    const bob = await client(two)
    const fileId = await publish(alice)
    await bob.ask({ type: 'locate', id: 2, fileId })
    const offer = { type: 'offer', sdp: 'v=0 offer' }
    bob.send({ type: 'signal', to: alice.peerId, fileId, link: 'L1', data: offer })
    expect(await alice.next((m) => m.type === 'signal')).toEqual({ type: 'signal', from: bob.peerId, fileId, link: 'L1', data: offer })
    alice.send({ type: 'signal', to: bob.peerId, fileId, link: 'L1', data: { type: 'answer', sdp: 'v=0 answer' } })
    expect(await bob.next((m) => m.type === 'signal')).toMatchObject({ from: alice.peerId, data: { type: 'answer' } })

    // Only within a swarm both are in, and only to connected peers.
    const carol = await client(one)
    carol.send({ type: 'signal', to: bob.peerId, fileId, link: 'X1', data: offer })
    expect(await carol.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
    bob.send({ type: 'signal', to: 'nobody-here-0000', fileId, link: 'X1', data: offer })
    expect(await bob.next((m) => m.type === 'error')).toMatchObject({ code: 'unknown-peer' })
  })

  it('resolve a join code given out by the other instance', async () => {
    const teacher = await client(one)
    const fileId = await publish(teacher)
    const given = await teacher.ask<ServerMessageOf<'presented'>>({ type: 'present', id: 2, fileId })
    expect(given.type).toBe('presented')
    const student = await client(two)
    expect(await student.ask({ type: 'lookup-code', id: 3, code: given.code })).toEqual({
      type: 'code-found',
      id: 3,
      code: given.code,
      fileId,
    })
    expect(await student.ask({ type: 'lookup-code', id: 4, code: given.code === 'ABCDEF' ? 'ABCDEG' : 'ABCDEF' })).toMatchObject({
      code: 'not-found',
    })
  })

  it('tell a peer waiting on one instance when the file is published on the other', async () => {
    const bob = await client(two)
    const fileId = await fileIdOf(manifest)
    expect(await bob.ask({ type: 'locate', id: 2, fileId })).toMatchObject({ type: 'error', code: 'not-found' })
    await publish(await client(one))
    expect(await bob.next((m) => m.type === 'file-available')).toEqual({ type: 'file-available', fileId })
  })

  it('push a swarm view watched on one instance with members and rates reported on the other', async () => {
    const alice = await client(one)
    const fileId = await publish(alice)
    const bob = await client(one)
    await bob.ask({ type: 'locate', id: 2, fileId })
    const viewer = await client(two)
    const first = await viewer.ask<ServerMessageOf<'swarm'>>({ type: 'watch', id: 3, fileId })
    expect(first.peerCount).toBe(2)
    alice.send({ type: 'rates', fileId, links: [{ to: bob.peerId, rate: 4_000_000 }] })
    const pushed = await viewer.next<ServerMessageOf<'swarm'>>((m) => m.type === 'swarm' && m.links.length > 0)
    expect(pushed.links).toEqual([{ from: alice.peerId, to: bob.peerId, rate: 4_000_000 }])
    bob.close()
    expect(await viewer.next<ServerMessageOf<'swarm'>>((m) => m.type === 'swarm' && m.peerCount === 1)).toMatchObject({ links: [] })
  })

  it('hand a reconnecting peer over from one instance to the other, closing the old connection', async () => {
    const old = await RawClient.connect(wsUrl(one))
    clients.push(old)
    old.send({ type: 'hello', v: 1 })
    const welcome = await old.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
    old.peerId = welcome.peerId
    const fileId = await publish(old)
    const bob = await client(two)
    await bob.ask({ type: 'locate', id: 2, fileId })

    const fresh = await RawClient.connect(wsUrl(two))
    clients.push(fresh)
    fresh.send({ type: 'hello', v: 1, resume: { peerId: welcome.peerId, token: welcome.resumeToken } })
    expect(await fresh.next((m) => m.type === 'welcome')).toMatchObject({ peerId: welcome.peerId })
    expect(await old.closed).toBe(1006)
    // The swarm hears the old registration go, then the peer announce itself again.
    expect(await bob.next((m) => m.type === 'peer-left')).toEqual({ type: 'peer-left', fileId, peerId: welcome.peerId })
    await publish(fresh)
    expect(await bob.next((m) => m.type === 'peer-joined')).toMatchObject({ peer: { peerId: welcome.peerId } })
    expect((await bob.ask<ServerMessageOf<'files'>>({ type: 'list', id: 5 })).files).toEqual([expect.objectContaining({ peers: 2 })])
  })

  it('tell the other instance’s peers at once when an instance shuts down', async () => {
    const alice = await client(one)
    const fileId = await publish(alice)
    const bob = await client(two)
    await bob.ask({ type: 'locate', id: 2, fileId })
    await one.close()
    expect(await bob.next((m) => m.type === 'peer-left')).toEqual({ type: 'peer-left', fileId, peerId: alice.peerId })
    one = await startTestService(env)
  })

  it('close their peers’ connections when Redis comes back empty, so the peers announce themselves again', async () => {
    const first = await RawClient.connect(wsUrl(one))
    clients.push(first)
    first.send({ type: 'hello', v: 1 })
    const welcome = await first.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
    const fileId = await publish(first)
    const bob = await client(two)
    await redis.stop()
    redis = await startRedis({ port: redis.port })
    // Each instance finds its peers' entries gone at its next refresh, once it has reconnected.
    expect(await first.closed).toBe(1006)
    expect(await bob.closed).toBe(1006)
    const again = await RawClient.connect(wsUrl(one))
    clients.push(again)
    again.send({ type: 'hello', v: 1, resume: { peerId: welcome.peerId, token: welcome.resumeToken } })
    await again.next((m) => m.type === 'welcome')
    await publish(again)
    const carol = await client(two)
    expect(await carol.ask({ type: 'locate', id: 2, fileId })).toMatchObject({ type: 'location', peers: [{ peerId: welcome.peerId }] })
  })

  it('drop the peers of an instance that dies, within the registration TTL, and only them', async () => {
    const doomed = await startTrackerProcess({ ...env, STATIC_DIR: '/nonexistent' })
    try {
      const alice = await client(doomed)
      const fileId = await publish(alice)
      const bob = await client(two)
      await bob.ask({ type: 'locate', id: 2, fileId })
      const carol = await client(one)
      await carol.ask({ type: 'locate', id: 3, fileId })
      await doomed.kill()
      const started = Date.now()
      // The registration was last refreshed up to a quarter TTL before the kill, and the survivors
      // sweep every quarter TTL: it goes between 3/4 and 5/4 of the TTL after the kill.
      expect(await bob.next((m) => m.type === 'peer-left', TTL_MS * 1.25 + 1000)).toEqual({
        type: 'peer-left',
        fileId,
        peerId: alice.peerId,
      })
      expect(Date.now() - started).toBeGreaterThanOrEqual(TTL_MS * 0.75 - 100)
      expect(await carol.next((m) => m.type === 'peer-left')).toEqual({ type: 'peer-left', fileId, peerId: alice.peerId })
      const files = await bob.ask<ServerMessageOf<'files'>>({ type: 'list', id: 4 })
      expect(files.files).toEqual([expect.objectContaining({ fileId, peers: 2, seeders: 0 })])
      expect(bob.received.filter((m) => m.type === 'peer-left')).toEqual([])
    } finally {
      await doomed.kill()
    }
  }, 30_000)
})

describe('the Redis backend', () => {
  it('is configured by REDIS_URL, REDIS_PREFIX and PEER_TTL_MS, with a clear error for bad values', () => {
    const config = loadConfig({ REDIS_URL: 'redis://10.0.0.5:6379', REDIS_PREFIX: 'class:', PEER_TTL_MS: '5000' }, { staticDir: '' })
    expect(config).toMatchObject({ redisUrl: 'redis://10.0.0.5:6379', redisPrefix: 'class:', peerTtlMs: 5000 })
    expect(loadConfig({}, { staticDir: '' })).toMatchObject({ redisUrl: undefined, redisPrefix: 'tabswarm:', peerTtlMs: 20_000 })
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' }, { staticDir: '' })).toThrow(ConfigError)
    expect(() => loadConfig({ REDIS_URL: 'http://redis' }, { staticDir: '' })).toThrow(/redis:\/\/ or rediss:\/\//)
    expect(() => loadConfig({ PEER_TTL_MS: '10' }, { staticDir: '' })).toThrow(/PEER_TTL_MS must be a whole number from 1000/)
  })

  it('stops a tracker from starting, with the reason, when Redis cannot be reached', async () => {
    const unreachable = { ...env, REDIS_URL: 'redis://:hunter2@127.0.0.1:1' }
    await expect(startTestService(unreachable)).rejects.toThrow('cannot reach Redis at redis://:***@127.0.0.1:1: connect ECONNREFUSED')
  })
})
