import { openDB, type DBSchema, type IDBPDatabase } from 'idb'
import { parseManifest, type ContentLayout, type Manifest } from '../protocol/manifest'
import { StoreError, type ChunkStore, type LibraryEntry } from '../core/ports'
import { parseLibraryEntry } from './library-entry'
import { guarded } from './store-errors'

const DB_NAME = 'tabswarm'
/** 1: manifests, chunks (Blobs), library. 2: adds `opfsHave`, which chunks of a file kept in OPFS are stored. */
const DB_VERSION = 2

interface TabSwarmDB extends DBSchema {
  /** `kept`: a keeper's copy, its chunks stored as they travel. */
  manifests: { key: string; value: { fileId: string; manifest: Manifest; kept?: boolean } }
  /** Chunks as Blobs: Chromium keeps them on disk, so a big file never sits in memory. */
  chunks: { key: [string, number]; value: { fileId: string; index: number; data: Blob }; indexes: { byFile: string } }
  library: { key: string; value: LibraryEntry }
  /** For a file whose bytes live in an OPFS file: the chunks stored there (saved shortly after they are written). */
  opfsHave: { key: string; value: { fileId: string; have: Uint8Array } }
}

/** What a tab hears about other tabs of this site while it opens or holds the database. */
export interface DatabaseHooks {
  /** A tab of an older version holds the database open: this one waits until it closes. */
  onBlocked?: () => void
  /** A newer version wants to upgrade the database: this tab has let go of it and must be reloaded. */
  onSuperseded?: () => void
}

export class IdbChunkStore implements ChunkStore {
  /** Let go of for a newer version's upgrade: every use says to reload. */
  private superseded = false

  private constructor(private readonly db: IDBPDatabase<TabSwarmDB>) {}

  static async open(name = DB_NAME, hooks: DatabaseHooks = {}): Promise<IdbChunkStore> {
    let store: IdbChunkStore | undefined
    const db = await guarded(() =>
      openDB<TabSwarmDB>(name, DB_VERSION, {
        blocked: () => hooks.onBlocked?.(),
        // A tab of a newer version waits for this one: close at once, so its upgrade goes on.
        blocking: () => {
          store?.letGo()
          hooks.onSuperseded?.()
        },
        // Each step upgrades one version, so a library written by any older version keeps opening.
        upgrade(database, oldVersion) {
          if (oldVersion < 1) {
            database.createObjectStore('manifests', { keyPath: 'fileId' })
            const chunks = database.createObjectStore('chunks', { keyPath: ['fileId', 'index'] })
            chunks.createIndex('byFile', 'fileId')
            database.createObjectStore('library', { keyPath: 'fileId' })
          }
          if (oldVersion < 2) database.createObjectStore('opfsHave', { keyPath: 'fileId' })
        },
      }),
    )
    store = new IdbChunkStore(db)
    return store
  }

  private letGo(): void {
    this.superseded = true
    this.db.close()
  }

  /** Runs storage work, unless the database was given up for a newer version. */
  private run<T>(work: () => Promise<T>): Promise<T> {
    if (this.superseded)
      return Promise.reject(new StoreError('TabSwarm was updated in another tab: reload this tab to keep using it.', 'unavailable'))
    return guarded(work)
  }

  saveManifest(fileId: string, manifest: Manifest, options: { kept?: boolean } = {}): Promise<void> {
    const kept = options.kept ? { kept: true } : {}
    return this.run(async () => void (await this.db.put('manifests', { fileId, manifest, ...kept })))
  }

  async loadManifest(fileId: string): Promise<Manifest | undefined> {
    return (await this.loadManifestRecord(fileId))?.manifest
  }

  /** The manifest, checked, and whether its chunks are stored as they travel (a keeper's copy; see saveManifest). */
  async loadManifestRecord(fileId: string): Promise<{ manifest: Manifest; kept: boolean } | undefined> {
    const record = await this.run(() => this.db.get('manifests', fileId))
    if (!record) return undefined
    const parsed = parseManifest(record.manifest)
    if (!parsed.ok) throw new StoreError(`The stored copy of this file is damaged (${parsed.message}).`, 'corrupt')
    return { manifest: parsed.manifest, kept: record.kept === true }
  }

