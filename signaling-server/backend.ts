import { Redis } from 'ioredis'
import { LocalBus, RedisBus, type Bus } from './bus'
import { MemoryJoinCodes, RedisJoinCodes, type JoinCodes } from './join-codes'
import { MemoryRegistry, type Registry } from './registry'
import { RedisRegistry } from './redis-registry'
import { FaultLog, type Log } from './log'

/** Where a tracker instance keeps its state and how it reaches the others. */
export interface Backend {
  registry: Registry
  codes: JoinCodes
  bus: Bus
  /** Whether the shared state can be reached now (always, in memory). */
  reachable(): boolean
  /** Whether the connection to the shared state is up, answering or not (a paused Redis is connected). */
  connected(): boolean
  /** Redis's outage, if any: logged once when it starts and once when it ends, with what was dropped. */
  faults: FaultLog
  close(): Promise<void>
}

export class BackendError extends Error {}

export interface BackendOptions {
  redisUrl: string | undefined
  redisPrefix: string
  peerTtlMs: number
  /** How long Redis may take to answer at start before the service gives up, saying so. */
  redisConnectTimeoutMs: number
  log: Log
  /** This instance's name in the bus and the log. */
  instance: string
}

/**
 * In memory for one instance (no REDIS_URL), or in Redis shared by every instance given the same
 * URL and prefix. Fails at once, with the reason, when Redis cannot be reached at start, or does
 * not answer within `redisConnectTimeoutMs` (a port that accepts and then says nothing).
 */
export async function openBackend(options: BackendOptions): Promise<Backend> {
  const { instance, log } = options
  // A command times out `redisConnectTimeoutMs` after it was sent: one failing that soon after the
  // outage ended was sent during it.
  const faults = new FaultLog(log, { down: 'redis.down', up: 'redis.up' }, options.redisUrl !== undefined, options.redisConnectTimeoutMs)
  if (!options.redisUrl) {
    const registry = new MemoryRegistry(options.peerTtlMs)
    const codes = new MemoryJoinCodes()
    return {
      registry,
      codes,
      bus: new LocalBus(instance),
      reachable: () => true,
      connected: () => true,
      faults,
      close: () => Promise.all([registry.close(), codes.close()]).then(() => undefined),
    }
  }
  const prefix = options.redisPrefix
  const where = redactedUrl(options.redisUrl)
  const redis = new Redis(options.redisUrl, {
    lazyConnect: true,
    connectionName: `tabswarm-${instance}`,
    connectTimeout: options.redisConnectTimeoutMs,
    // A Redis that stops answering (paused, overloaded) fails commands after this, as one that is gone does.
    commandTimeout: options.redisConnectTimeoutMs,
    // While Redis is away a command fails at once (and the client hears `internal`) rather than queue for ever.
    maxRetriesPerRequest: 1,
    // Reconnect every half second while Redis is away (ioredis's default backs off to 2 s), so an
    // instance is back within half a second of Redis, and its peers soon after; a refused
    // connection costs nothing.
    retryStrategy: (attempt: number) => Math.min(attempt * 50, REDIS_RETRY_MAX_MS),
  })
  // Until the first connection succeeds, the failure stops the start; afterwards ioredis reconnects by itself.
  let connected = false
  let lastError: Error | undefined
  redis.on('error', (error: Error) => {
    lastError = error
    if (connected) faults.down(error.message)
  })
  redis.on('ready', () => faults.up())
  try {
    await withDeadline(
      redis.connect(),
      options.redisConnectTimeoutMs,
      `Redis at ${where} did not answer in ${options.redisConnectTimeoutMs} ms`,
    )
    await withDeadline(
      redis.ping(),
      options.redisConnectTimeoutMs,
      `Redis at ${where} took the connection but did not answer in ${options.redisConnectTimeoutMs} ms`,
    )
    connected = true
  } catch (error) {
    redis.disconnect()
    const reason =
      error instanceof DeadlineError ? error.message : `cannot reach Redis at ${where}: ${(lastError ?? (error as Error)).message}`
    throw new BackendError(reason)
  }
  const watch = watchAnswers(redis, faults, options.redisConnectTimeoutMs)
  const registry = new RedisRegistry(redis, options.peerTtlMs, prefix)
  const bus = await RedisBus.open(instance, redis, prefix, new FaultLog(log, { down: 'bus.down', up: 'bus.up' }))
  log.info({ event: 'redis.connected', redis: where, prefix }, `state in Redis at ${where}`)
  return {
    registry,
    codes: new RedisJoinCodes(redis, prefix),
    bus,
    reachable: () => redis.status === 'ready' && watch.answering,
    connected: () => redis.status === 'ready',
    faults,
    async close() {
      watch.stop()
      await bus.close()
      await registry.close()
      redis.disconnect()
    },
  }
}

/** The longest wait between two attempts to reach a Redis that went away. */
const REDIS_RETRY_MAX_MS = 500

/** How often a connected Redis is asked whether it still answers. */
const REDIS_WATCH_MS = 1_000

/**
 * A Redis that is paused or hung keeps its connection open and never errs: only a ping that goes
 * unanswered shows it. The outage is then logged (once) and the instance reports itself not ready.
 */
function watchAnswers(redis: Redis, faults: FaultLog, timeoutMs: number) {
  const state = { answering: true, stop: () => clearInterval(timer) }
  let asking = false
  const timer = setInterval(() => {
    if (asking || redis.status !== 'ready') return
    asking = true
    withDeadline(redis.ping(), timeoutMs, `Redis did not answer a ping in ${timeoutMs} ms`)
      .then(
        () => {
          state.answering = true
          faults.up()
        },
        (error: Error) => {
          state.answering = false
          faults.down(error.message)
        },
      )
      .finally(() => (asking = false))
  }, REDIS_WATCH_MS)
  timer.unref()
  // A connection that just became ready has answered (ioredis asks before it says so): ready at once, not at the next ping.
  redis.on('ready', () => (state.answering = true))
  return state
}

class DeadlineError extends Error {}

function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new DeadlineError(message)), ms)))
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
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
