import type { ChunkStore } from '../core/ports'
import { BrowserStore } from './browser-store'
import { IdbChunkStore } from './idb-store'
import { MemoryChunkStore } from './memory-store'
import { OpfsFiles } from './opfs-files'

/**
 * The browser's store, for the worker (`withOpfs`: chunk bytes in OPFS where sync handles exist)
 * or for the page (IndexedDB only). Without IndexedDB, a store in memory, and says so.
 */
export async function openBrowserStore({ withOpfs }: { withOpfs: boolean }): Promise<{ store: ChunkStore; inMemory: boolean }> {
  try {
    const idb = await IdbChunkStore.open()
    return { store: new BrowserStore(idb, withOpfs ? await OpfsFiles.open() : undefined), inMemory: false }
  } catch (error) {
    console.warn('IndexedDB is unavailable; files will not survive a reload.', error)
    return { store: new MemoryChunkStore(), inMemory: true }
  }
}

/** Without a memory figure from the browser, downloads above this wait in a private window. */
const PRIVATE_WINDOW_HOLD_BYTES = 1024 * 1024 * 1024
/** With one (navigator.deviceMemory, GiB), this share of it. */
const PRIVATE_WINDOW_MEMORY_SHARE = 0.25

/**
 * Whether storage here is off the record, where the browser says so: Firefox refuses the origin
 * private file system in private windows with a SecurityError. (Chromium reports nothing that
 * tells: the same quota and the same APIs on and off the record.) Where it is, the size above which
 * a new download waits for the user's word.
 */
export async function privateWindowHold(): Promise<{ holdAboveBytes: number } | undefined> {
  try {
    await navigator.storage?.getDirectory?.()
    return undefined
  } catch (error) {
    if ((error as Error).name !== 'SecurityError') return undefined
  }
  const memoryGiB = (navigator as { deviceMemory?: number }).deviceMemory
  const holdAboveBytes = memoryGiB ? Math.round(memoryGiB * 1024 ** 3 * PRIVATE_WINDOW_MEMORY_SHARE) : PRIVATE_WINDOW_HOLD_BYTES
  return { holdAboveBytes }
}

/** What the browser still lets this site store, where it says (in a page or a worker). */
export async function spaceAvailable(): Promise<number | undefined> {
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined)
  return estimate?.quota === undefined ? undefined : Math.max(0, estimate.quota - (estimate.usage ?? 0))
}