  /**
   * Relaxed durability (no flush to disk before the transaction completes) cuts the cost of a
   * write: a chunk lost to a crash is fetched again, and every stored chunk is checked against
   * its hash before it is first served.
   */
  putChunk(fileId: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    return this.run(async () => {
      const tx = this.db.transaction('chunks', 'readwrite', { durability: 'relaxed' })
      await Promise.all([tx.store.put({ fileId, index, data: new Blob([bytes]) }), tx.done])
    })
  }

  async readChunk(fileId: string, index: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const blob = await this.chunkBlob(fileId, index)
    return blob && new Uint8Array(await guarded(() => blob.arrayBuffer()))
  }

  /** The stored chunks as one Blob; Chromium backs it with IndexedDB's files, not memory. */
  async fileBlob(fileId: string, layout: ContentLayout, type: string): Promise<Blob> {
    const parts: Blob[] = []
    for (let index = 0; index < layout.count; index++) {
      const chunk = await this.chunkBlob(fileId, index)
      if (!chunk) throw new StoreError(`Chunk ${index + 1} is missing from browser storage.`, 'corrupt')
      parts.push(chunk)
    }
    return new Blob(parts, { type: type || 'application/octet-stream' })
  }

  private async chunkBlob(fileId: string, index: number): Promise<Blob | undefined> {
    const record = await this.run(() => this.db.get('chunks', [fileId, index]))
    if (record && !(record.data instanceof Blob)) throw new StoreError(`Stored chunk ${index} is damaged.`, 'corrupt')
    return record?.data
  }

  async storedChunks(fileId: string): Promise<number[]> {
    const keys = await this.run(() => this.db.getAllKeysFromIndex('chunks', 'byFile', fileId))
    return keys.map(([, index]) => index).filter((index) => Number.isInteger(index) && index >= 0)
  }

  /** Whether any chunk of the file is stored here (a library written before chunks moved to OPFS). */
  async holdsChunksOf(fileId: string): Promise<boolean> {
    const key = await this.run(() => this.db.getKeyFromIndex('chunks', 'byFile', fileId))
    return key !== undefined
  }

  /** The stored-chunk bitfield of a file kept in OPFS, or undefined for a file kept here. */
  async loadOpfsHave(fileId: string): Promise<Uint8Array | undefined> {
    const record = await this.run(() => this.db.get('opfsHave', fileId))
    if (record && !(record.have instanceof Uint8Array)) throw new StoreError('The list of stored chunks is damaged.', 'corrupt')
    return record?.have
  }

  saveOpfsHave(fileId: string, have: Uint8Array): Promise<void> {
    return this.run(async () => void (await this.db.put('opfsHave', { fileId, have: have.slice() })))
  }

  /** The file's bytes go to IndexedDB after all (OPFS had no room for it). */
  forgetOpfsHave(fileId: string): Promise<void> {
    return this.run(async () => void (await this.db.delete('opfsHave', fileId)))
  }

  saveEntry(entry: LibraryEntry): Promise<void> {
    return this.run(async () => void (await this.db.put('library', entry)))
  }

  /** Every valid entry; a damaged one is left in storage untouched and reported in the console. */
  async listEntries(): Promise<LibraryEntry[]> {
    const records: unknown[] = await this.run(() => this.db.getAll('library'))
    return records.flatMap((record) => {
      const parsed = parseLibraryEntry(record)
      if (parsed.ok) return [parsed.entry]
      console.warn(`A library entry in browser storage is damaged (${parsed.message}); it is skipped.`)
      return []
    })
  }

  deleteFile(fileId: string): Promise<void> {
    return this.run(async () => {
      const tx = this.db.transaction(['manifests', 'chunks', 'library', 'opfsHave'], 'readwrite')
      await Promise.all([
        tx.objectStore('opfsHave').delete(fileId),
        tx.objectStore('chunks').delete(IDBKeyRange.bound([fileId, 0], [fileId, Infinity])),
        tx.objectStore('manifests').delete(fileId),
        tx.objectStore('library').delete(fileId),
        tx.done,
      ])
    })
  }
}
