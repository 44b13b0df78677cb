// The messages on a stream port: the Service Worker asks the engine for a file's bytes on behalf
// of a player's (or preview's) HTTP request, over a MessageChannel of its own, and the bytes come
// back on it from the engine's worker straight to the Service Worker, never through the page.
// No imports: the Service Worker's bundle uses it.

/** What the Service Worker posts to a page, with the port of one request. */
export const STREAM_PORT_MESSAGE = 'tabswarm-stream-port'

export type StreamRequest =
  /** The request: a file, perhaps one file of a bundle, and its Range header. */
  | { type: 'open'; fileId: string; path?: string | undefined; range: string | null }
  /** The next bytes, please (one answer each). */
  | { type: 'pull' }
  /** The player stopped reading (it seeks elsewhere, or the page closed). */
  | { type: 'cancel' }

export type StreamAnswer =
  | { type: 'head'; status: 200 | 206; start: number; end: number; size: number; contentType: string; name: string; inline: boolean }
  | { type: 'refused'; status: 404 | 416; size: number | undefined; message: string }
  | { type: 'data'; bytes: ArrayBuffer }
  | { type: 'end' }
  | { type: 'failed'; message: string }
