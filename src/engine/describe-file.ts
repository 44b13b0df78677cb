import { sha256Hex } from '../protocol/encoding'
import {
  canonicalManifestJson,
  chooseChunkSize,
  chunkCount,
  MANIFEST_VERSION,
  MAX_BUNDLE_FILES,
  MAX_FILE_SIZE,
  maxFileSize,
  MAX_NAME_LENGTH,
  SEALED_MANIFEST_VERSION,
  type FileMeta,
  type Manifest,
} from '../protocol/manifest'
import { newSalt, RECORD_OVERHEAD, Seal } from '../protocol/sealed'
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
 * (plus the one being read ahead) is ever in memory. With a secret the manifest is sealed (a
 * private link's): each chunk is encrypted before it is hashed, and the name and type with it.
 */
/** `salt` gives a private file's earlier manifest again (with its `secret`): to check a file is the one shared before. */
export async function describeFile(
  file: SourceFile,
  onChunk: (done: number, total: number) => void,
  secret?: string,
  salt?: string,
): Promise<Manifest> {
  const meta = {
    name: cleanName(file.name),
    type: truncate(file.type, MAX_TYPE_LENGTH),
    size: file.size,
  }
  return describeContent(meta, file, onChunk, secret, salt)
}

async function describeContent(
  meta: FileMeta,
  source: Pick<SourceFile, 'slice'>,
  onChunk: (done: number, total: number) => void,
  secret?: string,
  salt = newSalt(),
): Promise<Manifest> {
  // Each encrypted chunk carries RECORD_OVERHEAD bytes more: a private file's limit is that much lower.
  if (meta.size > maxFileSize(secret === undefined ? 0 : RECORD_OVERHEAD)) {
    throw new Error(
      `This file is too big to share: the limit is ${secret === undefined ? '' : 'just under '}${MAX_FILE_SIZE / 2 ** 30} GiB.`,
    )
  }
  if (secret === undefined) {
    const chunkSize = chooseChunkSize(meta.size)
    const hashes = await hashChunks(meta.size, chunkSize, chunkCount(meta.size, chunkSize), source, onChunk, async (_, bytes) => bytes)
    return {
      v: MANIFEST_VERSION,
      name: meta.name,
      size: meta.size,
      type: meta.type,
      chunkSize,
      hashes,
      ...(meta.files ? { files: meta.files } : {}),
    }
  }
  const seal = await Seal.open(secret, salt)
  const chunkSize = chooseChunkSize(meta.size, RECORD_OVERHEAD)
  const count = Math.max(1, Math.ceil(meta.size / (chunkSize - RECORD_OVERHEAD)))
  const hashes = await hashChunks(meta.size, chunkSize - RECORD_OVERHEAD, count, source, onChunk, (index, bytes) =>
    seal.encryptChunk(index, bytes, index === count - 1),
  )
  const size = meta.size + count * RECORD_OVERHEAD
  return { v: SEALED_MANIFEST_VERSION, size, chunkSize, hashes, salt, meta: await seal.encryptMeta(JSON.stringify(meta)) }
}

/** Reads `count` parts of `partSize` bytes (one read ahead) and hashes each as `travel` makes it. */
async function hashChunks(
  size: number,
  partSize: number,
  count: number,
  source: Pick<SourceFile, 'slice'>,
  onChunk: (done: number, total: number) => void,
  travel: (index: number, bytes: Uint8Array<ArrayBuffer>) => Promise<Uint8Array<ArrayBuffer>>,
): Promise<string[]> {
  const read = (index: number) => source.slice(index * partSize, Math.min(size, (index + 1) * partSize)).arrayBuffer()
  const hashes: string[] = []
  let next = count > 0 ? read(0) : undefined
  for (let index = 0; index < count; index++) {
    const bytes = new Uint8Array(await next!)
    next = index + 1 < count ? read(index + 1) : undefined
    hashes.push(await sha256Hex(await travel(index, bytes)))
    onChunk(index + 1, count)
  }
  return hashes
}

/** A name safe to put in a manifest: control characters replaced, cut to MAX_NAME_LENGTH, never empty. */
function cleanName(name: string): string {
  return truncate(name.replace(CONTROL_CHARACTERS, '_'), MAX_NAME_LENGTH) || 'file'
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

/** The entries with a repeated path renamed `name (2).ext`, `name (3).ext`, … so every path in a bundle is unique. */
export function withUniquePaths(entries: BundleEntry[]): BundleEntry[] {
  const seen = new Set<string>()
  return entries.map(({ path, file }) => {
    let candidate = path
    for (let n = 2; seen.has(candidate); n++) candidate = path.replace(/(\.[^./]*)?$/, ` (${n})$1`)
    seen.add(candidate)
    return { path: candidate, file }
  })
}

/**
 * Several files (or a folder) as one shared item: the content is the files concatenated, read
 * through one Blob made of them (Chromium keeps it lazy and disk-backed), chunked like one file.
 */
export async function describeBundle(
  name: string,
  entries: BundleEntry[],
  onChunk: (done: number, total: number) => void,
  secret?: string,
): Promise<{ manifest: Manifest; content: Blob }> {
  if (entries.length > MAX_BUNDLE_FILES)
    throw new Error(`A bundle can hold at most ${MAX_BUNDLE_FILES} files; this one has ${entries.length}.`)
  const content = new Blob(entries.map((entry) => entry.file))
  const meta: FileMeta = {
    name: cleanName(name),
    type: '',
    size: content.size,
    files: entries.map((entry) => ({ path: cleanPath(entry.path), size: entry.file.size })),
  }
  const manifest = await describeContent(meta, content, onChunk, secret)
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
