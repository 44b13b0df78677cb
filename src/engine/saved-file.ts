import { safeFileName } from '../core/file-name'
import { bundleZip } from './bundle-zip'
import type { FileSession } from './file-session'
import { bundlePart } from './readable-file'

/**
 * The complete file as a Blob of the stored chunks (never assembled in memory), with a name safe
 * to save; for one file of a bundle, give its path.
 */
export async function fileForSaving(session: FileSession | undefined, path?: string): Promise<{ blob: Blob; name: string }> {
  const meta = session?.content?.meta
  if (!session || !meta) throw new Error('This file is not in this browser.')
  const whole = await session.storedFile()
  if (path === undefined) return { blob: whole, name: safeFileName(meta.name) }
  const part = bundlePart(meta, path)
  if (!part) throw new Error(`“${path}” is not part of this bundle.`)
  return { blob: whole.slice(part.offset, part.offset + part.size), name: safeFileName(part.path.split('/').pop()!) }
}

/**
 * Every file of a bundle in one zip (stored, not compressed), its folders kept, as a stream:
 * piped to a file where the browser allows, read into a Blob for a plain download otherwise.
 */
export async function zipForSaving(session: FileSession | undefined): Promise<{ zip: Response; name: string }> {
  const meta = session?.content?.meta
  if (!session || !meta?.files) throw new Error('This is not a bundle of files.')
  return bundleZip(await session.storedFile(), meta.name, meta.files)
}
