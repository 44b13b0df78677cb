import { describe, expect, it } from 'vitest'
import { compactRanges, transferStatus, type TransferFacts } from '../../src/core/transfer-state'

const base: TransferFacts = {
  role: 'downloaded',
  failure: undefined,
  paused: false,
  pauseReason: undefined,
  chunks: { total: 10, complete: false, missing: () => [3, 4, 5, 9] },
  reachable: () => true,
}

describe('transferStatus', () => {
  it('is locating until the manifest is known, or seeding for a file shared from here', () => {
    expect(transferStatus({ ...base, chunks: undefined })).toEqual({ state: 'locating', notice: undefined })
    expect(transferStatus({ ...base, role: 'shared', chunks: undefined })).toEqual({ state: 'seeding', notice: undefined })
  })

  it('puts a failure before anything else', () => {
    expect(transferStatus({ ...base, failure: { kind: 'not-shared' }, paused: true })).toEqual({
      state: 'error',
      notice: { kind: 'not-shared' },
    })
  })

  it('says why it paused: the user, or storage', () => {
    expect(transferStatus({ ...base, paused: true }).notice).toEqual({ kind: 'paused', complete: false })
    const reason = { kind: 'storage-paused', detail: 'full', have: 6, total: 10 } as const
    expect(transferStatus({ ...base, paused: true, pauseReason: reason })).toEqual({ state: 'paused', notice: reason })
  })

  it('is complete (or seeding, when shared from here) once every chunk is held', () => {
    const chunks = { total: 10, complete: true, missing: () => [] }
    expect(transferStatus({ ...base, chunks }).state).toBe('complete')
    expect(transferStatus({ ...base, role: 'shared', chunks }).state).toBe('seeding')
  })

  it('downloads while a peer may hold a missing chunk, and stalls naming the chunks otherwise', () => {
    let asked: number[] = []
    const reachable = (missing: number[]) => ((asked = missing), true)
    expect(transferStatus({ ...base, reachable }).state).toBe('downloading')
    expect(asked).toEqual([3, 4, 5, 9])
    expect(transferStatus({ ...base, reachable: () => false })).toEqual({
      state: 'stalled',
      notice: {
        kind: 'waiting',
        ranges: [
          [3, 5],
          [9, 9],
        ],
        more: false,
        needed: 4,
        total: 10,
      },
    })
  })
})

describe('compactRanges', () => {
  it('joins runs and stops after the given number of ranges', () => {
    expect(compactRanges([0, 1, 2, 6, 9, 10])).toEqual({
      ranges: [
        [0, 2],
        [6, 6],
        [9, 10],
      ],
      more: false,
    })
    expect(compactRanges([0, 2, 4, 6, 8], 4)).toEqual({
      ranges: [
        [0, 0],
        [2, 2],
        [4, 4],
        [6, 6],
      ],
      more: true,
    })
    expect(compactRanges([])).toEqual({ ranges: [], more: false })
  })
})
