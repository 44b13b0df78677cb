import type { Server } from 'node:http'
import { loadConfig } from './config'
import { openBackend } from './backend'
import { TrackerService } from './tracker'

/**
 * The tracker inside Vite's dev server (`npm run dev`), on the backend `npm start` would use
 * (memory, or Redis with REDIS_URL); resolves to a function that stops it.
 */
export async function startDevTracker(server: Server): Promise<() => Promise<void>> {
  const config = loadConfig(process.env, { staticDir: '' })
  const backend = await openBackend(config)
  const tracker = new TrackerService({ ...config, ...backend })
  tracker.attach(server, { exclusive: false }) // Vite's HMR takes its own upgrades
  return async () => {
    await tracker.close()
    await backend.close()
  }
}
