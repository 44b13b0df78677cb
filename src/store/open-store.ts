import type { ChunkStore } from '../core/ports'
import { BrowserStore } from './browser-store'
import { IdbChunkStore, type DatabaseHooks } from './idb-store'
import { MemoryChunkStore } from './memory-store'
import { OpfsFiles } from './opfs-files'

/** Without a memory figure from the browser, downloads above this wait in a private window. */
const PRIVATE_WINDOW_HOLD_BYTES = 1024 * 1024 * 1024
/** With one (navigator.deviceMemory, GiB), this share of it. */
const PRIVATE_WINDOW_MEMORY_SHARE = 0.25

export interface OpenedStore {
  store: ChunkStore
  /** No IndexedDB: files last only while the tab is open. */
  inMemory: boolean
  /** Set where storage is off the record: the size above which a new download waits for the user's word. */
  privateWindow: { holdAboveBytes: number } | undefined
}

/**
 * The browser's store, for the worker (`withOpfs`: chunk bytes in OPFS where sync handles exist)
 * or for the page (IndexedDB only); without IndexedDB, a store in memory, and says so. `hooks` hear
 * when another tab of an older version holds up an upgrade, or a newer one needs this tab to let go. Whether the
 * window is private is told where the browser says so: Firefox refuses the origin private file
 * system there with a SecurityError. (Chromium reports nothing that tells: the same quota and the
 * same APIs on and off the record.)
 */
export async function openBrowserStore({ withOpfs, ...hooks }: { withOpfs: boolean } & DatabaseHooks): Promise<OpenedStore> {
  const opfs = await navigator.storage?.getDirectory?.().then(
    (root) => ({ root, refused: false }),
    (error: unknown) => ({ root: undefined, refused: (error as Error).name === 'SecurityError' }),
  )
  const privateWindow = opfs?.refused ? { holdAboveBytes: privateWindowHoldBytes() } : undefined
  try {
    const idb = await IdbChunkStore.open(undefined, hooks)
    const files = withOpfs && opfs?.root ? await OpfsFiles.open(opfs.root) : undefined
    return { store: new BrowserStore(idb, files), inMemory: false, privateWindow }
  } catch (error) {
    console.warn('IndexedDB is unavailable; files will not survive a reload.', error)
    return { store: new MemoryChunkStore(), inMemory: true, privateWindow }
  }
}

function privateWindowHoldBytes(): number {
  const memoryGiB = (navigator as { deviceMemory?: number }).deviceMemory
  return memoryGiB ? Math.round(memoryGiB * 1024 ** 3 * PRIVATE_WINDOW_MEMORY_SHARE) : PRIVATE_WINDOW_HOLD_BYTES
}

/** What the browser still lets this site store, where it says (in a page or a worker). */
export async function spaceAvailable(): Promise<number | undefined> {
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined)
  return estimate?.quota === undefined ? undefined : Math.max(0, estimate.quota - (estimate.usage ?? 0))
}
