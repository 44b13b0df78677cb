import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { appHandler } from './http'
import { openBackend } from './backend'
import { TrackerService } from './tracker'
import { startStunResponder } from './stun'
import type { ServiceConfig } from './config'

export interface RunningService {
  /** e.g. http://127.0.0.1:8080 */
  url: string
  port: number
  tracker: TrackerService
  /** The STUN responder's UDP port, when STUN_PORT is set. */
  stunPort: number | undefined
  close(): Promise<void>
}

/** HTTP (the built app) and the tracker WebSocket on one port; state in memory or in Redis. */
export async function startService(config: ServiceConfig): Promise<RunningService> {
  const backend = await openBackend(config)
  const server = createServer(appHandler(config.staticDir))
  const stun = config.stunPort === undefined ? undefined : await startStunResponder(config.stunPort, config.host)
  const tracker = new TrackerService({ ...backend, ...config, stunPort: stun?.port })
  tracker.attach(server, { exclusive: true })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(config.port, config.host, () => resolve())
    })
  } catch (error) {
    await tracker.close()
    await backend.close()
    await stun?.close()
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
