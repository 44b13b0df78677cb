/** Bytes per second over a sliding window; the clock is passed in. */
export const RATE_WINDOW_MS = 2000
const BUCKET_MS = 250

export class RateMeter {
  private readonly buckets = new Map<number, number>()
  private firstAt: number | undefined
  total = 0
  /** When bytes last came (ms on the caller's clock); undefined before any. */
  lastAt: number | undefined

  add(bytes: number, now: number): void {
    this.firstAt ??= now
    this.lastAt = now
    const bucket = Math.floor(now / BUCKET_MS)
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + bytes)
    this.total += bytes
    this.prune(now)
  }

  /** Bytes a second from the first bytes to the last: the pace while they came, where `rate` is the last two seconds'. 0 before any. */
  pace(): number {
    if (this.firstAt === undefined || this.lastAt === undefined) return 0
    return (this.total * 1000) / Math.max(BUCKET_MS, this.lastAt - this.firstAt)
  }

  rate(now: number): number {
    this.prune(now)
    let sum = 0
    for (const bytes of this.buckets.values()) sum += bytes
    // A young meter averages over the time it has seen, not the whole window.
    const seen = this.firstAt === undefined ? RATE_WINDOW_MS : Math.max(BUCKET_MS, now - this.firstAt + BUCKET_MS)
    return (sum * 1000) / Math.min(RATE_WINDOW_MS, seen)
  }

  private prune(now: number): void {
    const oldest = Math.floor((now - RATE_WINDOW_MS) / BUCKET_MS)
    for (const bucket of this.buckets.keys()) if (bucket <= oldest) this.buckets.delete(bucket)
  }
}
