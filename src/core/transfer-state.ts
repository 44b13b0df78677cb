// The state a file is in, and why, as typed values: the UI and the CLI turn them into sentences.

export type TransferState = 'hashing' | 'seeding' | 'locating' | 'downloading' | 'stalled' | 'paused' | 'complete' | 'error'

/** Chunk indexes, 0-based, first..last inclusive. */
export type ChunkRange = readonly [first: number, last: number]

/** Why a transfer is in error, paused or stalled. */
export type TransferNotice =
  /** The tracker knows no one sharing the file. */
  | { kind: 'not-shared' }
  | { kind: 'tracker-refused'; reason: string }
  /** The manifest the tracker sent does not hash to the link's file id. */
  | { kind: 'wrong-file' }
  /** A private file's link without its key (the part after the file id). */
  | { kind: 'incomplete-link' }
  /** A private file's link whose key does not open the file. */
  | { kind: 'wrong-key' }
  | { kind: 'no-space'; name: string; needed: number; available: number }
  /** Storage failed; `detail` is the store's own sentence when it has one. */
  | { kind: 'storage-failed'; detail: string | undefined }
  /** Storage failed mid-download, so it paused, keeping `have` of `total` chunks. */
  | { kind: 'storage-paused'; detail: string | undefined; have: number; total: number }
  /** A file being shared could not be read (moved, deleted, permission gone). */
  | { kind: 'unreadable'; name: string }
  | { kind: 'paused'; complete: boolean }
  /** Held before the first chunk: a private window keeps downloads only until it closes (and maybe in memory). */
  | { kind: 'private-window'; size: number; holdAbove: number }
  /** No connected or known peer holds the chunks still needed. */
  | { kind: 'waiting'; ranges: ChunkRange[]; more: boolean; needed: number; total: number }
  /** Downloading, but only through the service's relay: no direct connection could be made. */
  | { kind: 'relayed'; bytesPerSecond: number | undefined }

export interface TransferFacts {
  role: 'shared' | 'downloaded'
  /** Set by a failure; cleared by a retry. */
  failure: TransferNotice | undefined
  paused: boolean
  /** Why it paused, when not the user's choice. */
  pauseReason: TransferNotice | undefined
  /** Undefined until the manifest is known. */
  chunks: { total: number; complete: boolean; missing: () => number[] } | undefined
  /** Some peer, connected or being connected, may hold a missing chunk. */
  reachable: (missing: number[]) => boolean
  /** Every peer that sends data is reached through the service's relay (at up to this many bytes a second). */
  relayedOnly?: { bytesPerSecond: number | undefined } | undefined
}

export interface TransferStatus {
  state: TransferState
  notice: TransferNotice | undefined
}

/** Ranges shown to people are capped at this many. */
export const MAX_SHOWN_RANGES = 4

export function transferStatus(facts: TransferFacts): TransferStatus {
  const { chunks } = facts
  if (facts.failure) return { state: 'error', notice: facts.failure }
  if (!chunks) return { state: facts.role === 'shared' ? 'seeding' : 'locating', notice: undefined }
  if (facts.paused) return { state: 'paused', notice: facts.pauseReason ?? { kind: 'paused', complete: chunks.complete } }
  if (chunks.complete) return { state: facts.role === 'shared' ? 'seeding' : 'complete', notice: undefined }
  const missing = chunks.missing()
  if (facts.reachable(missing)) {
    const relayed = facts.relayedOnly
    return { state: 'downloading', notice: relayed && { kind: 'relayed', bytesPerSecond: relayed.bytesPerSecond } }
  }
  return { state: 'stalled', notice: { kind: 'waiting', ...compactRanges(missing), needed: missing.length, total: chunks.total } }
}

/** Ranges as people count chunks, from 1: [[0,2],[6,6]] → "1–3, 7", with "…" when more were left out. */
export function formatChunkRanges(ranges: readonly ChunkRange[], more: boolean): string {
  const shown = ranges.map(([a, b]) => (a === b ? `${a + 1}` : `${a + 1}–${b + 1}`))
  if (more) shown.push('…')
  return shown.join(', ')
}

/** Sorted indexes as ranges: [1,2,3,7] → [[1,3],[7,7]], the first `max` of them. */
export function compactRanges(indexes: number[], max = MAX_SHOWN_RANGES): { ranges: ChunkRange[]; more: boolean } {
  const ranges: [number, number][] = []
  for (const index of indexes) {
    const last = ranges[ranges.length - 1]
    if (last && index === last[1] + 1) last[1] = index
    else if (ranges.length === max) return { ranges, more: true }
    else ranges.push([index, index])
  }
  return { ranges, more: false }
}
