import { StoreError } from '../core/ports'

// One OPFS file per stored item, written and read at offsets through a sync access handle (only
// dedicated workers have them): no Blob per chunk, no copy through IndexedDB. A complete file is
// closed, so it can be saved (`getFile()` is disk-backed) and read by another tab.

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

function asStoreError(error: unknown): StoreError {
  if (error instanceof StoreError) return error
  const name = (error as { name?: string } | null)?.name
  if (name === 'QuotaExceededError') return new StoreError('The browser has no more storage space for this site.', 'quota')
  if (name === 'NoModificationAllowedError')
    return new StoreError('This file is open in another tab of this site; close that tab to use it here.', 'unavailable')
  return new StoreError(`Browser storage failed: ${(error as Error)?.message ?? String(error)}`, 'unavailable')
}

export class OpfsFiles {
  private readonly handles = new Map<string, Promise<SyncAccessHandle>>()

  private constructor(private readonly folder: FileSystemDirectoryHandle) {}

  /** Undefined where this context has no sync access handles (the page itself, older browsers, some private windows). */
  static async open(): Promise<OpfsFiles | undefined> {
    const handle = (globalThis as { FileSystemFileHandle?: { prototype: object } }).FileSystemFileHandle
    if (!handle || !('createSyncAccessHandle' in handle.prototype)) return undefined
    try {
      const root = await navigator.storage.getDirectory()
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

  /** Reads through the open handle while the file is being written, else through the closed file. */
  async read(name: string, offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    const open = this.handles.get(name)
    if (open) {
      return this.withHandle(name, (handle) => {
        const buffer = new Uint8Array(length)
        const read = handle.read(buffer, { at: offset })
        return read === length ? buffer : buffer.slice(0, read)
      })
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

  /** The closed file, disk-backed, cut to `size`. */
  async file(name: string, size: number, type: string): Promise<Blob> {
    await this.close(name)
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
