// The service as it is hosted: behind nginx terminating TLS (docs/nginx.conf, as the deployment
// document shows it), two instances on one Redis. Pages over https://, the tracker over wss://.
import { randomBytes } from 'node:crypto'
import type { RunningService } from '../../signaling-server/server'
import { RawClient } from '../support/raw-client'
import { startNginx, type Nginx } from '../support/nginx'
import { startRedis, type RedisServer } from '../support/redis'
import { distDir, startTestService } from '../support/service'
import { downloadedBytes, expect, haveCount, save, sha256, shareFile, test, transferOf } from './fixtures'

const MiB = 1024 * 1024

let redis: RedisServer
let nginx: Nginx
const instances: RunningService[] = []
const env = (extra: Record<string, string> = {}) => ({
  REDIS_URL: redis.url,
  REDIS_PREFIX: `proxy${Date.now()}:`,
  TRACKER_SECRET: 'proxy-test-secret-0123456789',
  TRUSTED_PROXIES: '127.0.0.1',
  SHUTDOWN_GRACE_MS: '3000',
  ...extra,
})

test.afterEach(async () => {
  await nginx?.stop()
  for (const instance of instances.splice(0)) await instance.close()
  await redis?.stop()
})

async function cluster(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  redis = await startRedis()
  const shared = env(extra)
  for (let i = 0; i < 2; i++) instances.push(await startTestService(shared, distDir))
  nginx = await startNginx(instances.map((instance) => instance.port))
  return shared
}

test('over https and wss behind nginx, a file goes from tab to tab, and restarting one of two instances mid-transfer loses nothing', async ({
  peers,
}) => {
  const shared = await cluster()
  const bytes = randomBytes(4 * MiB)
  const sharer = await peers.open(`${nginx.origin}/?up=400KB`, { ignoreHTTPSErrors: true })
  const link = await shareFile(sharer, { name: 'through-the-proxy.bin', mimeType: 'application/octet-stream', buffer: bytes })
  expect(link.startsWith(`${nginx.origin}/#/f/`)).toBe(true)
  const friend = await peers.open(link, { ignoreHTTPSErrors: true })
  // Every state the friend's transfer shows, as it shows it.
  await friend.evaluate(() => {
    const states: string[] = ((window as unknown as { states: string[] }).states = [])
    setInterval(() => states.push(document.querySelector('[data-testid="transfer"]')?.getAttribute('data-state') ?? ''), 50)
  })
  await expect.poll(() => haveCount(friend)).toBeGreaterThanOrEqual(2)
  // An upgrade: the first instance drains (its clients are told to reconnect), stops, and starts again.
  const first = instances.shift()!
  await first.drain()
  instances.push(await startTestService({ ...shared, PORT: String(first.port) }, distDir))
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete', { timeout: 60_000 })
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
  for (const page of [sharer, friend]) await expect(page.getByTestId('tracker-status')).toHaveAttribute('data-status', 'online')
  const states = await friend.evaluate(() => (window as unknown as { states: string[] }).states)
  expect(states).not.toContain('error')
  await expect(sharer.getByTestId('transfer').first()).toHaveAttribute('data-state', 'seeding')
})

test('the per-address limit counts the browsers’ addresses from X-Forwarded-For, not the proxy’s', async () => {
  await cluster({ LIMIT_CONNECTIONS_PER_IP: '1' })
  const url = `wss://127.0.0.1:${nginx.port}/ws`
  const from = (localAddress: string) => RawClient.connect(url, { localAddress, rejectUnauthorized: false })
  const refusal = (localAddress: string) =>
    from(localAddress).then(
      (client) => (client.close(), 101),
      (error: Error) => Number(/Unexpected server response: (\d+)/.exec(error.message)?.[1] ?? 0),
    )
  const first = await from('198.18.0.1')
  // Each instance counts its own connections: a second one from the same address is refused by whichever it reaches.
  const again = [await refusal('198.18.0.1'), await refusal('198.18.0.1')]
  expect(again).toContain(429)
  // Another address is not held back by the first one's connections (without the header, both would be nginx's).
  const other = await from('198.18.0.2')
  first.close()
  other.close()
})
