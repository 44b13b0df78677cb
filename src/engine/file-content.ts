import {
  contentLayout,
  fileIdOf,
  fileMetaSchema,
  isListed,
  publicMeta,
  wireLayout,
  type ContentLayout,
  type FileMeta,
  type Manifest,
} from '../protocol/manifest'
import { isSecret, newSecret, Seal, SealBroken } from '../protocol/sealed'
import type { ChunkReader, LibraryEntry, LibraryRole } from '../core/ports'
import type { TransferNotice } from '../core/transfer-state'

/**
 * A file as its holder knows it: what it is, where its own bytes lie, and how a chunk changes
 * between the store (the file's bytes) and the wire (as the manifest hashes it). For a public
 * file both are the same; for a private one the wire carries each chunk encrypted.
 */
export interface FileContent {
  meta: FileMeta
  layout: ContentLayout
  /** The link's secret of a private file; undefined for a public one. */
  secret: string | undefined
  /** A verified chunk as it travelled, as it is stored (decrypted); throws SealBroken if it does not open. */
  toStored(index: number, bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>>
  /** A stored chunk as it travels (encrypted). */
  toWire(index: number, bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>>
}

/** Why a private file's manifest cannot be opened with what the link carries. */
export type OpenFailure = 'incomplete-link' | 'wrong-key'

const same = async (_index: number, bytes: Uint8Array<ArrayBuffer>) => bytes

/**
 * What a peer may do with a file: its key (a private link's), whether it holds it as a keeper
 * (without a key), and whether its sharer lets the tracker point keepers at it.
 */
export type FileAccess = { secret?: string | undefined; keeper?: boolean | undefined; keepers?: boolean | undefined }

/** The access a library entry recorded. */
export function accessOf(entry: LibraryEntry): FileAccess {
  return { secret: entry.secret, keeper: entry.kept, keepers: entry.keepers }
}

/** The library entry of a file held with this access (what `accessOf` reads back). */
export function entryOf(
  fileId: string,
  role: LibraryRole,
  content: FileContent,
  access: FileAccess,
  times: { addedAt: number; updatedAt: number },
  paused: boolean,
): LibraryEntry {
  const { name, size } = content.meta
  const flags = { ...(access.keeper ? { kept: true } : {}), ...(access.keepers ? { keepers: true } : {}) }
  return { fileId, name, size, ...(content.secret ? { secret: content.secret } : {}), ...flags, role, ...times, paused }
}

/** A new share's access: private (a new key) unless listed; open to keepers only where the sharer allows it. */
export function shareAccess(options: { listed?: boolean; keepers?: boolean }): FileAccess {
  return options.listed ? {} : { secret: newSecret(), keepers: options.keepers === true }
}

/**
 * Opens a manifest with what the link gave. A keeper holds and serves the chunks as they travel
 * (a private file's encrypted) and knows the file only by its id.
 */
export async function openContent(manifest: Manifest, access: FileAccess): Promise<FileContent | OpenFailure> {
  if (access.keeper) {
    const layout = wireLayout(manifest)
    const meta = { name: isListed(manifest) ? manifest.name : 'an encrypted file', type: '', size: manifest.size }
    return { meta, layout, secret: undefined, toStored: same, toWire: same }
  }
  const { secret } = access
  const layout = contentLayout(manifest)
  if (isListed(manifest)) return { meta: publicMeta(manifest), layout, secret: undefined, toStored: same, toWire: same }
  if (secret === undefined || !isSecret(secret)) return 'incomplete-link'
  const seal = await Seal.open(secret, manifest.salt)
  let meta: FileMeta
  try {
    meta = readMeta(await seal.decryptMeta(manifest.meta))
  } catch (error) {
    if (error instanceof SealBroken || error instanceof SyntaxError || error instanceof MetaRefused) return 'wrong-key'
    throw error
  }
  // Metadata that does not describe these chunks would save a file of the wrong size.
  if (meta.size !== layout.size) return 'wrong-key'
  const last = layout.count - 1
  return {
    meta,
    layout,
    secret,
    toStored: (index, bytes) => seal.decryptChunk(index, bytes, index === last),
    toWire: (index, bytes) => seal.encryptChunk(index, bytes, index === last),
  }
}

class MetaRefused extends Error {}

/** The one check of decrypted metadata: the sharer held the key, but that does not make it honest. */
function readMeta(json: string): FileMeta {
  const result = fileMetaSchema.safeParse(JSON.parse(json))
  if (!result.success) throw new MetaRefused()
  const { files, ...rest } = result.data
  return files ? { ...rest, files } : rest
}

/**
 * The checks of a manifest the tracker sent for a link: it hashes to the link's id, opens with
 * what the link gave, and fits in the space the browser allows. The content, or why not.
 */
export async function openLocated(
  fileId: string,
  manifest: Manifest,
  access: FileAccess,
  spaceAvailable: () => Promise<number | undefined>,
): Promise<FileContent | TransferNotice> {
  if ((await fileIdOf(manifest)) !== fileId) return { kind: 'wrong-file' }
  const content = await openContent(manifest, access)
  if (typeof content === 'string') return { kind: content }
  const space = await spaceAvailable()
  if (space !== undefined && content.meta.size > space)
    return { kind: 'no-space', name: content.meta.name, needed: content.meta.size, available: space }
  return content
}

/** A store's chunks as the wire carries them (a private file's encrypted), to serve them. */
export function asTheWireCarries(stored: ChunkReader, content: () => FileContent | undefined): ChunkReader {
  return {
    readChunk: async (fileId, index) => {
      const bytes = await stored.readChunk(fileId, index)
      const known = content()
      return bytes && known ? known.toWire(index, bytes) : undefined
    },
    storedChunks: (fileId) => stored.storedChunks(fileId),
  }
}
