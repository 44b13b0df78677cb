import { describe, expect, it } from 'vitest'
import { readByteRange } from '../../src/protocol/byte-range'

describe('Range header', () => {
  it('reads one range of bytes, open-ended or a suffix, clamped to the file', () => {
    expect(readByteRange('bytes=0-', 1000)).toEqual({ kind: 'part', start: 0, end: 1000 })
    expect(readByteRange('bytes=100-199', 1000)).toEqual({ kind: 'part', start: 100, end: 200 })
    expect(readByteRange('bytes=900-5000', 1000)).toEqual({ kind: 'part', start: 900, end: 1000 })
    expect(readByteRange('bytes=-100', 1000)).toEqual({ kind: 'part', start: 900, end: 1000 })
    expect(readByteRange('bytes=-5000', 1000)).toEqual({ kind: 'part', start: 0, end: 1000 })
    expect(readByteRange(' Bytes = 5 - 9 ', 1000)).toEqual({ kind: 'part', start: 5, end: 10 })
  })

  it('answers the whole file when there is no usable range (none, several, malformed, reversed)', () => {
    const whole = { kind: 'whole', start: 0, end: 1000 }
    for (const header of [
      null,
      undefined,
      '',
      'bytes=0-1,5-9',
      'items=0-5',
      'bytes=abc',
      'bytes=-',
      'bytes=9-5',
      `bytes=0-${'9'.repeat(300)}`,
    ]) {
      expect(readByteRange(header, 1000)).toEqual(whole)
    }
  })

  it('refuses a range that starts past the end, or an empty suffix', () => {
    expect(readByteRange('bytes=1000-', 1000)).toEqual({ kind: 'unsatisfiable' })
    expect(readByteRange('bytes=99999999999999999999-', 1000)).toEqual({ kind: 'unsatisfiable' })
    expect(readByteRange('bytes=-0', 1000)).toEqual({ kind: 'unsatisfiable' })
    expect(readByteRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' })
  })
})
