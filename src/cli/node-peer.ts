// A command-line peer's connection to the swarm (WebRTC from @roamhq/wrtc) and its way out on Ctrl-C.
import WebSocket from 'ws'
import type { Stores } from '../core/ports'
import type { WebSocketConstructor } from '../net/tracker-client'
import { simplePeerLinkFactory } from '../net/simple-peer-link'
import { createClient } from '../wiring/create-client'

/** Time given to the goodbye messages before the process exits. */
export const EXIT_GRACE_MS = 200

export async function connect(stores: Stores, trackerUrl: string, options: { keeperPollMs?: number } = {}) {
  const { default: wrtc } = (await import('@roamhq/wrtc')) as { default: object }
  const wired = createClient({
    trackerUrl,
    stores,
    links: () => simplePeerLinkFactory({ wrtc }),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    keeperPollMs: options.keeperPollMs,
  })
  wired.start()
  return wired
}

/** Leaves the swarm on Ctrl-C (or SIGTERM): unpublish, close the tracker connection, exit. Returns what forgets it. */
export function leaveOnSignal(leave: () => void): () => void {
  const stop = () => {
    leave()
    setTimeout(() => process.exit(0), EXIT_GRACE_MS)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return () => {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}
