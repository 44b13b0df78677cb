import { chunkLength, type ContentLayout } from '../protocol/manifest'
import type { ChunkReader, ChunkWriter } from '../core/ports'

/** What a file being shared is read from: the picked file (or a bundle's files as one Blob). */
export type ShareSource = Pick<Blob, 'slice'>

interface Copy {
  /** The file's own bytes (a private file's stored decrypted, like every chunk). */
  layout: ContentLayout
  source: ShareSource
  cancelled: boolean
  done: Promise<void>
}

/**
 * Files being shared whose bytes are still being copied into this peer's storage. The link works
 * as soon as the hashes are known: until the copy is done (or if it fails) chunks are served from
 * the picked file itself, and the copy goes on in the background.
 */
export class SourceCopies {
  private readonly copies = new Map<string, Copy>()

  /** A reader that serves files still being copied from their source, the rest from `stored`. */
  reader(stored: ChunkReader): ChunkReader {
    return {
      readChunk: async (fileId, index) => {
        const copy = this.copies.get(fileId)
        if (!copy) return stored.readChunk(fileId, index)
        if (index >= copy.layout.count) return undefined
        const start = index * copy.layout.chunkSize
        const blob = copy.source.slice(start, start + chunkLength(copy.layout, index))
        return new Uint8Array(await blob.arrayBuffer())
      },
      storedChunks: async (fileId) => {
        const copy = this.copies.get(fileId)
        return copy ? Array.from({ length: copy.layout.count }, (_, index) => index) : stored.storedChunks(fileId)
      },
    }
  }

  /**
   * Copies every chunk into `writer`, reporting how many are stored. When it fails the source
   * stays the file's home while this peer runs, and the error is thrown to the caller.
   */
  copy(fileId: string, layout: ContentLayout, source: ShareSource, writer: ChunkWriter, onStored: (stored: number) => void): Promise<void> {
    const copy: Copy = { layout, source, cancelled: false, done: Promise.resolve() }
    this.copies.set(fileId, copy)
    copy.done = (async () => {
      for (let index = 0; index < layout.count && !copy.cancelled; index++) {
        const start = index * layout.chunkSize
        const bytes = new Uint8Array(await source.slice(start, start + chunkLength(layout, index)).arrayBuffer())
        if (copy.cancelled) return
        await writer.putChunk(fileId, index, bytes)
        onStored(index + 1)
      }
      if (this.copies.get(fileId) === copy) this.copies.delete(fileId)
    })()
    return copy.done
  }

  /** Stops a copy (the file is being removed) and resolves once no write of it is under way. */
  async cancel(fileId: string): Promise<void> {
    const copy = this.copies.get(fileId)
    if (!copy) return
    copy.cancelled = true
    this.copies.delete(fileId)
    await copy.done.catch(() => undefined)
  }
}
