// Share links: the one parser and the one builder, for the page, the engine and the CLI.
// `<origin>/#/f/<file id>` opens a transfer, `#/f/<file id>/swarm` its swarm view,
// `#/f/<file id>/present` its present mode; a private file's link has its key after the id
// (`#/f/<file id>/<key>`, and `…/<key>/swarm`): the fragment never reaches a server.
// `<origin>/<join code>` or `#/c/<join code>` joins by code.
import { FILE_ID_PATTERN } from './manifest'
import { JOIN_CODE_LENGTH } from './join-code'
import { isSecret } from './sealed'

/** What a location's fragment names; `secret` is a private file's key. */
export type LinkRoute =
  | { page: 'home' }
  | { page: 'file'; fileId: string; secret?: string }
  | { page: 'swarm'; fileId: string; secret?: string }
  | { page: 'present'; fileId: string; secret?: string }
  /** A join code as it came (the page reads and resolves it). */
  | { page: 'join'; text: string }
  /** A `#/f/…` fragment whose file id is not one. */
  | { page: 'bad-link'; text: string }

// A key cut short is kept out (the page then says the link is incomplete), not sent home.
const ROUTE = /^#\/f\/([^/?#]*)(?:\/(?!(?:swarm|present)\/?$)([^/?#]+))?(\/swarm|\/present)?\/?$/
const CODE_FRAGMENT = /^#\/c\/([^/?#]{0,64})\/?$/
/** A path that may be a join code as typed on a phone: letters and digits, perhaps a dash. */
const CODE_PATH = new RegExp(`^/([A-Za-z0-9]{3}-?[A-Za-z0-9]{${JOIN_CODE_LENGTH - 3}})/?$`)

/** Parses a fragment (`location.hash`); anything that is not a share route is home. */
export function parseFragment(hash: string): LinkRoute {
  const code = CODE_FRAGMENT.exec(hash)
  if (code) return { page: 'join', text: safeDecode(code[1]!) ?? '' }
  const match = ROUTE.exec(hash)
  if (!match) return { page: 'home' }
  const fileId = safeDecode(match[1]!)?.toLowerCase()
  if (fileId === undefined || !FILE_ID_PATTERN.test(fileId)) return { page: 'bad-link', text: match[1]! }
  const key = match[2] !== undefined && isSecret(match[2]) ? { secret: match[2] } : {}
  if (match[3] === '/swarm') return { page: 'swarm', fileId, ...key }
  if (match[3] === '/present') return { page: 'present', fileId, ...key }
  return { page: 'file', fileId, ...key }
}

/** The page's route: its fragment, or a join code as the whole path (`<origin>/K7MQX4`, a short link to type or scan). */
export function parseLocation(pathname: string, hash: string): LinkRoute {
  const path = CODE_PATH.exec(pathname)
  if (path && (hash === '' || hash === '#')) return { page: 'join', text: path[1]! }
  return parseFragment(hash)
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

export type ParsedShareLink =
  | { ok: true; origin: string; url: URL; fileId: string; secret?: string }
  /** A join code's short link (`<origin>/K7MQX4` or `#/c/<code>`): the code, as typed, is resolved through the tracker. */
  | { ok: true; origin: string; url: URL; joinCode: string }
  | { ok: false; reason: 'not-a-link' | 'no-file-id' }

/** Parses a whole share link as typed or pasted (the command-line peer takes one). */
export function parseShareLink(text: string): ParsedShareLink {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { ok: false, reason: 'not-a-link' }
  }
  const route = parseLocation(url.pathname, url.hash)
  if (route.page === 'join') return { ok: true, origin: url.origin, url, joinCode: route.text }
  if (route.page !== 'file') return { ok: false, reason: 'no-file-id' }
  return { ok: true, origin: url.origin, url, fileId: route.fileId, ...(route.secret ? { secret: route.secret } : {}) }
}

/** The fragment of a file's transfer page (`#/f/<id>`, `#/f/<id>/<key>`), of its swarm view or of its present mode. */
export function fileFragment(fileId: string, view: 'transfer' | 'swarm' | 'present' = 'transfer', secret?: string): string {
  return `#/f/${fileId}${secret ? `/${secret}` : ''}${view === 'transfer' ? '' : `/${view}`}`
}

/** The short link of a join code: the app's origin and the code as the path. */
export function codeLink(origin: string, code: string): string {
  return `${origin}/${code}`
}

/** The link to share: the app's origin and the file's fragment, with a private file's key. */
export function shareLink(origin: string, fileId: string, secret?: string): string {
  return `${origin}/${fileFragment(fileId, 'transfer', secret)}`
}

export { STREAM_PATH, streamUrl, parseStreamPath } from './stream-path'
