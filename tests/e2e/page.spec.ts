import { randomBytes } from 'node:crypto'
import { expect, shareFile, test, transferOf } from './fixtures'

// Records wake-lock requests and releases; the real API is used underneath where it works.
const RECORD_WAKE_LOCKS = `{
  window.__wakeLocks = { requested: 0, released: 0 }
  const fake = () => ({ release: async () => { window.__wakeLocks.released++ } })
  Object.defineProperty(navigator, 'wakeLock', {
    value: { request: async () => { window.__wakeLocks.requested++; return fake() } },
  })
}`

test('the page title shows download progress and a wake lock is held while the transfer runs', async ({ peers }) => {
  const buffer = randomBytes(3 * 1024 * 1024)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'keynote.key', mimeType: 'application/octet-stream', buffer })
  const friend = await peers.open(link.replace('/#/', '/?down=1MB#/'), { initScript: RECORD_WAKE_LOCKS })
  await expect(friend).toHaveTitle(/^\d{1,2}% · keynote\.key — TabSwarm$/)
  await expect
    .poll(() => friend.evaluate(() => (window as unknown as { __wakeLocks: { requested: number } }).__wakeLocks.requested))
    .toBeGreaterThan(0)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  await expect(friend).toHaveTitle('TabSwarm')
  await expect
    .poll(() => friend.evaluate(() => (window as unknown as { __wakeLocks: { released: number } }).__wakeLocks.released))
    .toBeGreaterThan(0)
})
