// Per-tab bandwidth caps: a token bucket (time passed in) and the parser for "2MB"-style values.
import { parseBytes } from './format-bytes'

export class TokenBucket {
  private tokens: number
  private last: number

  /** `rate` in bytes per second; `burst` is the most that may be taken at once. */
  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst
    this.last = now
  }

  available(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000)
    this.last = now
    return this.tokens
  }

  /** Takes the bytes if the bucket holds them (or, for a request over the burst, is full). */
  tryTake(bytes: number, now: number): boolean {
    const available = this.available(now)
    if (available < Math.min(bytes, this.burst)) return false
    this.tokens -= bytes
    return true
  }

  /** Milliseconds until `bytes` could be taken. */
  waitMs(bytes: number, now: number): number {
    const missing = Math.min(bytes, this.burst) - this.available(now)
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.rate)
  }
}

/** "2MB", "500 KiB", "1.5m", "250000" → bytes per second; "", "0" or "off" → no limit. */
export function parseRate(text: string): { ok: true; bytesPerSecond: number | undefined } | { ok: false; message: string } {
  const trimmed = text.trim().toLowerCase().replace(/\/s$/, '')
  if (trimmed === '' || trimmed === '0' || trimmed === 'off') return { ok: true, bytesPerSecond: undefined }
  const bytesPerSecond = parseBytes(trimmed)
  if (bytesPerSecond === undefined) {
    return { ok: false, message: `“${text}” is not a rate: write a number with KB, MB or GB, e.g. 2MB` }
  }
  if (bytesPerSecond < 1000) return { ok: false, message: 'a rate limit must be at least 1 KB/s' }
  return { ok: true, bytesPerSecond }
}

/** Per-tab bandwidth caps, shared by every file; undefined means no cap. */
export interface Bandwidth {
  up: TokenBucket | undefined
  down: TokenBucket | undefined
}
