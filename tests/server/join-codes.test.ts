// Join codes on the real tracker (memory and Redis): given out, resolved, expired, rate-limited.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Manifest } from '../../src/protocol/manifest'
import { JOIN_CODE_PATTERN } from '../../src/protocol/join-code'
import type { ServerMessage, ServerMessageOf } from '../../src/protocol/tracker'
import type { RunningService } from '../../signaling-server/server'
import { DEFAULT_JOIN_CODE_TTL_MS, loadConfig, ConfigError } from '../../signaling-server/config'
import { startTestService } from '../support/service'
import { RawClient } from '../support/raw-client'
import { startRedis, type RedisServer } from '../support/redis'
import { Redis } from 'ioredis'
import { EXPIRED_CODE_REMEMBERED_MS, MemoryJoinCodes, RedisJoinCodes, type JoinCodes } from '../../signaling-server/join-codes'

const manifestOf = (name: string): Manifest => ({
  v: 1,
  name,
  size: 300_000,
  type: 'text/plain',
  chunkSize: 262144,
  hashes: ['0d', '0e'].map((h) => h.repeat(32)),
})

let redis: RedisServer
let service: RunningService | undefined
let prefixes = 0
const clients: RawClient[] = []
let ids = 100

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis.stop())
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await service?.close()
  service = undefined
})

async function client(): Promise<RawClient> {
  const c = await RawClient.greeted(`ws://127.0.0.1:${service!.port}/ws`)
  clients.push(c)
  return c
}

async function publish(c: RawClient, name = 'slides.pdf'): Promise<string> {
  const reply = await c.ask<ServerMessageOf<'published'>>({ type: 'publish', id: ids++, manifest: manifestOf(name) })
  return reply.fileId
}

type Renew = { code: string; expiresAt: number; proof: string }
const present = (c: RawClient, fileId: string, renew?: Renew) =>
  c.ask<ServerMessage>({ type: 'present', id: ids++, fileId, ...(renew ? { renew } : {}) })
const lookup = (c: RawClient, code: string) => c.ask<ServerMessage>({ type: 'lookup-code', id: ids++, code })

async function presented(c: RawClient, fileId: string, renew?: Renew): Promise<ServerMessageOf<'presented'>> {
  const reply = await present(c, fileId, renew)
  expect(reply.type).toBe('presented')
  return reply as ServerMessageOf<'presented'>
}

