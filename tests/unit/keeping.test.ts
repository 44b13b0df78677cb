import { describe, expect, it } from 'vitest'
import { ENOUGH_COPIES, overSpace, planKeeping, type KeptFile } from '../../src/core/keeping'
import type { WantedFile } from '../../src/protocol/tracker'
import { parseBytes } from '../../src/core/format-bytes'

const MB = 1_000_000
const wanted = (fileId: string, copies: number, downloaders = 0, size = 10 * MB): WantedFile => ({ fileId, size, copies, downloaders })
const kept = (fileId: string, lastWantedAt: number, size = 10 * MB, fetching = false): KeptFile => ({
  fileId,
  size,
  lastWantedAt,
  fetching,
})

describe('keeping', () => {
  it('takes on the file with the fewest complete copies first, then the one most peers wait for', () => {
    expect(planKeeping(100 * MB, [], [wanted('a', 2), wanted('b', 1), wanted('c', 1, 4)])).toEqual({ fetch: 'c', evict: [] })
  })

  it('skips what it holds, what has enough copies, and what could never fit', () => {
    const files = [wanted('held', 0), wanted('plenty', ENOUGH_COPIES), wanted('huge', 0, 0, 200 * MB), wanted('next', 2)]
    expect(planKeeping(100 * MB, [kept('held', 0)], files)).toEqual({ fetch: 'next', evict: [] })
    expect(planKeeping(100 * MB, [kept('next', 0)], files.slice(1))).toBeUndefined()
  })

  it('fetches one file at a time', () => {
    expect(planKeeping(100 * MB, [kept('a', 0, 10 * MB, true)], [wanted('b', 0)])).toBeUndefined()
  })

  it('when full, lets go of the least recently wanted files that keep more copies than the new one has', () => {
    const held = [kept('old', 1_000), kept('older', 500), kept('rare', 0)]
    const files = [wanted('old', 3), wanted('older', 3), wanted('rare', 1), wanted('new', 1)]
    expect(planKeeping(30 * MB, held, files)).toEqual({ fetch: 'new', evict: ['older'] })
    expect(
      planKeeping(
        30 * MB,
        held,
        files.map((f) => (f.fileId === 'new' ? { ...f, size: 20 * MB } : f)),
      ),
    ).toEqual({
      fetch: 'new',
      evict: ['older', 'old'],
    })
  })

  it('does not trade a file for one just as rare, so keepers do not swap files back and forth', () => {
    const held = [kept('a', 0)]
    expect(planKeeping(10 * MB, held, [wanted('a', 2), wanted('b', 1)])).toBeUndefined()
    expect(planKeeping(10 * MB, held, [wanted('a', 3), wanted('b', 1)])).toEqual({ fetch: 'b', evict: ['a'] })
  })

  it('given less space than it holds, lets go of the least recently wanted until the rest fits (a fetch too)', () => {
    const held = [kept('new', 3_000), kept('old', 1_000), kept('fetching', 2_000, 10 * MB, true)]
    expect(overSpace(30 * MB, held)).toEqual([])
    expect(overSpace(25 * MB, held)).toEqual(['old'])
    expect(overSpace(5 * MB, held)).toEqual(['old', 'fetching', 'new'])
  })

  it('reads sizes the way people write them', () => {
    expect(parseBytes('20GB')).toBe(20e9)
    expect(parseBytes('512 MiB')).toBe(512 * 2 ** 20)
    expect(parseBytes('1.5tb')).toBe(1.5e12)
    expect(parseBytes('4096')).toBe(4096)
    expect(parseBytes('20 GBs')).toBeUndefined()
    expect(parseBytes('-1GB')).toBeUndefined()
    expect(parseBytes('')).toBeUndefined()
  })
})
