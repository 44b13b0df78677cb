// The one reader of an HTTP Range header (RFC 9110, 14.1.2), for the player's requests that the
// Service Worker passes on: one range of bytes, or the whole file. Several ranges at once are
// answered with the whole file, which the RFC allows; a range past the end is refused (416).

export type ByteRange = { kind: 'whole'; start: 0; end: number } | { kind: 'part'; start: number; end: number } | { kind: 'unsatisfiable' }

/** Longest header read; a longer one is ignored (answered with the whole file). */
const MAX_RANGE_HEADER = 200

/** The bytes [start, end) that `header` asks of a file of `size` bytes. */
export function readByteRange(header: string | null | undefined, size: number): ByteRange {
  const whole = { kind: 'whole', start: 0, end: size } as const
  if (!header || header.length > MAX_RANGE_HEADER) return whole
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (!match) return whole
  const [, first, last] = match as unknown as [string, string, string]
  if (first === '' && last === '') return whole
  if (first === '') {
    // A suffix: the last N bytes.
    const length = Number(last)
    if (length === 0) return { kind: 'unsatisfiable' }
    return { kind: 'part', start: Math.max(0, size - length), end: size }
  }
  const start = Number(first)
  if (!Number.isSafeInteger(start) || start >= size) return { kind: 'unsatisfiable' }
  const end = last === '' ? size : Math.min(size, Number(last) + 1)
  if (!(end > start)) return whole
  return { kind: 'part', start, end }
}
