import { render } from 'preact'
import { TRACKER_PATH } from './protocol/tracker'
import { storesOf, type ChunkStore } from './core/ports'
import { simplePeerLinkFactory } from './net/simple-peer-link'
import { IdbChunkStore } from './store/idb-store'
import { MemoryChunkStore } from './store/memory-store'
import { createClient, trackerUrlFor } from './wiring/create-client'
import { missingFeatures } from './core/capabilities'
import { App } from './ui/App'
import { UnsupportedPage } from './ui/UnsupportedPage'
import { connectTimeoutFromUrl, limitsFromUrl, relayOnlyFromUrl } from './ui/url-options'
import './ui/styles.css'

// The page's composition root: storage, tracker connection and peer links wired into the client.
async function openStore(): Promise<{ store: ChunkStore; inMemory: boolean }> {
  try {
    return { store: await IdbChunkStore.open(), inMemory: false }
  } catch (error) {
    console.warn('IndexedDB is unavailable; files will not survive a reload.', error)
    return { store: new MemoryChunkStore(), inMemory: true }
  }
}

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

/** What the browser still lets this site store, where it says. */
async function spaceAvailable(): Promise<number | undefined> {
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined)
  return estimate?.quota === undefined ? undefined : Math.max(0, estimate.quota - (estimate.usage ?? 0))
}

// Ask that the library not be evicted under storage pressure; the browser decides.
void navigator.storage?.persist?.().catch(() => false)

const root = document.getElementById('app')!
const missing = probeBrowser()
if (missing.length > 0) render(<UnsupportedPage missing={missing} />, root)
else await startApp()

async function startApp(): Promise<void> {
  const params = new URLSearchParams(location.search)
  const opened = await openStore()
  const { client, start } = createClient({
    trackerUrl: trackerUrlFor(location.origin, TRACKER_PATH),
    stores: storesOf(opened.store),
    links: () => simplePeerLinkFactory({ relayOnly: relayOnlyFromUrl(params) }),
    spaceAvailable,
    connectTimeoutMs: connectTimeoutFromUrl(params),
  })
  const limits = limitsFromUrl(params)
  if (limits.ok) client.setLimits(limits.limits)
  else console.warn(limits.message)
  start()
  render(<App app={client} storageInMemoryOnly={opened.inMemory} />, root)
}
