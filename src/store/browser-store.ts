import { Bitfield } from '../protocol/bitfield'
import { chunkLength, type Manifest } from '../protocol/manifest'
import { StoreError, type ChunkStore, type LibraryEntry } from '../core/ports'
import type { IdbChunkStore } from './idb-store'
import type { OpfsFiles } from './opfs-files'

/** The list of stored chunks is written to IndexedDB at most this long after a chunk is stored. */
const CHECKPOINT_MS = 1_000
/** ... or after this many chunks, whichever comes first. */
const CHECKPOINT_CHUNKS = 64

/** Where one file's chunk bytes live. */
type Home = { kind: 'idb' } | { kind: 'opfs'; manifest: Manifest; have: Bitfield; dirty: number; timer: ReturnType<typeof setTimeout> | undefined }

/**
 * The browser's store: the library, manifests and stored-chunk lists in IndexedDB; chunk bytes in
 * one OPFS file per item where sync access handles exist, in IndexedDB otherwise. A file stored in
 * IndexedDB by an older version stays there and is read in place.
 *
 * A chunk counts as stored once written; the list of stored chunks reaches IndexedDB at the next
 * checkpoint, after the bytes are flushed, so a crash loses at most the chunks since then (fetched
 * again), never lists a chunk that is not on disk.
 */
export class BrowserStore implements ChunkStore {
  private readonly homes = new Map<string, Promise<Home>>()

  constructor(
    private readonly idb: IdbChunkStore,
    private readonly opfs: OpfsFiles | undefined,
  ) {}

  /** Where chunk bytes go for new files. */
  get chunkHome(): 'opfs' | 'indexeddb' {
    return this.opfs ? 'opfs' : 'indexeddb'
  }

  saveManifest(fileId: string, manifest: Manifest): Promise<void> {
    return this.idb.saveManifest(fileId, manifest)
  }

  loadManifest(fileId: string): Promise<Manifest | undefined> {
    return this.idb.loadManifest(fileId)
  }

  async putChunk(fileId: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    const home = await this.homeOf(fileId)
    if (home.kind === 'idb') return this.idb.putChunk(fileId, index, bytes)
    await this.opfs!.write(fileId, index * home.manifest.chunkSize, bytes)
    home.have.set(index)
    home.dirty++
    if (home.have.isComplete() || home.dirty >= CHECKPOINT_CHUNKS) await this.checkpoint(fileId, home)
    else home.timer ??= setTimeout(() => void this.checkpoint(fileId, home).catch(() => undefined), CHECKPOINT_MS)
  }

  async readChunk(fileId: string, index: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const home = await this.homeOf(fileId)
    if (home.kind === 'idb') return this.idb.readChunk(fileId, index)
    if (!home.have.get(index)) return undefined
    return this.opfs!.read(fileId, index * home.manifest.chunkSize, chunkLength(home.manifest, index))
  }

  async storedChunks(fileId: string): Promise<number[]> {
    const home = await this.homeOf(fileId)
    return home.kind === 'idb' ? this.idb.storedChunks(fileId) : home.have.indexes()
  }

  async fileBlob(fileId: string, manifest: Manifest): Promise<Blob> {
    const home = await this.homeOf(fileId)
    if (home.kind === 'idb') return this.idb.fileBlob(fileId, manifest)
    if (!home.have.isComplete()) throw new StoreError('Part of this file is missing from browser storage.', 'corrupt')
    await this.checkpoint(fileId, home)
    return this.opfs!.file(fileId, manifest.size, manifest.type || 'application/octet-stream')
  }

  saveEntry(entry: LibraryEntry): Promise<void> {
    return this.idb.saveEntry(entry)
  }

  listEntries(): Promise<LibraryEntry[]> {
    return this.idb.listEntries()
  }

  async deleteFile(fileId: string): Promise<void> {
    const home = await this.homes.get(fileId)?.catch(() => undefined)
    if (home?.kind === 'opfs') clearTimeout(home.timer)
    this.homes.delete(fileId)
    await this.opfs?.remove(fileId)
    await this.idb.deleteFile(fileId)
  }

  /** Flushes the bytes, then records which chunks are stored; a complete file is closed. */
  private async checkpoint(fileId: string, home: Extract<Home, { kind: 'opfs' }>): Promise<void> {
    clearTimeout(home.timer)
    home.timer = undefined
    if (home.dirty === 0 && !home.have.isComplete()) return
    home.dirty = 0
    if (home.have.isComplete()) await this.opfs!.close(fileId)
    else await this.opfs!.flush(fileId)
    await this.idb.saveOpfsHave(fileId, home.have.bytes)
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
    const manifest = await this.idb.loadManifest(fileId)
    if (!manifest) throw new StoreError('The manifest of this file is missing from browser storage.', 'corrupt')
    const count = manifest.hashes.length
    if (saved && saved.length !== Bitfield.byteLength(count)) throw new StoreError('The list of stored chunks is damaged.', 'corrupt')
    const have = new Bitfield(count, saved)
    if (!saved) await this.idb.saveOpfsHave(fileId, have.bytes)
    return { kind: 'opfs', manifest, have, dirty: 0, timer: undefined }
  }
}
