import { firstIssue, z } from './zod'
import { sha256Hex, utf8Bytes, utf8Length } from './encoding'
import { RECORD_OVERHEAD, SALT_BYTES } from './sealed'
import { FILE_ID_PATTERN } from './file-id'

// A manifest pins exact content: the file id is the SHA-256 of its canonical encoding. A public
// manifest (v1) names the file; a sealed one (v2, a private link's) carries its name, type and
// bundle paths encrypted, and chunk hashes over the encrypted chunks (see sealed.ts).
export const MANIFEST_VERSION = 1
export const SEALED_MANIFEST_VERSION = 2
export const MIN_CHUNK_SIZE = 256 * 1024
export const MAX_CHUNK_SIZE = 64 * 1024 * 1024
/** Chunk size grows with the file so that no manifest lists more chunks than this. */
export const TARGET_MAX_CHUNKS = 2048
export const MAX_FILE_SIZE = MAX_CHUNK_SIZE * TARGET_MAX_CHUNKS
export const MAX_NAME_LENGTH = 255
export const MAX_TYPE_LENGTH = 255
/** A bundle (several files or a folder) lists at most this many files. */
export const MAX_BUNDLE_FILES = 1000
export const MAX_PATH_LENGTH = 1024
/**
 * A manifest's canonical encoding is at most this many bytes, so that the tracker's location reply
 * (the manifest plus peers) always fits one frame: 2048 chunk hashes take about 137 KB.
 */
export const MAX_MANIFEST_BYTES = 160 * 1024

/** One file of a bundle: its place in the concatenated content is the sum of the sizes before it. */
export interface BundleFile {
  /** Relative, '/'-separated, e.g. "photos/2026/beach.jpg". */
  path: string
  size: number
}

/** A listed share's manifest: everyone who sees it sees the file's name. */
export interface PublicManifest {
  v: typeof MANIFEST_VERSION
  name: string
  size: number
  type: string
  chunkSize: number
  /** Lowercase hex SHA-256 of every chunk, in order. */
  hashes: string[]
  /** Present for a bundle: the files, concatenated in this order, make up the content. */
  files?: BundleFile[]
}

/** A private link's manifest: sizes and hashes are of the encrypted chunks; `meta` opens only with the link's secret. */
export interface SealedManifest {
  v: typeof SEALED_MANIFEST_VERSION
  /** Bytes of the encrypted content (each chunk carries RECORD_OVERHEAD more than its part of the file). */
  size: number
  chunkSize: number
  hashes: string[]
  /** base64url, SALT_BYTES random bytes. */
  salt: string
  /** base64url of the encrypted metadata (`FileMeta` as JSON). */
  meta: string
}

export type Manifest = PublicManifest | SealedManifest

/** A listed file: its manifest is in the clear (name and all), and the tracker lists it. A private link's is sealed. */
export function isListed(manifest: Manifest): manifest is PublicManifest {
  return manifest.v === 1
}

/** What a file is: a public manifest says it, a sealed one says it to whoever holds the secret. */
export interface FileMeta {
  name: string
  type: string
  /** Bytes of the file itself. */
  size: number
  files?: BundleFile[]
}

/** Where a file's own bytes (not its encrypted chunks) lie: a holder stores and saves them so. */
export interface ContentLayout {
  size: number
  chunkSize: number
  count: number
}

export { FILE_ID_PATTERN }
export const fileIdSchema = z.string().regex(FILE_ID_PATTERN, 'a file id is 64 lowercase hex characters')

/**
 * The smallest chunk size at which `size` bytes fit in TARGET_MAX_CHUNKS chunks, each chunk
 * carrying `overhead` bytes beside its part of the file (a sealed chunk's RECORD_OVERHEAD).
 */
