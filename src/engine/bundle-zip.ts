import { downloadZip } from 'client-zip'
import { bundleOffsets } from '../protocol/manifest'
import { safeFileName } from '../core/file-name'

/**
 * Every file of a bundle in one zip (stored, not compressed), its folders kept, as a stream read
 * from the stored bundle: piped to a file where the browser allows, read into a Blob otherwise.
 */
export function bundleZip(whole: Blob, name: string, files: { path: string; size: number }[]): { zip: Response; name: string } {
  const entries = bundleOffsets(files).map((file) => ({
    name: file.path,
    input: whole.slice(file.offset, file.offset + file.size),
    size: file.size,
  }))
  return { zip: downloadZip(entries), name: `${safeFileName(name)}.zip` }
}
