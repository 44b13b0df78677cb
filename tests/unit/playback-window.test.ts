import { describe, expect, it } from 'vitest'
import {
  MAX_WINDOW_BYTES,
  MIN_WINDOW_CHUNKS,
  playbackWindow,
  playbackWindows,
  WINDOW_SECONDS,
  windowBytes,
} from '../../src/core/playback-window'

const MiB = 1024 * 1024
const grid = { size: 30 * MiB, chunkSize: MiB / 4 }

describe('playback window', () => {
  it('spans WINDOW_SECONDS of media at its bitrate, within its bounds', () => {
    // 30 MiB over 60 s is 0.5 MiB/s: 8 s ahead is 4 MiB.
    expect(windowBytes(grid, (30 * MiB) / 60)).toBe((30 * MiB * WINDOW_SECONDS) / 60)
    expect(windowBytes(grid, (30 * MiB) / (60 * 60 * 10))).toBe(MIN_WINDOW_CHUNKS * grid.chunkSize)
    expect(windowBytes({ size: 4096 * MiB, chunkSize: MiB }, (4096 * MiB) / 10)).toBe(MAX_WINDOW_BYTES)
    expect(windowBytes(grid, undefined)).toBe(MIN_WINDOW_CHUNKS * grid.chunkSize)
    expect(windowBytes(grid, (30 * MiB) / Number.POSITIVE_INFINITY)).toBe(MIN_WINDOW_CHUNKS * grid.chunkSize) // a live stream's duration
  })

  it('lists the chunks from the one holding the playhead, in order, and stops at the end of the file', () => {
    expect(playbackWindow(grid, 0, MiB)).toEqual([0, 1, 2, 3])
    expect(playbackWindow(grid, 0.8 * grid.size, MiB / 2)).toEqual([96, 97])
    expect(playbackWindow(grid, MiB / 4 + 1, MiB / 4)).toEqual([1, 2])
    expect(playbackWindow(grid, grid.size - 10, 4 * MiB)).toEqual([119])
    expect(playbackWindow(grid, grid.size + MiB, MiB)).toEqual([119])
    expect(playbackWindow({ size: 0, chunkSize: MiB }, 0, MiB)).toEqual([])
  })
})

describe('playback windows of several readers', () => {
  it('joins them, the first reader first, each chunk once', () => {
    expect(playbackWindows(grid, [0.8 * grid.size, 0], MiB / 2)).toEqual([96, 97, 0, 1])
    expect(playbackWindows(grid, [0, MiB / 4], MiB / 2)).toEqual([0, 1, 2])
    expect(playbackWindows(grid, [], MiB)).toEqual([])
  })
})