export function chooseChunkSize(size: number, overhead = 0): number {
  if (size > maxFileSize(overhead)) throw new RangeError(`${size} bytes do not fit in ${TARGET_MAX_CHUNKS} chunks`)
  let chunkSize = MIN_CHUNK_SIZE
  while (chunkSize < MAX_CHUNK_SIZE && size > (chunkSize - overhead) * TARGET_MAX_CHUNKS) chunkSize *= 2
  return chunkSize
}

/** The largest file that fits: TARGET_MAX_CHUNKS of the largest chunks, less each chunk's `overhead`. */
export function maxFileSize(overhead = 0): number {
  return (MAX_CHUNK_SIZE - overhead) * TARGET_MAX_CHUNKS
}

export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}

export function chunkLength(manifest: Pick<Manifest, 'size' | 'chunkSize'>, index: number): number {
  const start = index * manifest.chunkSize
  return Math.max(0, Math.min(manifest.chunkSize, manifest.size - start))
}

// Control characters would let a name spoof what a user sees or saves.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/

const isPowerOfTwo = (n: number) => Number.isInteger(Math.log2(n))

/** A relative path with no way out of the folder it is saved in. */
function isSafeRelativePath(path: string): boolean {
  if (CONTROL_CHARS.test(path) || path.includes('\\') || path.startsWith('/')) return false
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..')
}

const bundleFileSchema = z
  .object({
    path: z.string().min(1).max(MAX_PATH_LENGTH).refine(isSafeRelativePath, 'a bundle path is relative, with no empty, "." or ".." parts'),
    size: z.number().int().min(0).max(MAX_FILE_SIZE),
  })
  .strict()

const nameSchema = z
  .string()
  .min(1, 'a file name is required')
  .max(MAX_NAME_LENGTH)
  .refine((name) => !CONTROL_CHARS.test(name), 'the file name has control characters')
const sizeSchema = z.number().int().min(0).max(MAX_FILE_SIZE)
const chunkSizeSchema = z.number().int().min(MIN_CHUNK_SIZE).max(MAX_CHUNK_SIZE).refine(isPowerOfTwo, 'the chunk size is a power of two')
const hashesSchema = z.array(z.string().regex(FILE_ID_PATTERN, 'a chunk hash is 64 lowercase hex characters')).max(TARGET_MAX_CHUNKS)
const filesSchema = z.array(bundleFileSchema).min(1).max(MAX_BUNDLE_FILES)
const BASE64URL = /^[A-Za-z0-9_-]*$/

/** The bundle's files add up to the size and name no path twice. */
function bundleChecks<T extends { size: number; files?: BundleFile[] | undefined }>(schema: z.ZodType<T>) {
  return schema
    .refine((m) => !m.files || m.files.reduce((sum, file) => sum + file.size, 0) === m.size, {
      message: 'the bundle file sizes do not add up to the size',
      path: ['files'],
    })
    .refine((m) => !m.files || new Set(m.files.map((file) => file.path)).size === m.files.length, {
      message: 'a bundle lists the same path twice',
      path: ['files'],
    })
}

export const publicManifestSchema = bundleChecks(
  z
    .object({
      v: z.literal(MANIFEST_VERSION),
      name: nameSchema,
      size: sizeSchema,
      type: z.string().max(MAX_TYPE_LENGTH),
      chunkSize: chunkSizeSchema,
      hashes: hashesSchema,
      files: filesSchema.optional(),
    })
    .strict(),
).refine((m) => m.hashes.length === chunkCount(m.size, m.chunkSize), {
  message: 'the number of chunk hashes does not match the size and chunk size',
  path: ['hashes'],
})

