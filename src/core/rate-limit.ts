// Per-tab bandwidth caps: a token bucket (time passed in) and the parser for "2MB"-style values.

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

const UNIT: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
}

/** "2MB", "500 KiB", "1.5m", "250000" → bytes per second; "", "0" or "off" → no limit. */
export function parseRate(text: string): { ok: true; bytesPerSecond: number | undefined } | { ok: false; message: string } {
  const trimmed = text.trim().toLowerCase().replace(/\/s$/, '')
  if (trimmed === '' || trimmed === '0' || trimmed === 'off') return { ok: true, bytesPerSecond: undefined }
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(trimmed)
  const multiplier = match ? UNIT[match[2]!] : undefined
  if (!match || multiplier === undefined) {
    return { ok: false, message: `“${text}” is not a rate: write a number with KB, MB or GB, e.g. 2MB` }
  }
  const bytesPerSecond = Math.round(Number(match[1]) * multiplier)
  if (bytesPerSecond < 1000) return { ok: false, message: 'a rate limit must be at least 1 KB/s' }
  return { ok: true, bytesPerSecond }
}

/** Per-tab bandwidth caps, shared by every file; undefined means no cap. */
export interface Bandwidth {
  up: TokenBucket | undefined
  down: TokenBucket | undefined
}
