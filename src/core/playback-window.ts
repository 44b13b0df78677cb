// Streaming: which chunks a media player needs next. The chunks just ahead of the playhead are
// fetched first, in order (see ChunkScheduler.setUrgent); the rest stays rarest first, so the
// swarm keeps working. Pure.

/** Seconds of media fetched ahead of the playhead before anything else. */
export const WINDOW_SECONDS = 8
/** The window never spans more than this, whatever the bitrate. */
export const MAX_WINDOW_BYTES = 64 * 1024 * 1024
/** Nor fewer chunks than this (a chunk may hold less than a second of a high-bitrate file). */
export const MIN_WINDOW_CHUNKS = 2

export interface ChunkGrid {
  /** The file's own size and chunk size (a private file's decrypted layout). */
  size: number
  chunkSize: number
}

/** Bytes to fetch ahead of media playing at `bytesPerSecond` (its size over its duration): WINDOW_SECONDS of it, within the bounds. */
export function windowBytes(grid: ChunkGrid, bytesPerSecond: number | undefined): number {
  const floor = MIN_WINDOW_CHUNKS * grid.chunkSize
  if (!bytesPerSecond || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return floor
  return Math.min(MAX_WINDOW_BYTES, Math.max(floor, Math.ceil(bytesPerSecond * WINDOW_SECONDS)))
}

/** The chunks holding bytes [position, position + bytes) of the file, in playing order. */
export function playbackWindow(grid: ChunkGrid, position: number, bytes: number): number[] {
  if (grid.size === 0 || grid.chunkSize <= 0) return []
  const count = Math.ceil(grid.size / grid.chunkSize)
  const first = Math.min(count - 1, Math.max(0, Math.floor(position / grid.chunkSize)))
  const last = Math.min(count - 1, Math.floor((Math.max(0, position) + Math.max(1, bytes) - 1) / grid.chunkSize))
  return Array.from({ length: last - first + 1 }, (_, i) => first + i)
}

/** The windows of several readers at once (a player may read two places), the first reader's first; each chunk once. */
export function playbackWindows(grid: ChunkGrid, positions: number[], bytes: number): number[] {
  const seen = new Set<number>()
  for (const position of positions) for (const index of playbackWindow(grid, position, bytes)) seen.add(index)
  return [...seen]
}
