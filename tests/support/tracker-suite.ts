// The tracker's server tests: a service per test, on the in-memory registry or on Redis (the same
// tests run against both), and raw WebSocket clients that are closed after each test.
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import type { Manifest, PublicManifest } from '../../src/protocol/manifest'
import type { ServerMessageOf } from '../../src/protocol/tracker'
import type { RunningService } from '../../signaling-server/server'
import { startTestService } from './service'
import { RawClient } from './raw-client'
import { startRedis, type RedisServer } from './redis'

export const manifest: PublicManifest = {
  v: 1,
  name: 'notes.txt',
  size: 600_000,
  type: 'text/plain',
  chunkSize: 262144,
  hashes: ['01', '02', '03'].map((h) => h.repeat(32)),
}
export let service: RunningService
export let url: string
let redis: RedisServer
/** Where the tracker keeps its state. */
let backend: 'memory' | 'redis' = 'memory'
let prefixes = 0
export const clients: RawClient[] = []

export async function client(options = {}): Promise<RawClient> {
  const c = await RawClient.greeted(url, options)
  clients.push(c)
  return c
}

/** (Re)starts the service on the current backend with `env` added. */
export async function start(env: Record<string, string> = {}) {
  service = await startTestService({
    ICE_SERVERS: '[{"urls":"stun:127.0.0.1:3478"}]',
    ...(backend === 'redis' ? { REDIS_URL: redis.url, REDIS_PREFIX: `tracker${++prefixes}:` } : {}),
    ...env,
  })
  url = `ws://127.0.0.1:${service.port}/ws`
}

export async function publish(c: RawClient, m: Manifest = manifest): Promise<string> {
  const reply = await c.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest: m })
  expect(reply.type).toBe('published')
  return reply.fileId
}

/** A Redis server for the test file; after each test its clients are closed and its service stopped. */
export function useTrackerService(): void {
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(() => redis.stop())
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    await service.close()
  })
}

/** Every test of the enclosing describe starts with a service on `kind`. */
export function startEachOn(kind: 'memory' | 'redis'): void {
  beforeEach(() => {
    backend = kind
    return start()
  })
}
