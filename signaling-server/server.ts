import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { appHandler } from './http'
import { openBackend } from './backend'
import { TrackerService } from './tracker'
import { startStunResponder, type StunResponder } from './stun'
import type { ServiceConfig } from './config'
import { createLog, type Log } from './log'
import { Metrics } from './metrics'
import { opsHandler } from './ops'

export interface RunningService {
  /** e.g. http://127.0.0.1:8080 */
  url: string
  port: number
  tracker: TrackerService
  /** The STUN responder's UDP port; undefined when it is off (or, by default, its port was taken). */
  stunPort: number | undefined
  log: Log
  /**
   * Shuts down gently (SIGTERM): /readyz says 503, no new connection is taken, connected clients
   * are told to reconnect (elsewhere) at spread times, and everything closes within SHUTDOWN_GRACE_MS.
   */
  drain(): Promise<void>
  close(): Promise<void>
}

/** Clients told to reconnect spread their reconnects over this share of the grace period (at most RECONNECT_SPREAD_MS). */
const RECONNECT_SPREAD_SHARE = 0.5
const RECONNECT_SPREAD_MS = 5_000

/** HTTP (the built app, health and metrics) and the tracker WebSocket on one port; state in memory or in Redis. */
export async function startService(config: ServiceConfig, options: { logTo?: NodeJS.WritableStream } = {}): Promise<RunningService> {
  const instance = randomBytes(9).toString('base64url')
  const log = createLog({
    level: config.logLevel,
    instance,
    pretty: !options.logTo && process.stdout.isTTY === true,
    destination: options.logTo,
  })
  const backend = await openBackend({ ...config, log, instance })
  let stun: StunResponder | undefined
  let tracker: TrackerService | undefined
  const metrics = config.metricsToken
    ? new Metrics({ connections: () => tracker?.connectionCount ?? 0, relay: () => tracker?.relay?.stats(), registry: backend.registry })
    : undefined
  const registry = metrics ? metrics.timed(backend.registry) : backend.registry
  tracker = new TrackerService({ ...backend, ...config, registry, log, metrics, stunPort: () => stun?.port })
  const app = appHandler(config.staticDir)
  const ops = opsHandler({
    notReady: () => (tracker.isDraining ? 'draining' : backend.reachable() ? undefined : 'redis-unreachable'),
    metrics,
    metricsToken: config.metricsToken,
  })
  const server = createServer((request, response) => {
    if (!ops(request, response)) app(request, response)
  })
  tracker.attach(server, { exclusive: true })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, () => resolve())
    })
    stun = await startStun(config, (server.address() as AddressInfo).port, log)
  } catch (error) {
    await tracker.close()
    await backend.close()
    await stun?.close()
    server.close()
    throw error
  }
  const port = (server.address() as AddressInfo).port
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  const url = `http://${shownHost}:${port}`
  log.info(
    { event: 'service.started', port, stunPort: stun?.port, relay: config.relay !== undefined, redis: config.redisUrl !== undefined },
    `TabSwarm is running: open ${url}/ (tracker at ${url.replace(/^http/, 'ws')}/ws)`,
  )
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= (async () => {
      await tracker.close()
      await backend.close()
      await stun?.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })())
  return {
    url,
    port,
    tracker,
    stunPort: stun?.port,
    log,
    async drain() {
      const grace = config.shutdownGraceMs
      log.info(
        { event: 'service.draining', graceMs: grace, connections: tracker.connectionCount },
        'shutting down: clients are asked to reconnect',
      )
      await tracker.drain(grace, Math.min(RECONNECT_SPREAD_MS, grace * RECONNECT_SPREAD_SHARE))
      await close()
      log.info({ event: 'service.stopped' }, 'stopped')
    },
    close,
  }
}

/**
 * The STUN responder, on by default at the HTTP port's number (UDP). Where that default number is
 * taken the service goes on without it and says so; a port asked for explicitly must be had.
 */
async function startStun(config: ServiceConfig, httpPort: number, log: Log): Promise<StunResponder | undefined> {
  if (config.stunPort === 'off') return undefined
  if (config.stunPort !== 'http') return startStunResponder(config.stunPort, config.host, log)
  try {
    return await startStunResponder(httpPort, config.host, log)
  } catch (error) {
    log.warn(
      { event: 'stun.off', port: httpPort, reason: (error as Error).message },
      `STUN is off: UDP port ${httpPort} is taken (${(error as Error).message}); set STUN_PORT to another port.`,
    )
    return undefined
  }
}
