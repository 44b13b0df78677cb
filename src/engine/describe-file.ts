import { sha256Hex } from '../protocol/encoding'
import {
  canonicalManifestJson,
  chooseChunkSize,
  chunkCount,
  MANIFEST_VERSION,
  MAX_BUNDLE_FILES,
  MAX_FILE_SIZE,
  MAX_NAME_LENGTH,
  type Manifest,
} from '../protocol/manifest'
import { MAX_TRACKER_FRAME_BYTES } from '../protocol/tracker'

/** A MIME type longer than this is cut. */
const MAX_TYPE_LENGTH = 255
/** A bundle path longer than this is cut. */
const MAX_PATH_LENGTH = 1024
/** Room left in a tracker frame around the manifest (the message's other fields). */
const FRAME_HEADROOM_BYTES = 1024
/** Control characters are replaced in names and paths. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g

export interface SourceFile {
  readonly name: string
  readonly size: number
  readonly type: string
  slice(start: number, end: number): Blob
}

/**
 * Builds the manifest of a file by hashing it chunk by chunk with File.slice: only one chunk
 * (plus the one being read ahead) is ever in memory.
 */
export async function describeFile(file: SourceFile, onChunk: (done: number, total: number) => void): Promise<Manifest> {
  if (file.size > MAX_FILE_SIZE) {
    throw new Error(`This file is too big to share: the limit is ${MAX_FILE_SIZE / 2 ** 30} GiB.`)
  }
  const chunkSize = chooseChunkSize(file.size)
  const total = chunkCount(file.size, chunkSize)
  const read = (index: number) => file.slice(index * chunkSize, Math.min(file.size, (index + 1) * chunkSize)).arrayBuffer()
  const hashes: string[] = []
  let next = total > 0 ? read(0) : undefined
  for (let index = 0; index < total; index++) {
    const bytes = await next!
    next = index + 1 < total ? read(index + 1) : undefined
    hashes.push(await sha256Hex(bytes))
    onChunk(index + 1, total)
  }
  return {
    v: MANIFEST_VERSION,
    name: truncate(file.name.replace(CONTROL_CHARACTERS, '_'), MAX_NAME_LENGTH) || 'file',
    size: file.size,
    type: truncate(file.type, MAX_TYPE_LENGTH),
    chunkSize,
    hashes,
  }
}

/** Cuts at a code point boundary so that no surrogate pair is split. */
function truncate(text: string, maxCodeUnits: number): string {
  let out = ''
  for (const char of text) {
    if (out.length + char.length > maxCodeUnits) break
    out += char
  }
  return out
}

export interface BundleEntry {
  /** Relative path inside the bundle, '/'-separated. */
  path: string
  file: Blob
}

/**
 * Several files (or a folder) as one shared item: the content is the files concatenated, read
 * through one Blob made of them (Chromium keeps it lazy and disk-backed), chunked like one file.
 */
export async function describeBundle(
  name: string,
  entries: BundleEntry[],
  onChunk: (done: number, total: number) => void,
): Promise<{ manifest: Manifest; content: Blob }> {
  if (entries.length > MAX_BUNDLE_FILES)
    throw new Error(`A bundle can hold at most ${MAX_BUNDLE_FILES} files; this one has ${entries.length}.`)
  const content = new Blob(entries.map((entry) => entry.file))
  const source: SourceFile = { name, size: content.size, type: '', slice: (start, end) => content.slice(start, end) }
  const manifest = await describeFile(source, onChunk)
  manifest.files = entries.map((entry) => ({ path: cleanPath(entry.path), size: entry.file.size }))
  // The manifest travels in one tracker message.
  if (canonicalManifestJson(manifest).length > MAX_TRACKER_FRAME_BYTES - FRAME_HEADROOM_BYTES) {
    throw new Error('The list of files is too long to share as one link: share fewer files, or zip them first.')
  }
  return { manifest, content }
}

/** A relative path safe to put in a manifest: no control characters, empty, "." or ".." parts. */
function cleanPath(path: string): string {
  const parts = path
    .replace(CONTROL_CHARACTERS, '_')
    .split(/[\\/]/)
    .filter((part) => part !== '' && part !== '.' && part !== '..')
  return truncate(parts.join('/') || 'file', MAX_PATH_LENGTH)
}