describe.each(['memory', 'redis'] as const)('join codes on %s', (backend) => {
  const start = async (env: Record<string, string> = {}) => {
    service = await startTestService({
      ...(backend === 'redis' ? { REDIS_URL: redis.url, REDIS_PREFIX: `codes${++prefixes}:` } : {}),
      ...env,
    })
  }

  it('gives a sharer a code that another peer resolves to the file; the same file keeps its code', async () => {
    await start()
    const teacher = await client()
    const fileId = await publish(teacher)
    const before = Date.now()
    const given = await presented(teacher, fileId)
    expect(given.code).toMatch(JOIN_CODE_PATTERN)
    expect(given.expiresAt).toBeGreaterThanOrEqual(before + DEFAULT_JOIN_CODE_TTL_MS)
    expect(given.expiresAt).toBeLessThanOrEqual(Date.now() + DEFAULT_JOIN_CODE_TTL_MS)
    expect((await presented(teacher, fileId)).code).toBe(given.code)
    const other = await publish(teacher, 'other.pdf')
    expect((await presented(teacher, other)).code).not.toBe(given.code)

    const student = await client()
    expect(await lookup(student, given.code)).toEqual({ type: 'code-found', id: expect.any(Number), code: given.code, fileId })
  })

  it('answers a presented private file’s code with the key its presenter gave, and no other code with one', async () => {
    await start()
    const teacher = await client()
    const privateId = await publish(teacher, 'private.pdf')
    const listedId = await publish(teacher, 'listed.pdf')
    const secret = 'AAECAwQFBgcICQoLDA0ODw'
    const withKey = (await teacher.ask<ServerMessageOf<'presented'>>({ type: 'present', id: ids++, fileId: privateId, secret })).code
    const without = (await presented(teacher, listedId)).code
    const student = await client()
    expect(await lookup(student, withKey)).toEqual({ type: 'code-found', id: expect.any(Number), code: withKey, fileId: privateId, secret })
    expect(await lookup(student, without)).toEqual({ type: 'code-found', id: expect.any(Number), code: without, fileId: listedId })
    // A key spelt wrong is refused by the decoder, before any code is given.
    expect(await teacher.ask({ type: 'present', id: ids++, fileId: privateId, secret: 'not a key' })).toMatchObject({
      type: 'error',
      code: 'malformed',
    })
  })

  it('ends a code when its presenter asks, with the proof: typed later it says so, and its key is gone', async () => {
    await start({ LIMIT_CODE_LOOKUPS_PER_MINUTE: '1000', LIMIT_CODE_REQUESTS_PER_IP_PER_MINUTE: '1000' })
    const teacher = await client()
    const fileId = await publish(teacher, 'private.pdf')
    const secret = 'AAECAwQFBgcICQoLDA0ODw'
    const given = await teacher.ask<ServerMessageOf<'presented'>>({ type: 'present', id: ids++, fileId, secret })
    const claim = { code: given.code, expiresAt: given.expiresAt, proof: given.proof }
    const student = await client()
    expect(await lookup(student, given.code)).toMatchObject({ type: 'code-found', secret })
    // Nobody ends a code without its proof, nor with the proof of another file.
    const other = await publish(teacher, 'other.pdf')
    const intruder = await client()
    const end = (c: RawClient, file: string, claimed: Renew) =>
      c.ask<ServerMessage>({ type: 'end-code', id: ids++, fileId: file, given: claimed })
    expect(await end(intruder, fileId, { ...claim, proof: 'x'.repeat(43) })).toMatchObject({ type: 'error', code: 'not-found' })
    expect(await end(intruder, other, claim)).toMatchObject({ type: 'error', code: 'not-found' })
    expect(await lookup(student, given.code)).toMatchObject({ type: 'code-found' })
    // The presenter ends it from a new connection (a reconnect): the proof is what counts.
    const again = await client()
    expect(await end(again, fileId, claim)).toEqual({ type: 'code-ended', id: expect.any(Number), fileId })
    expect(await lookup(student, given.code)).toMatchObject({ type: 'error', code: 'expired', message: 'the sharer ended that code' })
    // An ended code is not claimed back with its proof, and the same file gets a new code.
    expect((await presented(teacher, fileId, claim)).code).not.toBe(given.code)
    if (backend === 'redis') {
      const store = new Redis(redis.url)
      const keys = await store.keys(`codes${prefixes}:code*`)
      const values = keys.length > 0 ? await store.mget(...keys) : []
      store.disconnect()
      expect(keys.length).toBeGreaterThan(0)
      expect(values.filter((value) => value?.includes(secret))).toEqual([])
    }
  })

  it('says a wrong code is unknown, and refuses a code that is not one', async () => {
    await start()
    const student = await client()
    expect(await lookup(student, 'ABCDEF')).toMatchObject({ type: 'error', code: 'not-found', message: 'no share has that code' })
    expect(await lookup(student, 'abc-def')).toMatchObject({ type: 'error', code: 'malformed' })
  })

  it('says a code expired after its time, and when its presenter stopped sharing', async () => {
    await start({ JOIN_CODE_TTL_MS: '1000', LIMIT_CODE_LOOKUPS_PER_MINUTE: '1000', LIMIT_CODE_REQUESTS_PER_IP_PER_MINUTE: '1000' })
    const teacher = await client()
    const fileId = await publish(teacher)
    const { code, expiresAt, proof } = await presented(teacher, fileId)
    const student = await client()
    expect((await lookup(student, code)).type).toBe('code-found')
    // Polled every 100 ms until the code's second is up.
    let reply: ServerMessage
    do reply = await new Promise((resolve) => setTimeout(resolve, 100)).then(() => lookup(student, code))
    while (reply.type === 'code-found')
    expect(reply).toMatchObject({ type: 'error', code: 'expired', message: 'that code has expired' })
    // Asking again, or claiming it with its proof, after it expired gives a new one.
    expect((await presented(teacher, fileId)).code).not.toBe(code)
    expect((await presented(await client(), fileId, { code, expiresAt, proof })).code).not.toBe(code)

    await service!.close()
    await start({ LIMIT_CODE_LOOKUPS_PER_MINUTE: '1000' })
    const sharer = await client()
    const shared = await publish(sharer)
    const live = (await presented(sharer, shared)).code
    sharer.send({ type: 'unpublish', fileId: shared })
    const late = await client()
    expect(await lookup(late, live)).toMatchObject({ code: 'expired', message: 'the tab that showed that code no longer shares the file' })
  }, 15_000)

  it('renews a code after a reconnect with its signed proof, keeping its expiry; no one claims a code without one', async () => {
    await start({ TRACKER_SECRET: 'join-code-test-secret-0123' })
    const first = await client()
    const fileId = await publish(first)
    const { code, expiresAt, proof } = await presented(first, fileId)
    first.close()
    const again = await client()
    await publish(again)
    expect(await presented(again, fileId, { code, expiresAt, proof })).toMatchObject({ code, expiresAt, proof })
    expect((await lookup(await client(), code)).type).toBe('code-found')
    // The proof is for that code, that file and that expiry only.
    const intruder = await client()
    const elsewhere = await publish(intruder, 'elsewhere.pdf')
    expect((await presented(intruder, elsewhere, { code, expiresAt, proof })).code).not.toBe(code)
    expect((await presented(intruder, fileId, { code, expiresAt: expiresAt + 60_000, proof })).code).not.toBe(code)

    // After a restart (the same secret) the code is claimed back although the tracker forgot it.
    await service!.close()
    await start({ TRACKER_SECRET: 'join-code-test-secret-0123' })
    const back = await client()
    await publish(back)
    expect(await presented(back, fileId, { code, expiresAt, proof })).toMatchObject({ code, expiresAt })
    expect((await lookup(await client(), code)).type).toBe('code-found')
    // A code never given out, with a made-up proof, is not taken.
    const squatter = await client()
    const squatted = await publish(squatter, 'squat.pdf')
    const wanted = code === '222222' ? '333333' : '222222'
    expect((await presented(squatter, squatted, { code: wanted, expiresAt: Date.now() + 60_000, proof: proof })).code).not.toBe(wanted)
  })

  it('limits lookups per connection and per address, and codes per peer', async () => {
    await start({ LIMIT_CODE_LOOKUPS_PER_MINUTE: '3', LIMIT_CODE_REQUESTS_PER_IP_PER_MINUTE: '5', LIMIT_CODES_PER_PEER: '2' })
    const guesser = await client()
    for (let i = 0; i < 3; i++) expect(await lookup(guesser, 'ABCDEF')).toMatchObject({ code: 'not-found' })
    expect(await lookup(guesser, 'ABCDEF')).toMatchObject({ code: 'rate-limited', message: expect.stringContaining('at most 3 a minute') })
    const accomplice = await client()
    for (let i = 0; i < 2; i++) expect(await lookup(accomplice, 'ABCDEF')).toMatchObject({ code: 'not-found' })
    expect(await lookup(accomplice, 'ABCDEF')).toMatchObject({
      code: 'rate-limited',
      message: expect.stringContaining('5 from one address'),
    })

    await service!.close()
    await start({ LIMIT_CODES_PER_PEER: '2' })
    const sharer = await client()
    for (const name of ['a', 'b']) expect((await present(sharer, await publish(sharer, name))).type).toBe('presented')
    expect(await present(sharer, await publish(sharer, 'c'))).toMatchObject({
      code: 'rate-limited',
      message: 'a peer may hold at most 2 join codes',
    })
  })
})

