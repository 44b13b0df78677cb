import { Bitfield } from '../protocol/bitfield'
import { chunkLength, contentLayout, wireLayout, type ContentLayout, type Manifest } from '../protocol/manifest'
import { StoreError, type ChunkStore, type LibraryEntry } from '../core/ports'
import type { IdbChunkStore } from './idb-store'
import type { OpfsFiles } from './opfs-files'

/** Written bytes are flushed to disk (fsync) after this many chunks, and when the file is complete. */
const FLUSH_CHUNKS = 64
/**
 * The list of stored chunks is saved at most this long after a chunk is written: one IndexedDB
 * write for every chunk cost a fifth of the app's CPU per byte on a fast link.
 */
const SAVE_DELAY_MS = 250

interface OpfsHome {
  kind: 'opfs'
  layout: ContentLayout
  have: Bitfield
  unflushed: number
  /** The next save of the stored-chunk list, once scheduled, and the one under way. */
  timer: ReturnType<typeof setTimeout> | undefined
  saving: Promise<void> | undefined
  /** Why the last save failed (storage full): the next write reports it. */
  failed: unknown
  /** Set once the file's bytes are moving to IndexedDB. */
  moving: Promise<void> | undefined
}
/** Where one file's chunk bytes live. */
type Home = { kind: 'idb' } | OpfsHome

/**
 * The browser's store: the library, manifests and stored-chunk lists in IndexedDB; chunk bytes in
 * one OPFS file per item where sync access handles exist, in IndexedDB otherwise. A file stored in
 * IndexedDB by an older version stays there and is read in place.
 *
 * A chunk counts as stored once its bytes are written; the list of stored chunks follows in
 * IndexedDB within SAVE_DELAY_MS (at once when the file is complete). So a tab that dies loses at
 * most the chunks of that moment (fetched again), and the list never names a chunk that was not
 * written. Writes reach the OS at once and are flushed to disk every FLUSH_CHUNKS chunks and at
 * the end, the same bargain as IndexedDB's relaxed durability.
 */
export class BrowserStore implements ChunkStore {
  private readonly homes = new Map<string, Promise<Home>>()

  constructor(
    private readonly idb: IdbChunkStore,
    private readonly opfs: OpfsFiles | undefined,
  ) {}

  saveManifest(fileId: string, manifest: Manifest, options?: { kept?: boolean }): Promise<void> {
    return this.idb.saveManifest(fileId, manifest, options)
  }

  loadManifest(fileId: string): Promise<Manifest | undefined> {
    return this.idb.loadManifest(fileId)
  }

  async putChunk(fileId: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    const home = await this.homeOf(fileId)
    if (home.kind === 'idb') return this.idb.putChunk(fileId, index, bytes)
    if (home.failed) {
      const failed = home.failed
      home.failed = undefined
      throw failed
    }
    const inIndexedDb = async () => {
      await home.moving
      return this.idb.putChunk(fileId, index, bytes)
    }
    if (home.moving) return inIndexedDb()
    try {
      await this.opfs!.write(fileId, index * home.layout.chunkSize, bytes)
    } catch (error) {
      if (!(error instanceof StoreError && error.kind === 'quota') || home.have.count() > 0) throw error
      void this.moveToIndexedDb(fileId, home)
      return inIndexedDb()
    }
    if (home.moving) return inIndexedDb() // written into the file being given up
    home.have.set(index)
    if (home.have.isComplete()) {
      await this.opfs!.flush(fileId)
      return this.saveHave(fileId, home)
    }
    if (++home.unflushed >= FLUSH_CHUNKS) {
      home.unflushed = 0
      await this.opfs!.flush(fileId)
    }
    home.timer ??= setTimeout(() => {
      home.timer = undefined
      this.saveHave(fileId, home).catch((error: unknown) => (home.failed = error))
    }, SAVE_DELAY_MS)
  }

