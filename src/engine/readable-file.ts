import { bundleOffsets, type FileMeta } from '../protocol/manifest'
import { previewOf } from '../core/preview-kind'
import type { FileContent } from './file-content'
import type { Playback } from './playback'

/** A file (or one file of a bundle) to read while it arrives: for a player, a preview, the Service Worker's answers. */
export interface ReadableFile {
  name: string
  /** The type its sharer gave (empty if none; a bundle's files have none). */
  type: string
  size: number
  /** Bytes [start, end) of this file, waiting for the ones not here yet, until `stop`. */
  read(start: number, end: number, stop?: AbortSignal): AsyncGenerator<Uint8Array<ArrayBuffer>>
  /** Its media plays `seconds` long: the window fetched ahead is sized from that. */
  setDuration(seconds: number): void
}

/** The whole file, or the file at `path` of a bundle; undefined when the bundle has no such path. */
export function readableFile(content: FileContent, playback: Playback, path?: string): ReadableFile | undefined {
  const { meta } = content
  const part = path === undefined ? { path: meta.name, size: meta.size, offset: 0 } : bundlePart(meta, path)
  if (!part) return undefined
  const { offset, size } = part
  return {
    name: part.path,
    type: path === undefined ? meta.type : '',
    size,
    read: (start, end, stop) => playback.read(offset + Math.max(0, start), offset + Math.min(size, end), stop),
    setDuration: (seconds) => playback.setBitrate(size / seconds),
  }
}

/** The file at `path` of a bundle and where its bytes lie in the bundle's content; undefined if it has none. */
export function bundlePart(meta: FileMeta, path: string): { path: string; size: number; offset: number } | undefined {
  return bundleOffsets(meta.files ?? []).find((file) => file.path === path)
}

/** Whether the page will play this file (not a bundle): video or audio. */
export function playsInPage(meta: FileMeta): boolean {
  const { kind } = previewOf(meta.type, meta.name)
  return !meta.files && (kind === 'video' || kind === 'audio')
}
