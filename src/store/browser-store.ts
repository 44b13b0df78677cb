import { Bitfield } from '../protocol/bitfield'
import { chunkLength, contentLayout, wireLayout, type ContentLayout, type Manifest } from '../protocol/manifest'
import { StoreError, type ChunkStore, type LibraryEntry } from '../core/ports'
import type { IdbChunkStore } from './idb-store'
import type { OpfsFiles } from './opfs-files'
import { StoredChunkList } from './stored-chunk-list'

/** Written bytes are flushed to disk (fsync) after this many chunks, and when the file is complete. */
const FLUSH_CHUNKS = 64

/** A file whose chunk bytes live in one OPFS file, its list of stored chunks in IndexedDB. */
class OpfsFile {
  /** 'moving': OPFS had no room for it, and its bytes go to IndexedDB instead (see moveToIndexedDb). */
  mode: 'opfs' | 'moving' = 'opfs'
  moved: Promise<void> | undefined
  /** Chunks written since the last flush to disk. */
  unflushed = 0

  constructor(
    readonly layout: ContentLayout,
    readonly list: StoredChunkList,
  ) {}
}

/** Where one file's chunk bytes live. */
type FileBytes = { mode: 'idb' } | OpfsFile

/**
 * The browser's store: the library, manifests and stored-chunk lists in IndexedDB; chunk bytes in
 * one OPFS file per item where sync access handles exist, in IndexedDB otherwise. A file stored in
 * IndexedDB by an older version stays there and is read in place.
 *
 * A chunk counts as stored once its bytes are written; the list of stored chunks follows in
 * IndexedDB within SAVE_DELAY_MS (at once when the file is complete; see StoredChunkList). So a tab that dies loses at
 * most the chunks of that moment (fetched again), and the list never names a chunk that was not
 * written. Writes reach the OS at once and are flushed to disk every FLUSH_CHUNKS chunks and at
 * the end, the same bargain as IndexedDB's relaxed durability.
 */
export class BrowserStore implements ChunkStore {
  private readonly files = new Map<string, Promise<FileBytes>>()

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
    const file = await this.bytesOf(fileId)
    if (file.mode === 'idb') return this.idb.putChunk(fileId, index, bytes)
    const inIndexedDb = async () => {
      await file.moved
      return this.idb.putChunk(fileId, index, bytes)
    }
    if (file.mode === 'moving') return inIndexedDb()
    try {
      await this.opfs!.write(fileId, index * file.layout.chunkSize, bytes)
    } catch (error) {
      if (!(error instanceof StoreError && error.kind === 'quota') || file.list.have.count() > 0) throw error
      void this.moveToIndexedDb(fileId, file)
      return inIndexedDb()
    }
    // Written into the file being given up (the mode may have changed while the write ran).
    if ((file.mode as OpfsFile['mode']) === 'moving') return inIndexedDb()
    file.list.written(index)
    if (file.list.have.isComplete()) {
      await this.opfs!.flush(fileId)
      return file.list.saveNow()
    }
    if (++file.unflushed >= FLUSH_CHUNKS) {
      file.unflushed = 0
      await this.opfs!.flush(fileId)
    }
  }

  async readChunk(fileId: string, index: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const file = await this.bytesOf(fileId)
    if (file.mode !== 'opfs') return this.idb.readChunk(fileId, index)
    if (!file.list.have.get(index)) return undefined
    return this.opfs!.read(fileId, index * file.layout.chunkSize, chunkLength(file.layout, index))
  }

  async storedChunks(fileId: string): Promise<number[]> {
    const file = await this.bytesOf(fileId)
    return file.mode === 'opfs' ? file.list.have.indexes() : this.idb.storedChunks(fileId)
  }

  async fileBlob(fileId: string, layout: ContentLayout, type: string): Promise<Blob> {
    const file = await this.bytesOf(fileId)
    if (file.mode !== 'opfs') return this.idb.fileBlob(fileId, layout, type)
    if (!file.list.have.isComplete()) throw new StoreError('Part of this file is missing from browser storage.', 'corrupt')
    return this.opfs!.file(fileId, layout.size, type || 'application/octet-stream')
  }

  saveEntry(entry: LibraryEntry): Promise<void> {
    return this.idb.saveEntry(entry)
  }

  listEntries(): Promise<LibraryEntry[]> {
    return this.idb.listEntries()
  }

  async deleteFile(fileId: string): Promise<void> {
    const file = await this.files.get(fileId)?.catch(() => undefined)
    this.files.delete(fileId)
    if (file?.mode === 'opfs') await file.list.stop()
    await this.opfs?.remove(fileId)
    await this.idb.deleteFile(fileId)
  }

  /**
   * OPFS had no room for a file before any of it was stored: a chunk far into a file needs room for
   * all of it, and off the record (a private window) Chromium grants OPFS less than IndexedDB. The
   * file's bytes go to IndexedDB instead, chunk by chunk.
   */
  private moveToIndexedDb(fileId: string, file: OpfsFile): Promise<void> {
    file.mode = 'moving'
    file.moved ??= (async () => {
      await file.list.stop()
      this.files.set(fileId, Promise.resolve({ mode: 'idb' }))
      await this.opfs!.remove(fileId)
      await this.idb.forgetOpfsHave(fileId)
    })()
    return file.moved
  }

  private bytesOf(fileId: string): Promise<FileBytes> {
    let file = this.files.get(fileId)
    if (!file) {
      file = this.findBytes(fileId)
      this.files.set(fileId, file)
      file.catch(() => this.files.delete(fileId))
    }
    return file
  }

  private async findBytes(fileId: string): Promise<FileBytes> {
    const saved = await this.idb.loadOpfsHave(fileId)
    if (!this.opfs) {
      if (saved) throw new StoreError('This file was kept where this browser context cannot reach it.', 'unavailable')
      return { mode: 'idb' }
    }
    if (!saved && (await this.idb.holdsChunksOf(fileId))) return { mode: 'idb' }
    const record = await this.idb.loadManifestRecord(fileId)
    if (!record) throw new StoreError('The manifest of this file is missing from browser storage.', 'corrupt')
    const { manifest, kept } = record
    const count = manifest.hashes.length
    if (saved && saved.length !== Bitfield.byteLength(count)) throw new StoreError('The list of stored chunks is damaged.', 'corrupt')
    const list = new StoredChunkList(count, saved, (have) => this.idb.saveOpfsHave(fileId, have))
    if (!saved) await list.saveNow()
    // A keeper's chunks are stored encrypted, as they travel: longer than the file's own.
    return new OpfsFile(kept ? wireLayout(manifest) : contentLayout(manifest), list)
  }
}
