import { StoreError } from '../core/ports'
import { asStoreError } from './store-errors'

// One OPFS file per stored item, written and read at offsets through a sync access handle (only
// dedicated workers have them): no Blob per chunk, no copy through IndexedDB, and reads that do not
// go through the browser process as Blob reads do. The handle stays open while this worker serves
// the file; `getFile()` (saving, other tabs) reads it meanwhile.

/** The folder of the origin private file system that holds the files' bytes. */
const FOLDER = 'tabswarm-chunks'
/** A handle still held by a worker that just ended is released shortly after: tries this often. */
const OPEN_ATTEMPTS = 5
const OPEN_RETRY_MS = 200

interface SyncAccessHandle {
  read(buffer: Uint8Array, options: { at: number }): number
  write(buffer: Uint8Array, options: { at: number }): number
  flush(): void
  close(): void
}
type SyncFileHandle = FileSystemFileHandle & { createSyncAccessHandle(): Promise<SyncAccessHandle> }

export class OpfsFiles {
  private readonly handles = new Map<string, Promise<SyncAccessHandle>>()
  /** Files handed out for saving (or locked by another tab): read as a File, the handle left closed. */
  private readonly readAsFile = new Set<string>()

  private constructor(private readonly folder: FileSystemDirectoryHandle) {}

  /** Undefined where this context has no sync access handles (the page itself, older browsers). */
  static async open(root: FileSystemDirectoryHandle): Promise<OpfsFiles | undefined> {
    const handle = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle
    if (!handle || !('createSyncAccessHandle' in handle.prototype)) return undefined
    try {
      return new OpfsFiles(await root.getDirectoryHandle(FOLDER, { create: true }))
    } catch {
      return undefined
    }
  }

  write(name: string, offset: number, bytes: Uint8Array): Promise<void> {
    return this.withHandle(name, (handle) => {
      const written = handle.write(bytes, { at: offset })
      if (written !== bytes.length) throw new StoreError('The browser has no more storage space for this site.', 'quota')
    })
  }

  /** Reads through the handle (opened if need be), or as a File where the handle must stay closed. */
  async read(name: string, offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    if (this.handles.has(name) || !this.readAsFile.has(name)) {
      try {
        return await this.withHandle(name, (handle) => {
          const buffer = new Uint8Array(length)
          const read = handle.read(buffer, { at: offset })
          return read === length ? buffer : buffer.slice(0, read)
        })
      } catch (error) {
        // Another tab of this site holds the file: serve it from a File instead.
        if (!(error instanceof StoreError && error.kind === 'unavailable') || this.handles.has(name)) throw error
        this.readAsFile.add(name)
      }
    }
    try {
      const file = await (await this.folder.getFileHandle(name)).getFile()
      return new Uint8Array(await file.slice(offset, offset + length).arrayBuffer())
    } catch (error) {
      throw asStoreError(error)
    }
  }

  /** Writes what was written so far through to disk. */
  async flush(name: string): Promise<void> {
    const open = this.handles.get(name)
    if (open) await this.withHandle(name, (handle) => handle.flush())
  }

  /** Flushes and releases the file, so that it can be read as a File and opened by another tab. */
  async close(name: string): Promise<void> {
    const open = this.handles.get(name)
    if (!open) return
    this.handles.delete(name)
    try {
      const handle = await open
      handle.flush()
      handle.close()
    } catch (error) {
      throw asStoreError(error)
    }
  }

  /**
   * The file, disk-backed, cut to `size`, for saving: the handle is closed first (so everything
   * written is in it) and stays closed, so the file does not change under the download.
   */
  async file(name: string, size: number, type: string): Promise<Blob> {
    await this.close(name)
    this.readAsFile.add(name)
    try {
      // An empty file was never written, so it may not exist yet.
      const file = await (await this.folder.getFileHandle(name, { create: size === 0 })).getFile()
      if (file.size < size) throw new StoreError('Part of this file is missing from browser storage.', 'corrupt')
      return file.slice(0, size, type)
    } catch (error) {
      throw asStoreError(error)
    }
  }

  async remove(name: string): Promise<void> {
    await this.close(name).catch(() => undefined)
    this.readAsFile.delete(name)
    await this.folder.removeEntry(name).catch((error: unknown) => {
      if ((error as { name?: string }).name !== 'NotFoundError') throw asStoreError(error)
    })
  }

  private async withHandle<T>(name: string, work: (handle: SyncAccessHandle) => T): Promise<T> {
    let open = this.handles.get(name)
    if (!open) {
      open = this.openHandle(name)
      this.handles.set(name, open)
      open.catch(() => {
        if (this.handles.get(name) === open) this.handles.delete(name)
      })
    }
    try {
      return work(await open)
    } catch (error) {
      throw asStoreError(error)
    }
  }

  private async openHandle(name: string): Promise<SyncAccessHandle> {
    const file = (await this.folder.getFileHandle(name, { create: true })) as SyncFileHandle
    for (let attempt = 1; ; attempt++) {
      try {
        return await file.createSyncAccessHandle()
      } catch (error) {
        // A worker that just ended (crashed, or the tab reloaded) may still hold the lock a moment.
        if ((error as { name?: string }).name !== 'NoModificationAllowedError' || attempt >= OPEN_ATTEMPTS) throw error
        await new Promise((resolve) => setTimeout(resolve, OPEN_RETRY_MS * attempt))
      }
    }
  }
}
