import { render } from 'preact'
import { TRACKER_PATH } from './protocol/tracker'
import { storesOf } from './core/ports'
import { simplePeerLinkFactory } from './net/simple-peer-link'
import { openBrowserStore, spaceAvailable } from './store/open-store'
import { EngineProxy } from './worker/engine-proxy'
import type { EngineApi } from './engine/api'
import { createClient, trackerUrlFor } from './wiring/create-client'
import { missingFeatures } from './core/capabilities'
import { App } from './ui/App'
import { UnsupportedPage } from './ui/UnsupportedPage'
import { connectTimeoutFromUrl, limitsFromUrl, relayOnlyFromUrl } from './ui/url-options'
import { loadKeepingSpace } from './ui/keeping-setting'
import { startStreamRelay } from './worker/stream-relay'
import { serveStreamPort } from './worker/stream-port'
import type { StreamSupport } from './engine/api'
import './ui/styles/base.css'
import './ui/styles/transfer.css'
import './ui/styles/swarm.css'
import './ui/styles/pages.css'

// The page's composition root: the engine in a worker (or, without workers, here), and the UI.

/** Feature detection, never version sniffing: what this browser lacks, if anything. */
function probeBrowser() {
  const peerConnection: unknown = (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection
  const prototype = typeof peerConnection === 'function' ? (peerConnection.prototype as { createDataChannel?: unknown }) : undefined
  return missingFeatures({
    dataChannels: typeof prototype?.createDataChannel === 'function',
    secureContext: globalThis.isSecureContext === true,
    subtleCrypto: typeof globalThis.crypto?.subtle?.digest === 'function',
  })
}

// Ask that the library not be evicted under storage pressure; the browser decides.
void navigator.storage?.persist?.().catch(() => false)

const root = document.getElementById('app')!
const missing = probeBrowser()
if (missing.length > 0) render(<UnsupportedPage missing={missing} />, root)
else await startApp()

async function startApp(): Promise<void> {
  const params = new URLSearchParams(location.search)
  const trackerUrl = trackerUrlFor(location.origin, TRACKER_PATH)
  const connectTimeoutMs = connectTimeoutFromUrl(params)
  const relayOnly = relayOnlyFromUrl(params)
  const limits = limitsFromUrl(params)
  if (!limits.ok) console.warn(limits.message)
  const keepingSpace = loadKeepingSpace()
  const shown: { storageInMemoryOnly: boolean; streaming: StreamSupport } = { storageInMemoryOnly: false, streaming: 'starting' }
  const show = (app: EngineApi, changes: Partial<typeof shown>) => {
    Object.assign(shown, changes)
    render(<App app={app} storageInMemoryOnly={shown.storageInMemoryOnly} streaming={shown.streaming} />, root)
  }

  if (typeof Worker === 'function') {
    // The engine runs in a worker; this page draws it and makes its peer connections.
    const proxy = new EngineProxy({
      init: { type: 'init', trackerUrl, ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}) },
      relayOnly,
      spawn: () => new Worker(new URL('./worker/engine-worker.ts', import.meta.url), { type: 'module', name: 'tabswarm-engine' }),
    })
    if (limits.ok) proxy.setLimits(limits.limits)
    if (keepingSpace) proxy.setKeeping(keepingSpace)
    show(proxy, {})
    void startStreamRelay((port) => proxy.serveStream(port)).then((streaming) => show(proxy, { streaming }))
    const ready = await proxy.ready()
    show(proxy, { storageInMemoryOnly: ready.storageInMemoryOnly })
    return
  }
  // Without workers the engine runs here, its chunk bytes in IndexedDB.
  const opened = await openBrowserStore({ withOpfs: false })
  const { client, start } = createClient({
    trackerUrl,
    stores: storesOf(opened.store),
    links: () => simplePeerLinkFactory({ relayOnly }),
    spaceAvailable,
    privateWindow: opened.privateWindow,
    connectTimeoutMs,
  })
  if (limits.ok) client.setLimits(limits.limits)
  if (keepingSpace) client.setKeeping(keepingSpace)
  start()
  show(client, { storageInMemoryOnly: opened.inMemory })
  show(client, { streaming: await startStreamRelay((port) => serveStreamPort(port, client)) })
}
