// What the app may show of a file in the page, and the type it is served as. Only types browsers
// render without running the file's content: media, images, PDF, and text served as plain text.
// Anything else (HTML, scripts, unknown types) is served as a download, never rendered. Pure.

export type PreviewKind = 'video' | 'audio' | 'image' | 'pdf' | 'text'

export interface Preview {
  kind: PreviewKind | undefined
  /** The Content-Type the file is served with. */
  servedType: string
}

const DOWNLOAD = 'application/octet-stream'

const MEDIA_TYPES: Record<string, PreviewKind> = {
  'video/webm': 'video',
  'video/mp4': 'video',
  'video/ogg': 'video',
  'video/quicktime': 'video',
  'audio/webm': 'audio',
  'audio/mpeg': 'audio',
  'audio/mp4': 'audio',
  'audio/x-m4a': 'audio',
  'audio/aac': 'audio',
  'audio/ogg': 'audio',
  'audio/wav': 'audio',
  'audio/x-wav': 'audio',
  'audio/flac': 'audio',
  'image/png': 'image',
  'image/jpeg': 'image',
  'image/gif': 'image',
  'image/webp': 'image',
  'image/avif': 'image',
  'image/bmp': 'image',
  'image/svg+xml': 'image',
  'application/pdf': 'pdf',
}

/** Types by extension, for files shared without one (and the files inside a bundle). */
const EXTENSION_TYPES: Record<string, string> = {
  webm: 'video/webm',
  mkv: 'video/webm',
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  ogv: 'video/ogg',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  aac: 'audio/aac',
  ogg: 'audio/ogg',
  oga: 'audio/ogg',
  opus: 'audio/ogg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
  pdf: 'application/pdf',
  txt: 'text/plain',
  md: 'text/plain',
  csv: 'text/plain',
  json: 'text/plain',
  log: 'text/plain',
}

/** Text shown as text; never `text/html` or any type a browser would run. */
const TEXT_TYPES = new Set(['text/plain', 'text/markdown', 'text/csv', 'application/json', 'text/x-log'])
const TEXT = 'text/plain; charset=utf-8'

/** The preview and served type of a file of (claimed) `type`, named `name`. */
export function previewOf(type: string, name: string): Preview {
  const claimed = type.split(';')[0]!.trim().toLowerCase()
  const extension = /\.([a-z0-9]{1,8})$/i.exec(name)?.[1]?.toLowerCase()
  // The claimed type where it is one we show, else the name's (a browser may claim none, or a vague one).
  for (const candidate of [claimed, extension ? EXTENSION_TYPES[extension] : undefined]) {
    if (!candidate) continue
    const kind = MEDIA_TYPES[candidate]
    if (kind) return { kind, servedType: candidate }
    if (TEXT_TYPES.has(candidate)) return { kind: 'text', servedType: TEXT }
  }
  return { kind: undefined, servedType: DOWNLOAD }
}

/** Whether a preview of this kind is shown while the file still arrives (media plays, images draw); others wait for the whole file. */
export function previewsWhileArriving(kind: PreviewKind): boolean {
  return kind === 'video' || kind === 'audio' || kind === 'image'
}
