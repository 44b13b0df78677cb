import type { StreamSupport } from '../engine/views'
import { STREAM_PORT_MESSAGE } from './stream-protocol'

/** The Service Worker's script, built from stream-sw.ts (see vite.config.ts). */
export const STREAM_WORKER_URL = '/stream-sw.js'
/** While streams were asked for lately, the page pings the Service Worker this often, so the browser does not stop it mid-film. */
const KEEP_ALIVE_MS = 20_000
/** ...for this long after the last request. */
const KEEP_ALIVE_FOR_MS = 10 * 60_000
/** How long the Service Worker may take to start controlling a page that just registered it. */
const CONTROL_TIMEOUT_MS = 10_000

/**
 * The page's part in streaming: registers the Service Worker and hands each request's port to
 * `serve` (the engine's worker, or the engine on this page), without touching a byte itself.
 */
export async function startStreamRelay(serve: (port: MessagePort) => void): Promise<Exclude<StreamSupport, 'starting'>> {
  const container = (navigator as Partial<Navigator>).serviceWorker
  if (!container) return 'no-service-worker'
  let lastRequestAt = -Infinity
  container.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { type?: unknown; port?: unknown } | null
    if (data?.type !== STREAM_PORT_MESSAGE || !(data.port instanceof MessagePort)) return
    lastRequestAt = Date.now()
    serve(data.port)
  })
  container.startMessages()
  try {
    await container.register(STREAM_WORKER_URL, { scope: '/' })
    const registration = await container.ready
    if (!container.controller) {
      // A page loaded past the Service Worker (a hard reload) is taken back when it asks.
      const taken = controlled(container)
      registration.active?.postMessage({ type: 'claim' })
      await taken
    }
  } catch (error) {
    console.warn('Playing files while they arrive is off: the Service Worker did not start.', error)
    return 'failed'
  }
  setInterval(() => {
    if (Date.now() - lastRequestAt < KEEP_ALIVE_FOR_MS) container.controller?.postMessage({ type: 'keep-alive' })
  }, KEEP_ALIVE_MS)
  return 'ready'
}

function controlled(container: ServiceWorkerContainer): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('The Service Worker did not take control of this page.')), CONTROL_TIMEOUT_MS)
    container.addEventListener(
      'controllerchange',
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true },
    )
  })
}
