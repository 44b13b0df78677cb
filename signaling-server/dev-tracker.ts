import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { createLog } from './log'
import { loadConfig } from './config'
import { openBackend } from './backend'
import { startStunResponder } from './stun'
import { TrackerService } from './tracker'

/**
 * The tracker inside Vite's dev server (`npm run dev`), on the backend `npm start` would use
 * (memory, or Redis with REDIS_URL); resolves to a function that stops it. STUN runs here only on
 * a port STUN_PORT names (the dev server is for one machine).
 */
export async function startDevTracker(server: Server): Promise<() => Promise<void>> {
  const config = loadConfig(process.env, { staticDir: '' })
  const instance = randomBytes(9).toString('base64url')
  const log = createLog({ level: config.logLevel, instance, pretty: true })
  const backend = await openBackend({ ...config, log, instance })
  const stun = typeof config.stunPort === 'number' ? await startStunResponder(config.stunPort, config.host, log) : undefined
  const tracker = new TrackerService({ ...config, ...backend, log, metrics: undefined, stunPort: () => stun?.port })
  tracker.attach(server, { exclusive: false }) // Vite's HMR takes its own upgrades
  return async () => {
    await tracker.close()
    await backend.close()
    await stun?.close()
  }
}
