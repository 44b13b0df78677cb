// Stream URLs: the one builder and the one parser. No imports beyond the file id's pattern, so the
// Service Worker's bundle stays small.
import { FILE_ID_PATTERN } from './file-id'

/** Where the page's Service Worker serves a file (or one file of a bundle) to a player or a preview, from this browser's copy. */
export const STREAM_PATH = '/stream/'

export function streamUrl(fileId: string, path?: string): string {
  return `${STREAM_PATH}${fileId}${path === undefined ? '' : `/${encodeURIComponent(path)}`}`
}

/** The file a stream URL's path names; undefined when it names none. */
export function parseStreamPath(pathname: string): { fileId: string; path?: string } | undefined {
  if (!pathname.startsWith(STREAM_PATH)) return undefined
  const [id, part, ...rest] = pathname.slice(STREAM_PATH.length).split('/')
  if (!id || !FILE_ID_PATTERN.test(id) || rest.length > 0) return undefined
  if (part === undefined) return { fileId: id }
  const path = decoded(part)
  return path ? { fileId: id, path } : undefined
}

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}
