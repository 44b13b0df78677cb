import type { ContentLayout, Manifest } from '../protocol/manifest'
import { StoreError, type ChunkStore, type LibraryEntry } from '../core/ports'

/** The same contract as IndexedDB, in memory: for tests and for browsers without storage. */
export class MemoryChunkStore implements ChunkStore {
  private readonly manifests = new Map<string, Manifest>()
  private readonly chunks = new Map<string, Map<number, Uint8Array<ArrayBuffer>>>()
  private readonly entries = new Map<string, LibraryEntry>()

  async saveManifest(fileId: string, manifest: Manifest): Promise<void> {
    this.manifests.set(fileId, structuredClone(manifest))
  }

  async loadManifest(fileId: string): Promise<Manifest | undefined> {
    const manifest = this.manifests.get(fileId)
    return manifest && structuredClone(manifest)
  }

  async putChunk(fileId: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    let file = this.chunks.get(fileId)
    if (!file) this.chunks.set(fileId, (file = new Map()))
    file.set(index, bytes)
  }

  async readChunk(fileId: string, index: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    return this.chunks.get(fileId)?.get(index)?.slice()
  }

  async fileBlob(fileId: string, layout: ContentLayout, type: string): Promise<Blob> {
    const parts = Array.from({ length: layout.count }, (_, index) => {
      const chunk = this.chunks.get(fileId)?.get(index)
      if (!chunk) throw new StoreError(`Chunk ${index + 1} is missing from storage.`, 'corrupt')
      return chunk
    })
    return new Blob(parts, { type: type || 'application/octet-stream' })
  }

  async storedChunks(fileId: string): Promise<number[]> {
    return [...(this.chunks.get(fileId)?.keys() ?? [])].sort((a, b) => a - b)
  }

  async saveEntry(entry: LibraryEntry): Promise<void> {
    this.entries.set(entry.fileId, { ...entry })
  }

  async listEntries(): Promise<LibraryEntry[]> {
    return [...this.entries.values()].map((entry) => ({ ...entry }))
  }

  async deleteFile(fileId: string): Promise<void> {
    this.manifests.delete(fileId)
    this.chunks.delete(fileId)
    this.entries.delete(fileId)
  }
}