describe.each(['memory', 'redis'] as const)('the %s join code store', (backend) => {
  let now = 1_000_000
  const record = { fileId: 'f'.repeat(64), owner: 'teacher-1', expiresAt: now + 60_000, secret: 'AAECAwQFBgcICQoLDA0ODw' }
  let store: Redis | undefined
  const codes = (): JoinCodes => {
    if (backend === 'memory') return new MemoryJoinCodes(() => now)
    store = new Redis(redis.url)
    return new RedisJoinCodes(store, `store${++prefixes}:`, () => now)
  }
  afterEach(() => store?.disconnect())

  it('hands out a key only until the code expires, and remembers the code a day after', async () => {
    now = 1_000_000
    const joinCodes = codes()
    expect(await joinCodes.put('ABCDEF', record)).toBe(true)
    expect(await joinCodes.get('ABCDEF')).toEqual(record)
    now = record.expiresAt
    const { secret: _key, ...withoutKey } = record
    expect(await joinCodes.get('ABCDEF')).toEqual(withoutKey)
    // Redis forgets by the keys' expiry, in real time (below).
    now = record.expiresAt + EXPIRED_CODE_REMEMBERED_MS
    if (backend === 'memory') expect(await joinCodes.get('ABCDEF')).toBeUndefined()
  })

  it('ends a code of its file only, keeping no key', async () => {
    now = 1_000_000
    const joinCodes = codes()
    await joinCodes.put('ABCDEF', record)
    expect(await joinCodes.end('ABCDEF', 'e'.repeat(64))).toBe(false)
    expect(await joinCodes.end('GHJKMN', record.fileId)).toBe(false)
    expect(await joinCodes.end('ABCDEF', record.fileId)).toBe(true)
    expect(await joinCodes.get('ABCDEF')).toEqual({ fileId: record.fileId, owner: record.owner, expiresAt: now, ended: true })
  })
})

