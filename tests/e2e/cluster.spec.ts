import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { downloadedBytes, expect, fileIdOfLink, peerIdOf, save, sha256, shareFile, test, transferOf } from './fixtures'
import { startRedis } from '../support/redis'
import { startTrackerProcess } from '../support/tracker-process'
import { distDir } from '../support/service'

/** Every key and value in the Redis at `url`, as one latin1 text (bitfields are binary). */
async function dumpRedis(url: string): Promise<string> {
  const redis = new Redis(url)
  try {
    const parts: string[] = []
    for (const key of await redis.keysBuffer('*')) {
      const type = await redis.type(key)
      parts.push(key.toString('latin1'))
      if (type === 'string') parts.push((await redis.getBuffer(key))!.toString('latin1'))
      else if (type === 'hash') for (const value of await redis.hgetallBuffer(key).then(Object.entries)) parts.push(value.join('='))
      else if (type === 'set') for (const value of await redis.smembersBuffer(key)) parts.push(value.toString('latin1'))
      else if (type === 'zset') parts.push(...(await redis.zrange(key, 0, -1)))
      else if (type === 'list') parts.push(...(await redis.lrange(key, 0, -1)))
    }
    return parts.join('\n')
  } finally {
    redis.disconnect()
  }
}

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
    // A private share: every key and value the trackers keep names neither the file nor a byte of it.
    const kept = await dumpRedis(redis.url)
    expect(kept).toContain(fileIdOfLink(link))
    expect(kept).not.toContain('across-instances')
    expect(kept).not.toContain(link.split('/').pop()) // nor the link's key (it was not presented)
    for (const at of [0, 1024 * 1024, bytes.length - 64]) expect(kept).not.toContain(bytes.subarray(at, at + 32).toString('latin1'))
    // Nor what the trackers printed.
    for (const instance of [one, two]) {
      expect(instance.log()).toContain('TabSwarm is running')
      expect(instance.log()).not.toContain('across-instances')
      expect(instance.log()).not.toContain(link.split('/').pop())
      for (const at of [0, bytes.length - 64]) expect(instance.log()).not.toContain(bytes.subarray(at, at + 32).toString('latin1'))
    }

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
