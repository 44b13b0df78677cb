// Running it as a service: health and readiness, metrics behind a token, JSON logs that never
// carry a file's name or key, and a shutdown that asks clients to reconnect elsewhere.
import { PassThrough } from 'node:stream'
import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import type { Manifest } from '../../src/protocol/manifest'
import type { ServerMessageOf } from '../../src/protocol/tracker'
import { ConfigError, loadConfig } from '../../signaling-server/config'
import { startService, type RunningService } from '../../signaling-server/server'
import { RawClient } from '../support/raw-client'
import { startRedis } from '../support/redis'
import { testEnv } from '../support/service'
import { startTrackerProcess } from '../support/tracker-process'

const TOKEN = 'metrics-token-0123456789'
const cleanups: (() => unknown)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function service(env: Record<string, string> = {}) {
  const lines: string[] = []
  const logTo = new PassThrough()
  logTo.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)))
  const running = await startService(loadConfig(testEnv({ LOG_LEVEL: 'info', ...env }), { staticDir: '/nonexistent' }), { logTo })
  cleanups.push(() => running.close())
  return { running, lines }
}

const get = (running: RunningService, path: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${running.port}${path}`, { headers })

async function greeted(running: RunningService): Promise<RawClient> {
  const client = await RawClient.greeted(`ws://127.0.0.1:${running.port}/ws`)
  cleanups.push(() => client.close())
  return client
}

describe('health and readiness', () => {
  it('/healthz says the process is alive; /readyz says ready, then 503 while draining', async () => {
    const { running } = await service({ SHUTDOWN_GRACE_MS: '2000' })
    expect(await (await get(running, '/healthz')).json()).toEqual({ status: 'ok' })
    const ready = await get(running, '/readyz')
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }])
    await greeted(running) // one client that does not leave: the drain waits for it until the grace is over
    const draining = running.drain()
    const notReady = await get(running, '/readyz')
    expect([notReady.status, await notReady.json()]).toEqual([503, { status: 'not-ready', reason: 'draining' }])
    await draining
  })

  it('/readyz says 503 while Redis cannot be reached', { timeout: 20_000 }, async () => {
    const redis = await startRedis()
    cleanups.push(() => redis.stop())
    const { running } = await service({ REDIS_URL: redis.url, REDIS_PREFIX: `ops${Date.now()}:`, REDIS_CONNECT_TIMEOUT_MS: '500' })
    expect((await get(running, '/readyz')).status).toBe(200)
    await redis.stop()
    let answer = await get(running, '/readyz')
    for (let i = 0; i < 100 && answer.status === 200; i++) answer = await get(running, '/readyz')
    expect([answer.status, await answer.json()]).toEqual([503, { status: 'not-ready', reason: 'redis-unreachable' }])
  })
})

describe('metrics', () => {
  it('are off without METRICS_TOKEN, and ask for the token when on', async () => {
    const off = (await service()).running
    expect((await get(off, '/metrics')).status).toBe(404)
    const on = (await service({ METRICS_TOKEN: TOKEN })).running
    expect((await get(on, '/metrics')).status).toBe(401)
    expect((await get(on, '/metrics', { authorization: 'Bearer wrong-token-0123456789' })).status).toBe(401)
  })

  it('count connections, messages by type, refusals by reason, signals, registry calls, the event loop and memory', async () => {
    const { running } = await service({ METRICS_TOKEN: TOKEN })
    const client = await greeted(running)
    await client.ask({ type: 'list', id: 1 })
    await client.ask({ type: 'locate', id: 2, fileId: 'ab'.repeat(32) }) // refused: not-found
    const response = await get(running, '/metrics', { authorization: `Bearer ${TOKEN}` })
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await response.text()
    expect(text).toMatch(/^tabswarm_connections 1$/m)
    expect(text).toMatch(/^tabswarm_messages_received_total\{type="hello"\} 1$/m)
    expect(text).toMatch(/^tabswarm_messages_received_total\{type="list"\} 1$/m)
    expect(text).toMatch(/^tabswarm_messages_sent_total\{type="welcome"\} 1$/m)
    expect(text).toMatch(/^tabswarm_refusals_total\{reason="not-found"\} 1$/m)
    expect(text).toMatch(/^tabswarm_peers 1$/m)
    expect(text).toMatch(/^tabswarm_registry_call_seconds_count\{operation="claim"\} 1$/m)
    expect(text).toMatch(/^tabswarm_signals_relayed_total 0$/m)
    expect(text).toMatch(/^tabswarm_relayed_bytes_total 0$/m)
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d/m)
  })
})

