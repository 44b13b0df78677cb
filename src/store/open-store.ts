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

/** What the browser still lets this site store, where it says (in a page or a worker). */
export async function spaceAvailable(): Promise<number | undefined> {
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined)
  return estimate?.quota === undefined ? undefined : Math.max(0, estimate.quota - (estimate.usage ?? 0))
}
