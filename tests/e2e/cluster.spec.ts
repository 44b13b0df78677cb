import { randomBytes } from 'node:crypto'
import { downloadedBytes, expect, peerIdOf, save, sha256, shareFile, test, transferOf } from './fixtures'
import { startRedis } from '../support/redis'
import { startTrackerProcess } from '../support/tracker-process'
import { distDir } from '../support/service'

/** Short, so the crashed instance's peer lapses within the test; every instance sweeps four times per TTL. */
const TTL_MS = 3000

test('two tracker instances on one Redis act as one tracker, and a crashed instance’s peer leaves the swarm view within the TTL', async ({
  peers,
}) => {
  const redis = await startRedis()
  const env = { REDIS_URL: redis.url, TRACKER_SECRET: `cluster-secret-${Math.random()}`, PEER_TTL_MS: String(TTL_MS), STATIC_DIR: distDir }
  const one = await startTrackerProcess(env)
  const two = await startTrackerProcess(env)
  try {
    const bytes = randomBytes(3 * 1024 * 1024 + 12_345)
    const sharer = await peers.open(`${one.url}/`)
    const link = await shareFile(sharer, { name: 'across-instances.bin', mimeType: 'application/octet-stream', buffer: bytes })
    const sharerId = await peerIdOf(sharer)

    // The friend's tab talks only to instance 2: finding the file and signalling go through Redis.
    const friend = await peers.open(link.replace(one.url, two.url))
    expect(friend.url().startsWith(two.url)).toBe(true)
    await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
    expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
    const friendId = await peerIdOf(friend)

    await friend.getByTestId('swarm-view-link').click()
    const node = (peerId: string) => friend.locator(`[data-testid="swarm-peer"][data-peer-id="${peerId}"]`)
    await expect(node(sharerId)).toBeVisible()
    await expect(node(friendId)).toBeVisible()

    await one.kill()
    const killed = Date.now()
    await expect(sharer.getByTestId('tracker-status')).not.toHaveAttribute('data-status', 'online')
    // Lapses between 3/4 and 5/4 of the TTL after the kill, then the view's push comes within 0.5 s.
    await expect(node(sharerId)).toHaveCount(0, { timeout: TTL_MS * 1.25 + 500 + 2000 })
    test.info().annotations.push({ type: 'dead peer dropped after', description: `${Date.now() - killed} ms` })
    await expect(node(friendId)).toBeVisible()
  } finally {
    await one.kill()
    await two.stop()
    await redis.stop()
  }
})
