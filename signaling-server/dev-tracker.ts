import type { Server } from 'node:http'
import { loadConfig } from './config'
import { MemoryRegistry } from './registry'
import { TrackerService } from './tracker'

/** The tracker inside Vite's dev server (`npm run dev`); returns a function that stops it. */
export function startDevTracker(server: Server): () => Promise<void> {
  const tracker = new TrackerService({ registry: new MemoryRegistry(), ...loadConfig(process.env, { staticDir: '' }) })
  tracker.attach(server)
  return () => tracker.close()
}
