/** Bytes per second over a sliding window; the clock is passed in. */
export const RATE_WINDOW_MS = 2000
const BUCKET_MS = 250

export class RateMeter {
  private readonly buckets = new Map<number, number>()
  total = 0

  add(bytes: number, now: number): void {
    const bucket = Math.floor(now / BUCKET_MS)
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + bytes)
    this.total += bytes
    this.prune(now)
  }

  rate(now: number): number {
    this.prune(now)
    let sum = 0
    for (const bytes of this.buckets.values()) sum += bytes
    return (sum * 1000) / RATE_WINDOW_MS
  }

  private prune(now: number): void {
    const oldest = Math.floor((now - RATE_WINDOW_MS) / BUCKET_MS)
    for (const bucket of this.buckets.keys()) if (bucket <= oldest) this.buckets.delete(bucket)
  }
}