describe('logs', () => {
  it('are JSON lines with level, time, instance and event, and never carry a file’s name, key or private metadata', async () => {
    const { running, lines } = await service()
    const client = await greeted(running)
    const name = 'Quarterly-secret-plans.pdf'
    const listed: Manifest = { v: 1, name, size: 10, type: 'application/pdf', chunkSize: 262144, hashes: ['0a'.repeat(32)] }
    const published = await client.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest: listed })
    const key = 'AbCdEfGhIjKlMnOpQrStUv'
    await client.ask({ type: 'present', id: 2, fileId: published.fileId, secret: key })
    client.send({ type: 'publish', id: 3, manifest: { ...listed, name: `${name}-broken`, chunkSize: 3 } }) // refused
    await client.next((m) => m.type === 'error')
    await running.close()
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>
      expect(entry).toMatchObject({
        level: expect.any(Number),
        time: expect.any(Number),
        instance: expect.any(String),
        event: expect.any(String),
      })
      expect(line).not.toContain(name)
      expect(line).not.toContain(key)
    }
  })
})

describe('shutdown', () => {
  it(
    'on SIGTERM asks each client to reconnect at a time of its own, takes no new connection, and exits 0',
    { timeout: 20_000 },
    async () => {
      const server = await startTrackerProcess({ SHUTDOWN_GRACE_MS: '3000', LOG_LEVEL: 'info' })
      cleanups.push(() => server.kill())
      const clients = await Promise.all([1, 2, 3].map(() => RawClient.greeted(`ws://127.0.0.1:${server.port}/ws`)))
      const stopped = server.stop()
      const told = await Promise.all(clients.map((c) => c.next<ServerMessageOf<'reconnect'>>((m) => m.type === 'reconnect')))
      for (const message of told) expect(message.afterMs).toBeLessThanOrEqual(1500)
      const refused = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`)
        ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
        ws.once('error', () => resolve(0))
      })
      expect(refused).toBe(503)
      // Clients that do as told leave; the process exits 0 without waiting out the grace.
      for (const c of clients) c.close()
      const started = Date.now()
      expect(await stopped).toBe(0)
      expect(Date.now() - started).toBeLessThan(3000)
      expect(server.log()).toContain('"event":"service.stopped"')
    },
  )
})

describe('settings', () => {
  it('refuse bad values at start, naming the variable', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'chatty' }, { staticDir: '' })).toThrow(/LOG_LEVEL must be one of/)
    expect(() => loadConfig({ METRICS_TOKEN: 'short' }, { staticDir: '' })).toThrow(/METRICS_TOKEN must be at least 16/)
    expect(() => loadConfig({ SHUTDOWN_GRACE_MS: '-1' }, { staticDir: '' })).toThrow(/SHUTDOWN_GRACE_MS/)
    expect(() => loadConfig({ REDIS_CONNECT_TIMEOUT_MS: '0' }, { staticDir: '' })).toThrow(/REDIS_CONNECT_TIMEOUT_MS/)
    expect(() => loadConfig({ RELAY_BYTES_PER_SECOND: 'x' }, { staticDir: '' })).toThrow(ConfigError)
    const d = loadConfig({}, { staticDir: '' })
    expect([d.logLevel, d.metricsToken, d.shutdownGraceMs, d.redisConnectTimeoutMs]).toEqual(['info', undefined, 10_000, 5_000])
  })
})
