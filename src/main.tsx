import { render } from 'preact'
import { TRACKER_PATH } from './protocol/tracker'
import { storesOf } from './core/ports'
import { simplePeerLinkFactory } from './net/simple-peer-link'
import { openBrowserStore, spaceAvailable } from './store/open-store'
import { EngineProxy } from './worker/engine-proxy'
import { systemClock } from './net/system-clock'
import type { EngineApi } from './engine/api'
import { createClient, trackerUrlFor } from './wiring/create-client'
import { missingFeatures } from './core/capabilities'
import { App } from './ui/App'
import { UnsupportedPage } from './ui/UnsupportedPage'
import { connectTimeoutFromUrl, limitsFromUrl, maxLanesFromUrl, relayOnlyFromUrl } from './ui/url-options'
import { loadKeepingSpace } from './ui/keeping-setting'
import { startStreamRelay } from './worker/stream-relay'
import { serveStreamPort } from './worker/stream-port'
import type { StorageNotice, StreamSupport } from './engine/api'
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
  const maxLanes = maxLanesFromUrl(params)
  const relayOnly = relayOnlyFromUrl(params)
  const limits = limitsFromUrl(params)
  if (!limits.ok) console.warn(limits.message)
  const keepingSpace = loadKeepingSpace()
  const shown: { storageInMemoryOnly: boolean; storage: StorageNotice | undefined; streaming: StreamSupport } = {
    storageInMemoryOnly: false,
    storage: undefined,
    streaming: 'starting',
  }
  let app: EngineApi | undefined
  const show = (changes: Partial<typeof shown>) => {
    Object.assign(shown, changes)
    if (app)
      render(<App app={app} storageInMemoryOnly={shown.storageInMemoryOnly} storage={shown.storage} streaming={shown.streaming} />, root)
  }

  if (typeof Worker === 'function') {
    // The engine runs in a worker; this page draws it and makes its peer connections.
    const proxy = new EngineProxy({
      init: {
        type: 'init',
        trackerUrl,
        ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
        ...(maxLanes !== undefined ? { maxLanes } : {}),
      },
      relayOnly,
      clock: systemClock,
      spawn: () => new Worker(new URL('./worker/engine-worker.ts', import.meta.url), { type: 'module', name: 'tabswarm-engine' }),
      onStorage: (storage) => show({ storage }),
    })
    if (limits.ok) proxy.setLimits(limits.limits)
    if (keepingSpace) proxy.setKeeping(keepingSpace)
    app = proxy
    show({})
    void startStreamRelay((port) => proxy.serveStream(port)).then((streaming) => show({ streaming }))
    const ready = await proxy.ready()
    // Opened: an upgrade another tab held up has gone through.
    show({ storageInMemoryOnly: ready.storageInMemoryOnly, storage: shown.storage === 'upgrade-blocked' ? undefined : shown.storage })
    return
  }
  // Without workers the engine runs here, its chunk bytes in IndexedDB.
  const opened = await openBrowserStore({
    withOpfs: false,
    onSuperseded: () => show({ storage: 'superseded' }),
  })
  const { client, start } = createClient({
    trackerUrl,
    stores: storesOf(opened.store),
    links: () => simplePeerLinkFactory({ relayOnly }),
    spaceAvailable,
    privateWindow: opened.privateWindow,
    connectTimeoutMs,
    maxLanes,
  })
  if (limits.ok) client.setLimits(limits.limits)
  if (keepingSpace) client.setKeeping(keepingSpace)
  start()
  app = client
  show({ storageInMemoryOnly: opened.inMemory })
  show({ streaming: await startStreamRelay((port) => serveStreamPort(port, client)) })
}
