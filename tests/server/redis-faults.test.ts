// The service on Redis when Redis fails: a tab that arrives during an outage is held and comes
// online the moment it ends (or is refused after the hold, and asks again); a Redis that accepts but never answers stops the start with the reason; an outage is
// logged once when it starts and once when it ends (Redis and the bus), with what was dropped.
import { createServer, type Server } from 'node:net'
import { PassThrough } from 'node:stream'
import { afterEach, expect, it, vi } from 'vitest'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { BackendError } from '../../signaling-server/backend'
import { loadConfig } from '../../signaling-server/config'
import { startService, type RunningService } from '../../signaling-server/server'
import { TrackerClient, type WebSocketConstructor } from '../../src/net/tracker-client'
import { placeholderManifest } from '../support/manifests'
import { startRedis, type RedisServer } from '../support/redis'
import { startTestService, testEnv } from '../support/service'

const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function redisAndService(extra: Record<string, string> = {}) {
  let redis: RedisServer = await startRedis()
  const port = redis.port
  cleanups.push(() => redis.stop())
  const lines: Record<string, unknown>[] = []
  const logTo = new PassThrough()
  logTo.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>)
  })
  const env = testEnv({
    REDIS_URL: redis.url,
    REDIS_PREFIX: `faults${Date.now()}:`,
    LOG_LEVEL: 'info',
    REDIS_CONNECT_TIMEOUT_MS: '1000',
    ...extra,
  })
  const service = await startService(loadConfig(env, { staticDir: '/nonexistent' }), { logTo })
  cleanups.push(() => service.close())
  return {
    service,
    lines,
    events: () => lines.map((line) => line.event),
    redisUrl: () => redis.url,
    stopRedis: () => redis.stop(),
    pauseRedis: (signal: 'SIGSTOP' | 'SIGCONT') => process.kill(redis.pid, signal),
    async restartRedis() {
      redis = await startRedis({ port })
    },
  }
}

function client(service: RunningService): TrackerClient {
  const tracker = new TrackerClient(`ws://127.0.0.1:${service.port}/ws`, Math.random, WebSocket as unknown as WebSocketConstructor)
  cleanups.push(() => tracker.stop())
  return tracker
}

