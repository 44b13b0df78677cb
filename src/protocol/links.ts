// Share links: the one parser and the one builder, for the page, the engine and the CLI.
// `<origin>/#/f/<file id>` opens a transfer, `#/f/<file id>/swarm` its swarm view.
import { FILE_ID_PATTERN } from './manifest'

/** What a location's fragment names. */
export type LinkRoute =
  | { page: 'home' }
  | { page: 'file'; fileId: string }
  | { page: 'swarm'; fileId: string }
  /** A `#/f/…` fragment whose file id is not one. */
  | { page: 'bad-link'; text: string }

const ROUTE = /^#\/f\/([^/?#]*)(\/swarm)?\/?$/

/** Parses a fragment (`location.hash`); anything that is not a share route is home. */
export function parseFragment(hash: string): LinkRoute {
  const match = ROUTE.exec(hash)
  if (!match) return { page: 'home' }
  let fileId: string
  try {
    fileId = decodeURIComponent(match[1]!).toLowerCase()
  } catch {
    return { page: 'bad-link', text: match[1]! }
  }
  if (!FILE_ID_PATTERN.test(fileId)) return { page: 'bad-link', text: match[1]! }
  return match[2] ? { page: 'swarm', fileId } : { page: 'file', fileId }
}

export type ParsedShareLink = { ok: true; origin: string; url: URL; fileId: string } | { ok: false; reason: 'not-a-link' | 'no-file-id' }

/** Parses a whole share link as typed or pasted (the command-line peer takes one). */
export function parseShareLink(text: string): ParsedShareLink {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { ok: false, reason: 'not-a-link' }
  }
  const route = parseFragment(url.hash)
  if (route.page !== 'file') return { ok: false, reason: 'no-file-id' }
  return { ok: true, origin: url.origin, url, fileId: route.fileId }
}

/** The fragment of a file's transfer page (`#/f/<id>`), or of its swarm view. */
export function fileFragment(fileId: string, view: 'transfer' | 'swarm' = 'transfer'): string {
  return `#/f/${fileId}${view === 'swarm' ? '/swarm' : ''}`
}

/** The link to share: the app's origin and the file's fragment. */
export function shareLink(origin: string, fileId: string): string {
  return `${origin}/${fileFragment(fileId)}`
}
