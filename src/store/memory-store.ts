import type { Manifest } from '../protocol/manifest'
import type { ChunkStore, LibraryEntry } from '../core/ports'

/** The same contract as IndexedDB, in memory: for tests and for browsers without storage. */
export class MemoryChunkStore implements ChunkStore {
  private readonly manifests = new Map<string, Manifest>()
  private readonly chunks = new Map<string, Map<number, Blob>>()
  private readonly entries = new Map<string, LibraryEntry>()

  async saveManifest(fileId: string, manifest: Manifest): Promise<void> {
    this.manifests.set(fileId, structuredClone(manifest))
  }

  async loadManifest(fileId: string): Promise<Manifest | undefined> {
    const manifest = this.manifests.get(fileId)
    return manifest && structuredClone(manifest)
  }

  async putChunk(fileId: string, index: number, data: Blob): Promise<void> {
    let file = this.chunks.get(fileId)
    if (!file) this.chunks.set(fileId, (file = new Map()))
    file.set(index, data)
  }

  async getChunk(fileId: string, index: number): Promise<Blob | undefined> {
    return this.chunks.get(fileId)?.get(index)
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