describe('join codes in Redis', () => {
  it('lets Redis drop a key when its code expires, keeping the code', async () => {
    const store = new Redis(redis.url)
    const prefix = `store${++prefixes}:`
    const joinCodes = new RedisJoinCodes(store, prefix)
    const record = { fileId: 'f'.repeat(64), owner: 'teacher-1', expiresAt: Date.now() + 300, secret: 'AAECAwQFBgcICQoLDA0ODw' }
    await joinCodes.put('ABCDEF', record)
    expect(await store.exists(`${prefix}code-key:ABCDEF`)).toBe(1)
    // Polled until Redis drops it (its PX is the code's 300 ms).
    const deadline = Date.now() + 5000
    while ((await store.exists(`${prefix}code-key:ABCDEF`)) === 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(await store.exists(`${prefix}code-key:ABCDEF`)).toBe(0)
    expect(await store.exists(`${prefix}code:ABCDEF`)).toBe(1)
    store.disconnect()
  })
})

describe('join code settings', () => {
  it('has defaults and reads its variables', () => {
    expect(loadConfig({}, { staticDir: '' })).toMatchObject({
      joinCodeTtlMs: 4 * 3600 * 1000,
      limits: { codesPerPeer: 8, codeLookupsPerMinute: 10, codeRequestsPerIpPerMinute: 60 },
    })
    const env = {
      JOIN_CODE_TTL_MS: '60000',
      LIMIT_CODES_PER_PEER: '3',
      LIMIT_CODE_LOOKUPS_PER_MINUTE: '4',
      LIMIT_CODE_REQUESTS_PER_IP_PER_MINUTE: '90',
    }
    expect(loadConfig(env, { staticDir: '' })).toMatchObject({
      joinCodeTtlMs: 60000,
      limits: { codesPerPeer: 3, codeLookupsPerMinute: 4, codeRequestsPerIpPerMinute: 90 },
    })
    expect(() => loadConfig({ JOIN_CODE_TTL_MS: '10' }, { staticDir: '' })).toThrow(ConfigError)
  })
})
