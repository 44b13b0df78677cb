import { sha256Hex } from '../protocol/encoding'
import { SealBroken } from '../protocol/sealed'
import type { Manifest } from '../protocol/manifest'
import { StoreError, type ChunkWriter } from '../core/ports'
import type { StoreOutcome } from './downloader'

/** Corrupt chunks a peer may send; at this many it is banned. */
export const BAD_CHUNKS_BEFORE_BAN = 3

export interface ChunkCheckerDeps {
  fileId: string
  manifest: Manifest
  /** A verified chunk as the store keeps it (a private file's decrypted); throws SealBroken when it does not open. */
  toStored: (index: number, bytes: Uint8Array<ArrayBuffer>) => Promise<Uint8Array<ArrayBuffer>>
  /** A chunk matched its hash but does not open with the link's key: the file cannot be read. */
  onUnopenable: () => void
  /** Undefined for a store that only seeds. */
  writer: ChunkWriter | undefined
  isClosed: () => boolean
  /** Whether the chunk counts as held now. */
  has: (index: number) => boolean
  ban: (peerId: string, reason: string) => void
  /** Storing failed (full, or broken): the session pauses, keeping what it has. */
  onStorageFailed: (detail: string | undefined) => void
  /** A stored chunk failed its check: it no longer counts as held. */
  onDamaged: (index: number) => void
}

/**
 * Every chunk of one file checked against the manifest's SHA-256: a received one before it is
 * stored (a private file's then decrypted), a stored one once before its first upload (a damaged
 * one withdrawn).
 */
export class ChunkChecker {
  /** Corrupt chunks received per peer. */
  private readonly strikes = new Map<string, number>()
  /** Stored chunks checked against their hash since this session began (checked once before serving). */
  private readonly verified = new Set<number>()
  /** Chunks whose copy is being verified and stored: later copies are dropped. */
  private readonly storing = new Set<number>()
  /** Chunk writes under way, so removing the file can wait for them before deleting. */
  private readonly writes = new Set<Promise<void>>()

  constructor(private readonly deps: ChunkCheckerDeps) {}

  isStoring(index: number): boolean {
    return this.storing.has(index)
  }

  isVerified(index: number): boolean {
    return this.verified.has(index)
  }

  /** A whole chunk received from a peer: stored if its hash matches; a peer that keeps sending bad ones is banned. */
  async storeVerified(peerId: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<StoreOutcome> {
    const { deps } = this
    this.storing.add(index)
    try {
      if ((await sha256Hex(bytes)) !== deps.manifest.hashes[index]) {
        const strikes = (this.strikes.get(peerId) ?? 0) + 1
        this.strikes.set(peerId, strikes)
        if (strikes >= BAD_CHUNKS_BEFORE_BAN) deps.ban(peerId, 'sent corrupt data repeatedly')
        return 'rejected'
      }
      if (deps.isClosed() || !deps.writer) return 'rejected' // removed meanwhile: nothing may be written after close
      let stored: Uint8Array<ArrayBuffer>
      try {
        stored = await deps.toStored(index, bytes)
      } catch (error) {
        if (!(error instanceof SealBroken)) throw error
        deps.onUnopenable()
        return 'rejected'
      }
      const write = deps.writer.putChunk(deps.fileId, index, stored)
      this.writes.add(write)
      try {
        await write
      } catch (error) {
        // Nothing stored is lost: the session pauses with the reason, so the user can free space and resume.
        deps.onStorageFailed(storeErrorDetail(error))
        return 'rejected'
      } finally {
        this.writes.delete(write)
      }
    } finally {
      this.storing.delete(index)
    }
    this.verified.add(index)
    return 'stored'
  }

  /** Checks a stored chunk before its first upload; a damaged one is withdrawn (and fetched again). */
  async checkStored(index: number, bytes: Uint8Array<ArrayBuffer>): Promise<boolean> {
    if ((await sha256Hex(bytes)) === this.deps.manifest.hashes[index]) {
      this.verified.add(index)
      return true
    }
    if (this.deps.has(index)) this.deps.onDamaged(index)
    return false
  }

  /** Resolves once every chunk write that had started has finished (after close: none start). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.writes])
  }
}

/** The store's own sentence for a failure, or undefined for an unexpected one (logged). */
export function storeErrorDetail(error: unknown): string | undefined {
  if (error instanceof StoreError) return error.message
  console.warn('Browser storage failed', error)
  return undefined
}