  async readChunk(fileId: string, index: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const home = await this.homeOf(fileId)
    if (home.kind === 'idb') return this.idb.readChunk(fileId, index)
    if (!home.have.get(index)) return undefined
    return this.opfs!.read(fileId, index * home.layout.chunkSize, chunkLength(home.layout, index))
  }

  async storedChunks(fileId: string): Promise<number[]> {
    const home = await this.homeOf(fileId)
    return home.kind === 'idb' ? this.idb.storedChunks(fileId) : home.have.indexes()
  }

  async fileBlob(fileId: string, layout: ContentLayout, type: string): Promise<Blob> {
    const home = await this.homeOf(fileId)
    if (home.kind === 'idb') return this.idb.fileBlob(fileId, layout, type)
    if (!home.have.isComplete()) throw new StoreError('Part of this file is missing from browser storage.', 'corrupt')
    return this.opfs!.file(fileId, layout.size, type || 'application/octet-stream')
  }

  saveEntry(entry: LibraryEntry): Promise<void> {
    return this.idb.saveEntry(entry)
  }

  listEntries(): Promise<LibraryEntry[]> {
    return this.idb.listEntries()
  }

  async deleteFile(fileId: string): Promise<void> {
    const home = await this.homes.get(fileId)?.catch(() => undefined)
    this.homes.delete(fileId)
    if (home?.kind === 'opfs') {
      clearTimeout(home.timer)
      await home.saving?.catch(() => undefined)
    }
    await this.opfs?.remove(fileId)
    await this.idb.deleteFile(fileId)
  }

  /**
   * OPFS had no room for a file before any of it was stored: a chunk far into a file needs room for
   * all of it, and off the record (a private window) Chromium grants OPFS less than IndexedDB. The
   * file's bytes go to IndexedDB instead, chunk by chunk.
   */
  private moveToIndexedDb(fileId: string, home: OpfsHome): Promise<void> {
    home.moving ??= (async () => {
      clearTimeout(home.timer)
      await home.saving?.catch(() => undefined)
      this.homes.set(fileId, Promise.resolve({ kind: 'idb' }))
      await this.opfs!.remove(fileId)
      await this.idb.forgetOpfsHave(fileId)
    })()
    return home.moving
  }

  /** Saves the list of stored chunks now, after any save under way. */
  private async saveHave(fileId: string, home: OpfsHome): Promise<void> {
    clearTimeout(home.timer)
    home.timer = undefined
    await home.saving?.catch(() => undefined)
    const saving = this.idb.saveOpfsHave(fileId, home.have.bytes)
    home.saving = saving
    await saving
  }

  private homeOf(fileId: string): Promise<Home> {
    let home = this.homes.get(fileId)
    if (!home) {
      home = this.findHome(fileId)
      this.homes.set(fileId, home)
      home.catch(() => this.homes.delete(fileId))
    }
    return home
  }

  private async findHome(fileId: string): Promise<Home> {
    const saved = await this.idb.loadOpfsHave(fileId)
    if (!this.opfs) {
      if (saved) throw new StoreError('This file was kept where this browser context cannot reach it.', 'unavailable')
      return { kind: 'idb' }
    }
    if (!saved && (await this.idb.holdsChunksOf(fileId))) return { kind: 'idb' }
    const record = await this.idb.loadManifestRecord(fileId)
    if (!record) throw new StoreError('The manifest of this file is missing from browser storage.', 'corrupt')
    const { manifest, kept } = record
    const count = manifest.hashes.length
    if (saved && saved.length !== Bitfield.byteLength(count)) throw new StoreError('The list of stored chunks is damaged.', 'corrupt')
    const have = new Bitfield(count, saved)
    if (!saved) await this.idb.saveOpfsHave(fileId, have.bytes)
    return {
      kind: 'opfs',
      // A keeper's chunks are stored encrypted, as they travel: longer than the file's own.
      layout: kept ? wireLayout(manifest) : contentLayout(manifest),
      have,
      unflushed: 0,
      timer: undefined,
      saving: undefined,
      failed: undefined,
      moving: undefined,
    }
  }
}
