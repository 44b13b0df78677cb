import type { ContentLayout } from '../protocol/manifest'
import { playbackWindows, windowBytes } from '../core/playback-window'

/** Bytes handed on at a time: a big chunk (up to 64 MiB) is passed to the player in slices. */
export const MAX_SLICE_BYTES = 1024 * 1024

/** What a file session lends its playback. */
export interface PlaybackHooks {
  /** Where the file's own bytes lie (a private file's decrypted). */
  layout: ContentLayout
  has: (index: number) => boolean
  /** A stored chunk (a private file's decrypted); undefined if it is gone after all. */
  read: (index: number) => Promise<Uint8Array<ArrayBuffer> | undefined>
  /** The chunks to fetch before any other, in order. */
  prioritize: (indexes: number[]) => void
}

/** Reading stopped because the file was removed (or its session closed). */
export class PlaybackClosed extends Error {
  constructor() {
    super('The file was removed from this browser.')
  }
}

/**
 * A file read while it arrives, by a media player or a preview: each reader gets its bytes in
 * order, waiting for the chunks not here yet, and where the readers are is what the downloader
 * fetches first (a window of a few seconds of media ahead of each, the newest reader's first).
 */
export class Playback {
  private bytesPerSecond: number | undefined
  /** Each reader's position, the most recently moved last. */
  private readonly positions = new Map<object, number>()
  private readonly waiting = new Map<number, (() => void)[]>()
  /** Chunks a player will ask for first, before it asks (the head, and the end where indexes live). */
  private expected: number[] = []
  private closed = false

  constructor(private readonly hooks: PlaybackHooks) {}

  /** The player knows the media's bitrate (its size over its duration): the window is sized from it. */
  setBitrate(bytesPerSecond: number): void {
    if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return
    this.bytesPerSecond = bytesPerSecond
    this.update()
  }

  /**
   * A player will open this file: its first chunks and its last (where WebM cues or an MP4's
   * index often lie) are fetched first, so the first frame does not wait behind chunks asked for
   * before the player's request came.
   */
  expectPlayer(): void {
    const { layout } = this.hooks
    if (layout.count === 0) return
    this.expected = [...new Set([0, Math.min(1, layout.count - 1), layout.count - 1])]
    this.update()
  }

  /**
   * Bytes [start, end) of the file's own bytes, in order, in slices of at most MAX_SLICE_BYTES
   * (each its own buffer). `stop` ends a read that waits for a chunk (a player that seeks elsewhere).
   */
  async *read(start: number, end: number, stop?: AbortSignal): AsyncGenerator<Uint8Array<ArrayBuffer>> {
    const reader = {}
    try {
      let position = start
      while (position < end) {
        if (this.closed) throw new PlaybackClosed()
        const { chunkSize } = this.hooks.layout
        const index = Math.floor(position / chunkSize)
        this.move(reader, position)
        const chunk = await this.chunk(index, stop)
        if (!chunk) return
        const chunkStart = index * chunkSize
        const to = Math.min(chunk.length, end - chunkStart)
        if (to <= position - chunkStart) return
        for (let at = position - chunkStart; at < to; at += MAX_SLICE_BYTES) {
          yield chunk.slice(at, Math.min(to, at + MAX_SLICE_BYTES))
        }
        position = chunkStart + to
      }
    } finally {
      this.positions.delete(reader)
      this.update()
    }
  }

  /** A chunk is verified and stored: readers waiting for it go on. */
  arrived(index: number): void {
    const waiters = this.waiting.get(index)
    this.waiting.delete(index)
    for (const wake of waiters ?? []) wake()
  }

  /** The file is gone: every reader stops with PlaybackClosed. */
  close(): void {
    this.closed = true
    const waiters = [...this.waiting.values()].flat()
    this.waiting.clear()
    for (const wake of waiters) wake()
  }

  /** The stored chunk, once it is here; undefined if `stop` came first. */
  private async chunk(index: number, stop: AbortSignal | undefined): Promise<Uint8Array<ArrayBuffer> | undefined> {
    for (;;) {
      if (this.closed) throw new PlaybackClosed()
      if (stop?.aborted) return undefined
      if (this.hooks.has(index)) {
        const bytes = await this.hooks.read(index)
        if (bytes) return bytes
        if (this.closed) throw new PlaybackClosed()
        if (this.hooks.has(index)) throw new Error(`Chunk ${index + 1} could not be read back from this browser's storage.`)
      }
      await new Promise<void>((wake) => {
        const list = this.waiting.get(index) ?? []
        list.push(wake)
        this.waiting.set(index, list)
        stop?.addEventListener('abort', () => wake(), { once: true })
      })
    }
  }

  private move(reader: object, position: number): void {
    this.positions.delete(reader)
    this.positions.set(reader, position)
    this.update()
  }

  private update(): void {
    const { layout } = this.hooks
    if (this.closed) return
    const newestFirst = [...this.positions.values()].reverse()
    const windows = playbackWindows(layout, newestFirst, windowBytes(layout, this.bytesPerSecond))
    this.hooks.prioritize([...new Set([...windows, ...this.expected])])
  }
}
