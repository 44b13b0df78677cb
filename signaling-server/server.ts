import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { appHandler } from './http'
import { openBackend } from './backend'
import { TrackerService } from './tracker'
import { startStunResponder, type StunResponder } from './stun'
import type { ServiceConfig } from './config'

export interface RunningService {
  /** e.g. http://127.0.0.1:8080 */
  url: string
  port: number
  tracker: TrackerService
  /** The STUN responder's UDP port; undefined when it is off (or, by default, its port was taken). */
  stunPort: number | undefined
  close(): Promise<void>
}

/** HTTP (the built app) and the tracker WebSocket on one port; state in memory or in Redis. */
export async function startService(config: ServiceConfig): Promise<RunningService> {
  const backend = await openBackend(config)
  const server = createServer(appHandler(config.staticDir))
  let stun: StunResponder | undefined
  const tracker = new TrackerService({ ...backend, ...config, stunPort: () => stun?.port })
  tracker.attach(server, { exclusive: true })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, () => resolve())
    })
    stun = await startStun(config, (server.address() as AddressInfo).port)
  } catch (error) {
    await tracker.close()
    await backend.close()
    await stun?.close()
    server.close()
    throw error
  }
  const port = (server.address() as AddressInfo).port
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  return {
    url: `http://${shownHost}:${port}`,
    port,
    tracker,
    stunPort: stun?.port,
    async close() {
      await tracker.close()
      await backend.close()
      await stun?.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * The STUN responder, on by default at the HTTP port's number (UDP). Where that default number is
 * taken the service goes on without it and says so; a port asked for explicitly must be had.
 */
async function startStun(config: ServiceConfig, httpPort: number): Promise<StunResponder | undefined> {
  if (config.stunPort === 'off') return undefined
  if (config.stunPort !== 'http') return startStunResponder(config.stunPort, config.host)
  try {
    return await startStunResponder(httpPort, config.host)
  } catch (error) {
    console.warn(`STUN is off: UDP port ${httpPort} is taken (${(error as Error).message}); set STUN_PORT to another port.`)
    return undefined
  }
}
