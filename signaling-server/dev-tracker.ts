import type { Server } from 'node:http'
import { loadConfig } from './config'
import { LocalBus } from './bus'
import { MemoryRegistry } from './registry'
import { TrackerService } from './tracker'

/** The tracker inside Vite's dev server (`npm run dev`); returns a function that stops it. */
export function startDevTracker(server: Server): () => Promise<void> {
  const config = loadConfig(process.env, { staticDir: '' })
  const tracker = new TrackerService({ ...config, registry: new MemoryRegistry(config.peerTtlMs), bus: new LocalBus('dev') })
  tracker.attach(server)
  return () => tracker.close()
}