async function until(predicate: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`not met in ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Redis stopped (and the instance knows it), then a tab starts: its statuses as they come. */
async function helloDuringOutage() {
  const { service, events, stopRedis, restartRedis } = await redisAndService()
  await stopRedis()
  await until(() => events().includes('redis.down'), 10_000)
  const tracker = client(service)
  const statuses: string[] = []
  tracker.onStatus((status) => statuses.push(status))
  tracker.start()
  return { tracker, statuses, restartRedis }
}

it(
  'a tab that says hello during a Redis outage is held, not turned away, and is welcomed the moment Redis returns',
  { timeout: 30_000 },
  async () => {
    const { tracker, statuses, restartRedis } = await helloDuringOutage()
    await until(() => statuses.includes('connecting'), 5_000)
    // Held: within the hold its connection is neither refused nor welcomed.
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(statuses).toEqual(['connecting'])
    await restartRedis()
    const back = Date.now()
    await until(() => tracker.status === 'online', 8_000)
    // Not a client backoff (up to 2 s after a refusal) later.
    expect(Date.now() - back).toBeLessThan(1_500)
    expect(statuses).toEqual(['connecting', 'online'])
  },
)

it('a hello held longer than the hold is refused, so the tab asks again rather than wait', { timeout: 30_000 }, async () => {
  const { tracker, statuses, restartRedis } = await helloDuringOutage()
  await until(() => statuses.filter((status) => status === 'offline').length >= 2, 20_000)
  expect(tracker.status).not.toBe('online')
  await restartRedis()
  await until(() => tracker.status === 'online', 8_000)
})

it(
  'a peer online when Redis comes back empty is registered again within seconds of its return, not a refresh period later',
  { timeout: 30_000 },
  async () => {
    // A refresh every 30 s: before the first, only the outage's end can have registered the peer again.
    const { service, events, redisUrl, stopRedis, restartRedis } = await redisAndService({
      PEER_TTL_MS: '120000',
      REDIS_PREFIX: 'empty:',
    })
    const tracker = client(service)
    tracker.start()
    await until(() => tracker.status === 'online', 5_000)
    const peerId = tracker.peerId
    await stopRedis()
    await until(() => events().includes('redis.down'), 10_000)
    await restartRedis()
    const back = Date.now()
    const watcher = new Redis(redisUrl())
    cleanups.push(() => watcher.disconnect())
    while (!(tracker.status === 'online' && (await watcher.hexists('empty:owner', peerId!)) === 1)) {
      if (Date.now() - back > 10_000) throw new Error('not registered again 10 s after Redis returned')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(Date.now() - back).toBeLessThan(5_000)
    // The same peer, so its open peer links stay valid.
    expect(tracker.peerId).toBe(peerId)
  },
)

it('stops the start, saying why, when Redis takes the connection but never answers', async () => {
  const silent: Server = createServer(() => undefined)
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => silent.close())
  const port = (silent.address() as { port: number }).port
  const started = Date.now()
  await expect(startTestService({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_CONNECT_TIMEOUT_MS: '500' })).rejects.toThrow(BackendError)
  await expect(startTestService({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_CONNECT_TIMEOUT_MS: '500' })).rejects.toThrow(
    /did not answer in 500 ms/,
  )
  expect(Date.now() - started).toBeLessThan(5_000)
})

it(
  'logs a Redis outage once when it starts and once when it ends, for Redis and for the bus, with what was dropped',
  { timeout: 30_000 },
  async () => {
    const unhandled = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    cleanups.push(() => unhandled.mockRestore())
    const { service, events, lines, stopRedis, restartRedis } = await redisAndService()
    const tracker = client(service)
    tracker.start()
    await until(() => tracker.status === 'online', 5_000)
    await stopRedis()
    await until(() => events().includes('redis.down') && events().includes('bus.down'), 10_000)
    // A request meanwhile fails: it is what the outage dropped.
    await expect(tracker.request({ type: 'list' })).resolves.toMatchObject({ type: 'error', code: 'internal' })
    await restartRedis()
    await until(() => events().includes('redis.up') && events().includes('bus.up'), 15_000)
    expect(events().filter((event) => event === 'redis.down')).toHaveLength(1)
    expect(events().filter((event) => event === 'redis.up')).toHaveLength(1)
    expect(events().filter((event) => event === 'bus.down')).toHaveLength(1)
    expect(lines.find((line) => line.event === 'redis.up')).toMatchObject({ dropped: expect.any(Number), downMs: expect.any(Number) })
    expect((lines.find((line) => line.event === 'redis.up') as { dropped: number }).dropped).toBeGreaterThanOrEqual(1)
    // Nothing printed outside the log (ioredis prints "Unhandled error event" where no one listens).
    expect(unhandled).not.toHaveBeenCalled()
  },
)

it(
  'notices a Redis that is paused (its connection open, nothing answered): logged once each way, not ready meanwhile',
  { timeout: 30_000 },
  async () => {
    const { service, events, pauseRedis } = await redisAndService({ REDIS_CONNECT_TIMEOUT_MS: '500' })
    const ready = async () => (await fetch(`http://127.0.0.1:${service.port}/readyz`)).status
    expect(await ready()).toBe(200)
    pauseRedis('SIGSTOP')
    cleanups.push(() => pauseRedis('SIGCONT'))
    await until(() => events().includes('redis.down'), 5_000)
    expect(await ready()).toBe(503)
    pauseRedis('SIGCONT')
    await until(() => events().includes('redis.up'), 5_000)
    expect(await ready()).toBe(200)
    expect(events().filter((event) => event === 'redis.down')).toHaveLength(1)
  },
)

it(
  'after Redis was paused, live peers are still in their swarms, and a hello that timed out meanwhile leaves no ghost registration',
  { timeout: 30_000 },
  async () => {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const prefix = `pause${Date.now()}:`
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, PEER_TTL_MS: '20000', REDIS_CONNECT_TIMEOUT_MS: '500' }
    const [one, two] = [await startTestService(env), await startTestService(env)]
    cleanups.push(
      () => one.close(),
      () => two.close(),
    )
    const [alice, bob] = [client(one), client(two)]
    for (const tracker of [alice, bob]) tracker.start()
    await until(() => alice.status === 'online' && bob.status === 'online', 5_000)
    const manifest = placeholderManifest('paused.bin')
    const published = (await alice.request({ type: 'publish', manifest })) as { fileId: string }
    await bob.request({ type: 'locate', fileId: published.fileId })
    process.kill(redis.pid, 'SIGSTOP')
    cleanups.push(() => process.kill(redis.pid, 'SIGCONT'))
    // A tab arrives while Redis is paused: its hello times out (its claim waits in Redis's socket).
    const carol = client(one)
    const refused: string[] = []
    carol.onStatus((status) => refused.push(status))
    carol.start()
    await until(() => refused.includes('offline'), 5_000)
    process.kill(redis.pid, 'SIGCONT')
    await until(() => carol.status === 'online', 8_000)
    // Well within the TTL: only the three peers there are registered.
    const watcher = new Redis(redis.url)
    cleanups.push(() => watcher.disconnect())
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await watcher.hlen(`${prefix}owner`)).toBe(3)
    // Each still finds the other in the swarm.
    const others = async (asker: TrackerClient) =>
      ((await asker.request({ type: 'locate', fileId: published.fileId })) as { peers: { peerId: string }[] }).peers.map(
        (peer) => peer.peerId,
      )
    expect(await others(bob)).toEqual([alice.peerId])
    expect(await others(alice)).toEqual([bob.peerId])
  },
)
