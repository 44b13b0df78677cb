import { StoreError } from '../core/ports'

/** The one translation of a browser storage failure (IndexedDB or OPFS) into a StoreError with a sentence. */
export function asStoreError(error: unknown): StoreError {
  if (error instanceof StoreError) return error
  const name = (error as { name?: string } | null)?.name
  if (name === 'QuotaExceededError') return new StoreError('The browser has no more storage space for this site.', 'quota')
  // Only OPFS locks files: a sync access handle held by another tab's worker.
  if (name === 'NoModificationAllowedError')
    return new StoreError('This file is open in another tab of this site; close that tab to use it here.', 'unavailable')
  return new StoreError(`Browser storage failed: ${(error as Error)?.message ?? String(error)}`, 'unavailable')
}

/** Runs storage work, throwing any failure as a StoreError. */
export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw asStoreError(error)
  }
}
