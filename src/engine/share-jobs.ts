import { contentLayout, fileIdOf, isListed, type Manifest } from '../protocol/manifest'
import { StoreError, type Stores } from '../core/ports'
import { storeErrorDetail } from './chunk-checker'
import { describeBundle, describeFile, withUniquePaths, type BundleEntry, type SourceFile } from './describe-file'
import { shareAccess, type FileAccess } from './file-content'
import type { FileSession } from './file-session'
import type { SourceCopies, ShareSource } from './source-copies'
import type { ShareJob, ShareOptions } from './views'

export interface ShareJobsDeps {
  stores: Stores
  copies: SourceCopies
  sessions: ReadonlyMap<string, FileSession>
  /** Resolves once the library is restored (a share must not race its own old session). */
  restored: () => Promise<void>
  /** Starts seeding a file whose manifest is stored (and whose copy is on its way). */
  seed: (fileId: string, manifest: Manifest, access: FileAccess) => Promise<void>
  /** A file's session is replaced: the old one closes. */
  replace: (fileId: string) => void
  emit: () => void
}

type Described = { manifest: Manifest; content: ShareSource }

/**
 * Sharing files from the page: each is hashed (and, when private, encrypted under a new key)
 * while its job reports progress, published, and copied into storage meanwhile (the link works
 * at once, served from the picked file). A file this tab already shares privately keeps its link.
 */
export class ShareJobs {
  readonly jobs: ShareJob[] = []
  private nextJob = 1

  constructor(private readonly deps: ShareJobsDeps) {}

  /** Private unless `listed`; a file already shared privately here is checked (hashed again) and keeps its link. */
  share(file: SourceFile, options: ShareOptions = {}): Promise<string | undefined> {
    return this.run(file.name, file.size, async (job, onChunk) => {
      const earlier = options.listed ? undefined : this.privateShareNamed(file)
      if (earlier) {
        const { secret, salt } = earlier
        const manifest = await describeFile(file, onChunk, secret, salt)
        if ((await fileIdOf(manifest)) === earlier.fileId) {
          job.reused = true
          return { described: { manifest, content: file }, access: earlier.access }
        }
      }
      const access = shareAccess(options)
      return { described: { manifest: await describeFile(file, onChunk, access.secret), content: file }, access }
    })
  }

  /** Shares several files (or a folder, with relative paths) under one link. */
  shareBundle(name: string, entries: BundleEntry[], options: ShareOptions = {}): Promise<string | undefined> {
    const access = shareAccess(options)
    const unique = withUniquePaths(entries)
    const size = entries.reduce((sum, entry) => sum + entry.file.size, 0)
    return this.run(name, size, async (_job, onChunk) => ({
      described: await describeBundle(name, unique, onChunk, access.secret),
      access,
    }))
  }

  /** A file's jobs go with it. */
  forget(fileId: string): void {
    for (let i = this.jobs.length - 1; i >= 0; i--) if (this.jobs[i]!.fileId === fileId) this.jobs.splice(i, 1)
  }

  /** A private share here of a file with this name and size: its key and salt, to check whether this is the same file. */
  private privateShareNamed(file: SourceFile) {
    for (const session of this.deps.sessions.values()) {
      const { content, manifest } = session
      if (session.role !== 'shared' || !content?.secret || !manifest || isListed(manifest)) continue
      if (content.meta.size !== file.size || content.meta.name !== file.name || content.meta.files) continue
      return {
        fileId: session.fileId,
        secret: content.secret,
        salt: manifest.salt,
        access: { secret: content.secret, keepers: session.keepersAllowed },
      }
    }
    return undefined
  }

  private async run(
    name: string,
    size: number,
    describe: (job: ShareJob, onChunk: (done: number, total: number) => void) => Promise<{ described: Described; access: FileAccess }>,
  ): Promise<string | undefined> {
    const { deps } = this
    const job: ShareJob = {
      jobId: `share-${this.nextJob++}`,
      name,
      size,
      done: 0,
      total: 0,
      stored: 0,
      fileId: undefined,
      secret: undefined,
      error: undefined,
    }
    this.jobs.unshift(job)
    deps.emit()
    try {
      await deps.restored()
      const { described, access } = await describe(job, (done, total) => {
        job.done = done
        job.total = total
        deps.emit()
      })
      const { manifest, content } = described
      const fileId = await fileIdOf(manifest)
      const existing = deps.sessions.get(fileId)
      if (existing !== undefined && existing.view().have === manifest.hashes.length) {
        job.stored = manifest.hashes.length
      } else {
        await this.store(job, fileId, manifest, content)
        await deps.seed(fileId, manifest, access)
      }
      job.fileId = fileId
      job.secret = access.secret
      return fileId
    } catch (error) {
      if (!(error instanceof StoreError)) console.warn(`Sharing ${name} failed`, error)
      job.error = error instanceof StoreError ? { kind: 'storage-failed', detail: error.message } : { kind: 'unreadable', name }
      return undefined
    } finally {
      deps.emit()
    }
  }

  /** Saves the manifest; the copy that survives a reload goes on in the background, served from the picked file meanwhile. */
  private async store(job: ShareJob, fileId: string, manifest: Manifest, content: ShareSource): Promise<void> {
    const { deps } = this
    deps.replace(fileId)
    const { manifests, writer } = deps.stores
    if (!writer) throw new StoreError('This peer cannot store new files.', 'unavailable')
    await manifests.saveManifest(fileId, manifest)
    const copied = deps.copies.copy(fileId, contentLayout(manifest), content, writer, (stored) => {
      job.stored = stored
      deps.emit()
    })
    copied.catch((error: unknown) => {
      job.error = { kind: 'storage-failed', detail: storeErrorDetail(error) ?? 'browser storage failed' }
      deps.emit()
    })
  }
}
