import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Manifest } from '../../src/protocol/manifest'
import { StoreError } from '../../src/core/ports'
import { BrowserStore } from '../../src/store/browser-store'
import type { IdbChunkStore } from '../../src/store/idb-store'
import type { OpfsFiles } from '../../src/store/opfs-files'
import { SAVE_DELAY_MS } from '../../src/store/stored-chunk-list'

const CHUNK = 256 * 1024
const manifest = { v: 1, name: 'b.bin', size: 4 * CHUNK, type: '', chunkSize: CHUNK, hashes: Array(4).fill('00'.repeat(32)) } as Manifest
const fileId = 'ab'.repeat(32)

/** The browser store over an OPFS and an IndexedDB that the test controls: the chunk list's saves fail while `failing` is set. */
function setup() {
  const saves: number[][] = []
  const state = { failing: false }
  const idb = {
    loadOpfsHave: async () => undefined,
    holdsChunksOf: async () => false,
    loadManifestRecord: async () => ({ manifest, kept: false }),
    saveOpfsHave: async (_id: string, have: Uint8Array) => {
      if (state.failing) throw new StoreError('The browser has no more storage space for this site.', 'quota')
      saves.push([...have])
    },
  } as unknown as IdbChunkStore
  const opfs = { write: async () => undefined, flush: async () => undefined } as unknown as OpfsFiles
  return { store: new BrowserStore(idb, opfs), saves, state }
}

afterEach(() => vi.useRealTimers())

describe('the browser store’s list of stored chunks', () => {
  it('saves the list shortly after writes, once for several', async () => {
    vi.useFakeTimers()
    const { store, saves } = setup()
    await store.putChunk(fileId, 0, new Uint8Array(CHUNK))
    await store.putChunk(fileId, 1, new Uint8Array(CHUNK))
    expect(saves).toEqual([[0]]) // the empty list made when the file was first written
    await vi.advanceTimersByTimeAsync(SAVE_DELAY_MS)
    expect(saves).toEqual([[0], [0b1100_0000]])
  })

  it('a background save that fails is tried again with the next write, and never thrown at an unrelated write', async () => {
    vi.useFakeTimers()
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const { store, saves, state } = setup()
    await store.putChunk(fileId, 0, new Uint8Array(CHUNK))
    state.failing = true
    await vi.advanceTimersByTimeAsync(SAVE_DELAY_MS)
    expect(warn).toHaveBeenCalledTimes(1)
    state.failing = false
    await expect(store.putChunk(fileId, 1, new Uint8Array(CHUNK))).resolves.toBeUndefined()
    await vi.advanceTimersByTimeAsync(SAVE_DELAY_MS)
    expect(saves.at(-1)).toEqual([0b1100_0000])
    expect(await store.storedChunks(fileId)).toEqual([0, 1])
    warn.mockRestore()
  })

  it('the write that completes the file saves the list at once, and says so when that fails', async () => {
    const { store, state } = setup()
    for (const index of [0, 1, 2]) await store.putChunk(fileId, index, new Uint8Array(CHUNK))
    state.failing = true
    await expect(store.putChunk(fileId, 3, new Uint8Array(CHUNK))).rejects.toThrow(/no more storage space/)
  })
})
