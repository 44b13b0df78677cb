import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { LocalBus, RedisBus, type Bus } from './bus'
import { MemoryJoinCodes, RedisJoinCodes, type JoinCodes } from './join-codes'
import { MemoryRegistry, type Registry } from './registry'
import { RedisRegistry } from './redis-registry'

/** Where a tracker instance keeps its state and how it reaches the others. */
export interface Backend {
  registry: Registry
  codes: JoinCodes
  bus: Bus
  close(): Promise<void>
}

export class BackendError extends Error {}

/**
 * In memory for one instance (no REDIS_URL), or in Redis shared by every instance given the same
 * URL and prefix. Fails at once, with the reason, when Redis cannot be reached.
 */
export async function openBackend(options: { redisUrl: string | undefined; redisPrefix: string; peerTtlMs: number }): Promise<Backend> {
  const instance = randomBytes(9).toString('base64url')
  if (!options.redisUrl) {
    const registry = new MemoryRegistry(options.peerTtlMs)
    const codes = new MemoryJoinCodes()
    return {
      registry,
      codes,
      bus: new LocalBus(instance),
      close: () => Promise.all([registry.close(), codes.close()]).then(() => undefined),
    }
  }
  const prefix = options.redisPrefix
  const redis = new Redis(options.redisUrl, { lazyConnect: true, connectionName: `tabswarm-${instance}` })
  // Until the first connection succeeds, the failure stops the start; afterwards ioredis reconnects by itself.
  let connected = false
  let lastError: Error | undefined
  redis.on('error', (error: Error) => {
    lastError = error
    if (connected) console.error(`tracker: Redis: ${error.message}`)
  })
  try {
    await redis.connect()
    connected = true
  } catch (error) {
    redis.disconnect()
    throw new BackendError(`cannot reach Redis at ${redactedUrl(options.redisUrl)}: ${(lastError ?? (error as Error)).message}`)
  }
  const registry = new RedisRegistry(redis, options.peerTtlMs, prefix)
  const bus = await RedisBus.open(instance, redis, prefix)
  return {
    registry,
    codes: new RedisJoinCodes(redis, prefix),
    bus,
    async close() {
      await bus.close()
      await registry.close()
    },
  }
}

function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'REDIS_URL'
  }
}
