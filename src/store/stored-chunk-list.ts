import { Bitfield } from '../protocol/bitfield'

/**
 * The list of stored chunks is saved at most this long after a chunk is written: one IndexedDB
 * write for every chunk cost a fifth of the app's CPU per byte on a fast link.
 */
export const SAVE_DELAY_MS = 250

/**
 * Which chunks of a file kept in OPFS are written, and its saving to IndexedDB: soon after each
 * write, at once on `saveNow`. A background save that fails is kept as `lastError` (and logged
 * once) and tried again with the next write: it never surfaces in another, unrelated write.
 */
export class StoredChunkList {
  readonly have: Bitfield
  /** Why the last save failed; cleared by the next one that works. */
  lastError: unknown
  private timer: ReturnType<typeof setTimeout> | undefined
  private saving: Promise<void> | undefined
  private warned = false

  constructor(
    count: number,
    saved: Uint8Array | undefined,
    private readonly save: (have: Uint8Array) => Promise<void>,
  ) {
    this.have = new Bitfield(count, saved)
  }

  /** A chunk was written: the list is saved within SAVE_DELAY_MS. */
  written(index: number): void {
    this.have.set(index)
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.saveNow().catch((error: unknown) => {
        if (!this.warned) console.warn('The list of stored chunks could not be saved; it is tried again with the next chunk.', error)
        this.warned = true
      })
    }, SAVE_DELAY_MS)
  }

  /** Saves the list now, after any save under way; rejects when this save fails. */
  async saveNow(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.saving?.catch(() => undefined)
    const saving = this.save(this.have.bytes)
    this.saving = saving
    try {
      await saving
      this.lastError = undefined
    } catch (error) {
      this.lastError = error
      throw error
    }
  }

  /** No more saves (the file is deleted, or its bytes move elsewhere); resolves once one under way has ended. */
  async stop(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.saving?.catch(() => undefined)
  }
}