export const sealedManifestSchema = z
  .object({
    v: z.literal(SEALED_MANIFEST_VERSION),
    size: sizeSchema,
    chunkSize: chunkSizeSchema,
    hashes: hashesSchema.min(1),
    salt: z
      .string()
      .length(Math.ceil((SALT_BYTES * 4) / 3))
      .regex(BASE64URL, 'the salt is base64url'),
    meta: z.string().min(1).max(MAX_MANIFEST_BYTES).regex(BASE64URL, 'the metadata is base64url'),
  })
  .strict()
  .refine((m) => m.hashes.length === chunkCount(m.size, m.chunkSize), {
    message: 'the number of chunk hashes does not match the size and chunk size',
    path: ['hashes'],
  })
  .refine((m) => chunkLength(m, m.hashes.length - 1) >= RECORD_OVERHEAD, {
    message: 'the last encrypted chunk is too short',
    path: ['size'],
  })

export const manifestSchema = z
  .union([publicManifestSchema, sealedManifestSchema])
  .refine((m) => utf8Length(canonicalManifestJson(m as Manifest)) <= MAX_MANIFEST_BYTES, {
    message: `a manifest is at most ${MAX_MANIFEST_BYTES} bytes`,
  })

/** The metadata a sealed manifest carries, as its holder reads it once decrypted. */
export const fileMetaSchema = bundleChecks(
  z.object({ name: nameSchema, type: z.string().max(MAX_TYPE_LENGTH), size: sizeSchema, files: filesSchema.optional() }).strict(),
)

/** The one canonical encoding: fixed key order, no whitespace; `files` only for a bundle. */
export function canonicalManifestJson(m: Manifest): string {
  if (m.v === SEALED_MANIFEST_VERSION)
    return JSON.stringify({ v: m.v, size: m.size, chunkSize: m.chunkSize, hashes: m.hashes, salt: m.salt, meta: m.meta })
  const files = m.files ? { files: m.files.map(({ path, size }) => ({ path, size })) } : {}
  return JSON.stringify({ v: m.v, name: m.name, size: m.size, type: m.type, chunkSize: m.chunkSize, hashes: m.hashes, ...files })
}

/** Where each file of a bundle starts in the concatenated content. */
export function bundleOffsets(files: BundleFile[]): { path: string; size: number; offset: number }[] {
  let offset = 0
  return files.map(({ path, size }) => {
    const start = offset
    offset += size
    return { path, size, offset: start }
  })
}

export function fileIdOf(m: Manifest): Promise<string> {
  return sha256Hex(utf8Bytes(canonicalManifestJson(m)))
}

/** Where the file's own bytes lie: for a sealed manifest, each chunk less its RECORD_OVERHEAD (no key needed). */
export function contentLayout(m: Manifest): ContentLayout {
  const count = m.hashes.length
  if (m.v === MANIFEST_VERSION) return { size: m.size, chunkSize: m.chunkSize, count }
  return { size: m.size - count * RECORD_OVERHEAD, chunkSize: m.chunkSize - RECORD_OVERHEAD, count }
}

/** Where the chunks lie as they travel (a keeper holds a private file so, encrypted): the manifest's own fields. */
export function wireLayout(m: Manifest): ContentLayout {
  return { size: m.size, chunkSize: m.chunkSize, count: m.hashes.length }
}

/** A public manifest's metadata (a sealed one's must be decrypted: see engine/sealed-files.ts). */
export function publicMeta(m: PublicManifest): FileMeta {
  return m.files ? { name: m.name, type: m.type, size: m.size, files: m.files } : { name: m.name, type: m.type, size: m.size }
}

/** Validates untrusted manifest data (a tracker reply, an IndexedDB record). */
export function parseManifest(data: unknown): { ok: true; manifest: Manifest } | { ok: false; message: string } {
  const schema = (data as { v?: unknown } | null)?.v === SEALED_MANIFEST_VERSION ? sealedManifestSchema : publicManifestSchema
  const checked = schema.safeParse(data)
  if (!checked.success) return { ok: false, message: `invalid manifest: ${firstIssue(checked.error, 'manifest')}` }
  const result = manifestSchema.safeParse(checked.data)
  if (result.success) return { ok: true, manifest: result.data }
  return { ok: false, message: `invalid manifest: ${firstIssue(result.error, 'manifest')}` }
}
