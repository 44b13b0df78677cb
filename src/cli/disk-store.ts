import { open, readdir, rm, rmdir, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { sha256Hex } from '../protocol/encoding'
import {
  bundleOffsets,
  canonicalManifestJson,
  chunkLength,
  contentLayout,
  fileIdOf,
  FILE_ID_PATTERN,
  parseManifest,
  type ContentLayout,
  type FileMeta,
  type Manifest,
} from '../protocol/manifest'
import { openContent, type FileAccess, type FileContent } from '../engine/file-content'
import { noticeLine } from './notices'
import { bundlePathHazard, safeFileName } from '../core/file-name'
import { openNoFollow, placeWithoutOverwrite, realFolder } from './safe-paths'
import { StoreError, type ChunkReader, type ChunkWriter, type ManifestStore, type Stores } from '../core/ports'

/** One file on disk holding bytes [offset, offset + size) of the shared content. */
export interface DiskPart {
  path: string
  offset: number
  size: number
}

/**
 * Reads (into `buffer`) or writes (from it) the content range starting at `offset`, across parts.
 * With `staging` (a download's folder), folders are made without following links and files are
 * opened without following one at their name; a seeder reads the user's own files as they are.
 */
async function positioned(parts: DiskPart[], offset: number, buffer: Uint8Array, write: boolean, staging?: string): Promise<void> {
  const end = offset + buffer.length
  for (const part of parts) {
    const from = Math.max(offset, part.offset)
    const to = Math.min(end, part.offset + part.size)
    if (from >= to) continue
    // Created without truncating, so concurrent writers of one new file keep each other's bytes.
    if (write && staging) await realFolder(staging, dirname(part.path))
    let handle
    try {
      if (!staging) handle = await open(part.path, write ? 'r+' : 'r')
      else handle = await openNoFollow(part.path, write ? 'create' : 'read')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new StoreError(`${part.path} is missing.`, 'corrupt')
      throw error
    }
    try {
      if (write) await handle.write(buffer, from - offset, to - from, from - part.offset)
      else {
        const { bytesRead } = await handle.read(buffer, from - offset, to - from, from - part.offset)
        if (bytesRead !== to - from) throw new StoreError(`${part.path} is shorter than expected.`, 'corrupt')
      }
    } finally {
      await handle.close()
    }
  }
}

function chunkRange(layout: Pick<ContentLayout, 'size' | 'chunkSize'>, index: number): { offset: number; length: number } {
  return { offset: index * layout.chunkSize, length: chunkLength(layout, index) }
}

/** A file's size and modification time when it was shared: a change means stale chunks. */
export interface Stamp {
  size: number
  mtimeMs: number
}

/** How long a check that the seeded files are unchanged stays good. */
const STAMP_CHECK_MS = 1000

/**
 * Serves chunks straight from the files being seeded, with positioned reads: nothing is copied.
 * Refuses to serve once a file changed on disk (size or modification time); the engine also
 * checks each chunk's hash before its first upload.
 */
export class SeedStore implements ManifestStore, ChunkReader {
  /** `layout`: where each chunk lies in the files (a private file's own bytes, or for a keeper the chunks as they travel). */
  private readonly files = new Map<
    string,
    { manifest: Manifest; layout: ContentLayout; parts: DiskPart[]; stamps: Stamp[]; checkedAt: number }
  >()

  /** `recheckMs`: how long a check that the files are unchanged stays good. */
  constructor(private readonly recheckMs = STAMP_CHECK_MS) {}

  /** Registers files just hashed; `stamps` are their size and mtime from before hashing. */
  add(fileId: string, manifest: Manifest, parts: DiskPart[], stamps: Stamp[], layout: ContentLayout = contentLayout(manifest)): void {
    this.files.set(fileId, { manifest, layout, parts, stamps, checkedAt: Date.now() })
  }

  /** The path of a seeded file that changed on disk since it was hashed, if any. */
  async changedFile(fileId: string): Promise<string | undefined> {
    const record = this.files.get(fileId)
    if (!record) return undefined
    for (const [i, part] of record.parts.entries()) {
      const now = await stat(part.path).catch(() => undefined)
      if (!now || now.size !== record.stamps[i]!.size || now.mtimeMs !== record.stamps[i]!.mtimeMs) return part.path
    }
    record.checkedAt = Date.now()
    return undefined
  }

  async saveManifest(fileId: string): Promise<void> {
    if (!this.files.has(fileId)) throw new StoreError('Only files added from disk can be seeded.', 'unavailable')
  }

  async loadManifest(fileId: string): Promise<Manifest | undefined> {
    return this.files.get(fileId)?.manifest
  }

  async readChunk(fileId: string, index: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const record = this.files.get(fileId)
    if (!record || index >= record.manifest.hashes.length) return undefined
    if (Date.now() - record.checkedAt >= this.recheckMs) {
      const changed = await this.changedFile(fileId)
      if (changed) throw new StoreError(`${changed} changed on disk since it was shared.`, 'corrupt')
    }
    const { offset, length } = chunkRange(record.layout, index)
    const buffer = new Uint8Array(length)
    await positioned(record.parts, offset, buffer, false)
    return buffer
  }

  async storedChunks(fileId: string): Promise<number[]> {
    const count = this.files.get(fileId)?.manifest.hashes.length ?? 0
    return Array.from({ length: count }, (_, i) => i)
  }

  /** The stores a seeder works with: it reads, and neither downloads nor keeps a library. */
  stores(): Stores {
    return { manifests: this, chunks: this, writer: undefined, library: undefined }
  }
}

/**
 * Downloads into a folder: the file is written as `<name>.part` (a bundle into a `<name>.part`
 * folder) with positioned writes, and the manifest is kept in `.tabswarm/<file id>.json`, so a
 * second run resumes from what is on disk (every chunk there is checked against its hash first).
 * `finish` moves the result to `<name>`, or `<name> (1)` and so on: nothing there is replaced, and
 * no link already in the folder is followed.
 */
export class DownloadStore implements ManifestStore, ChunkReader, ChunkWriter {
  private readonly held = new Map<string, Set<number>>()
  /** Manifests read back and checked against their id once, so chunk reads and writes do not reread the file. */
  private readonly manifests = new Map<string, Manifest>()
  private readonly contents = new Map<string, FileContent>()

  /**
   * The key of the private file being fetched (from its link, or its join code's answer), which
   * names and lays out what is written; or, for a keeper, that it writes the chunks as they
   * travel, as `<file id>.kept`.
   */
  access: FileAccess = {}

  /**
   * `inPlace`: chunks go straight into the file's own name and stay there (a keeper's folder,
   * which seeds what it holds and never moves it), instead of a `.part` moved into place at the end.
   */
  constructor(
    readonly root: string,
    private readonly options: { inPlace?: boolean } = {},
  ) {}

  /** The file as written here: its own bytes, a private one's decrypted. */
  private async contentOf(fileId: string, manifest?: Manifest): Promise<FileContent | undefined> {
    const known = this.contents.get(fileId)
    if (known) return known
    manifest ??= await this.loadManifest(fileId)
    if (!manifest) return undefined
    const content = await openContent(manifest, this.access)
    if (typeof content === 'string') throw new StoreError(noticeLine({ kind: content }), 'corrupt')
    this.contents.set(fileId, content)
    return content
  }

  private sidecar(fileId: string): string {
    return join(this.root, '.tabswarm', `${fileId}.json`)
  }

  /** Where a download is written until it is complete. */
  private staging(fileId: string, meta: FileMeta): string {
    return join(this.root, `${this.savedName(fileId, meta)}${this.options.inPlace ? '' : '.part'}`)
  }

  /** The file's name on disk: its own, or a keeper's `<file id>.kept` (a keeper knows no name). */
  private savedName(fileId: string, meta: FileMeta): string {
    return this.access.keeper ? `${fileId}.kept` : safeFileName(meta.name)
  }

  private parts(fileId: string, meta: FileMeta): DiskPart[] {
    const staging = this.staging(fileId, meta)
    if (!meta.files) return [{ path: staging, offset: 0, size: meta.size }]
    // Checked when the manifest was saved: relative, no `..`, nothing Windows or a link could misuse.
    return bundleOffsets(meta.files).map((file) => ({
      path: join(staging, ...file.path.split('/')),
      offset: file.offset,
      size: file.size,
    }))
  }

  async saveManifest(fileId: string, manifest: Manifest): Promise<void> {
    this.contents.delete(fileId)
    const { meta } = (await this.contentOf(fileId, manifest))!
    this.contents.delete(fileId) // opened again from what is read back
    const hazard = meta.files && bundlePathHazard(meta.files.map((file) => file.path))
    if (hazard) throw new StoreError(`This bundle cannot be saved safely: ${hazard}.`, 'corrupt')
    await realFolder(this.root, join(this.root, '.tabswarm'))
    const handle = await openNoFollow(this.sidecar(fileId), 'create')
    try {
      await handle.truncate(0)
      await handle.writeFile(canonicalManifestJson(manifest))
    } finally {
      await handle.close()
    }
    this.manifests.delete(fileId) // read back and checked against the id on next use
  }

  async loadManifest(fileId: string): Promise<Manifest | undefined> {
    const known = this.manifests.get(fileId)
    if (known) return known
    let text: string
    try {
      const handle = await openNoFollow(this.sidecar(fileId), 'read')
      try {
        text = await handle.readFile('utf8')
      } finally {
        await handle.close()
      }
    } catch (error) {
      if (error instanceof StoreError) throw error
      return undefined
    }
    let parsed: ReturnType<typeof parseManifest>
    try {
      parsed = parseManifest(JSON.parse(text))
    } catch {
      parsed = { ok: false, message: 'not JSON' }
    }
    if (!parsed.ok || (await fileIdOf(parsed.manifest)) !== fileId) {
      throw new StoreError(`${this.sidecar(fileId)} is damaged; delete it to start the download again.`, 'corrupt')
    }
    this.manifests.set(fileId, parsed.manifest)
    return parsed.manifest
  }

  async putChunk(fileId: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    const content = await this.contentOf(fileId)
    if (!content) throw new StoreError('The manifest of this download is missing.', 'corrupt')
    const { offset } = chunkRange(content.layout, index)
    try {
      await positioned(this.parts(fileId, content.meta), offset, bytes, true, this.root)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw new StoreError('The disk is full.', 'quota')
      throw error
    }
    this.heldOf(fileId).add(index)
  }

  async readChunk(fileId: string, index: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
    const content = await this.contentOf(fileId)
    if (!content || !this.heldOf(fileId).has(index)) return undefined
    const { offset, length } = chunkRange(content.layout, index)
    const buffer = new Uint8Array(length)
    await positioned(this.parts(fileId, content.meta), offset, buffer, false, this.root)
    return buffer
  }

  /** On the first call, hashes what an earlier run left on disk and keeps the chunks that match. */
  async storedChunks(fileId: string): Promise<number[]> {
    const known = this.held.get(fileId)
    if (known) return [...known]
    const held = this.heldOf(fileId)
    const manifest = await this.loadManifest(fileId)
    const content = manifest && (await this.contentOf(fileId, manifest))
    if (!manifest || !content) return []
    const parts = this.parts(fileId, content.meta)
    for (let index = 0; index < manifest.hashes.length; index++) {
      const { offset, length } = chunkRange(content.layout, index)
      const buffer = new Uint8Array(length)
      try {
        await positioned(parts, offset, buffer, false, this.root)
      } catch (error) {
        if (error instanceof StoreError && /is a link/.test(error.message)) throw error
        continue // not written yet
      }
      if ((await sha256Hex(await content.toWire(index, buffer))) === manifest.hashes[index]) held.add(index)
    }
    return [...held]
  }

  /** Moves the finished download to its name (or the first free numbered one); returns the paths written. */
  async finish(fileId: string): Promise<string[]> {
    const content = await this.contentOf(fileId)
    if (!content) return []
    const { meta } = content
    const staging = this.staging(fileId, meta)
    const parts = this.parts(fileId, meta)
    // An empty file has no chunk bytes, so nothing was written for it yet.
    for (const part of parts) {
      if (part.size > 0) continue
      await realFolder(this.root, dirname(part.path))
      await (await openNoFollow(part.path, 'create')).close()
    }
    const placed = await placeWithoutOverwrite(staging, this.root, this.savedName(fileId, meta), meta.files !== undefined)
    await rm(this.sidecar(fileId), { force: true })
    this.manifests.delete(fileId)
    this.contents.delete(fileId)
    await rmdir(join(this.root, '.tabswarm')).catch(() => undefined) // kept while other downloads use it
    return parts.map((part) => placed + part.path.slice(staging.length))
  }

  /** Deletes what is written of a file and its manifest, freeing the space. */
  async discard(fileId: string): Promise<void> {
    const content = await this.contentOf(fileId).catch(() => undefined)
    if (content) for (const part of this.parts(fileId, content.meta)) await rm(part.path, { force: true })
    await rm(this.sidecar(fileId), { force: true })
    for (const cache of [this.held, this.manifests, this.contents]) cache.delete(fileId)
  }

  /** The file ids whose manifests this folder holds. */
  async fileIds(): Promise<string[]> {
    const names = await readdir(join(this.root, '.tabswarm')).catch(() => [] as string[])
    return names.flatMap((name) => {
      const fileId = name.replace(/\.json$/, '')
      return FILE_ID_PATTERN.test(fileId) && name === `${fileId}.json` ? [fileId] : []
    })
  }

  /** The stores a download works with: no library, since the folder itself is what is kept. */
  stores(): Stores {
    return { manifests: this, chunks: this, writer: this, library: undefined }
  }

  private heldOf(fileId: string): Set<number> {
    let set = this.held.get(fileId)
    if (!set) this.held.set(fileId, (set = new Set()))
    return set
  }
}
