import type { TrackerLimits } from './config'

/** A token bucket: refills at `perSecond` up to `burst`; `spend` takes `amount` if it is there. */
export class RateBudget {
  private tokens: number
  private last = Date.now()

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst
  }

  spend(amount = 1): boolean {
    const now = Date.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000)
    this.last = now
    if (this.tokens < amount) return false
    this.tokens -= amount
    return true
  }
}

/** A signal burst may be this many seconds' worth of the per-target rate. */
const SIGNAL_BURST_SECONDS = 5

/** Per-connection message budget: refills at a steady rate up to a burst. */
export function messageBudget(limits: Pick<TrackerLimits, 'messagesPerSecond' | 'messageBurst'>): RateBudget {
  return new RateBudget(limits.messagesPerSecond, limits.messageBurst)
}

/** What one peer may be sent in signals from everyone else: a count and bytes per second. */
export class SignalBudget {
  private readonly count: RateBudget
  private readonly bytes: RateBudget

  constructor(limits: Pick<TrackerLimits, 'signalsPerTargetPerSecond' | 'signalBytesPerTargetPerSecond'>) {
    this.count = new RateBudget(limits.signalsPerTargetPerSecond, limits.signalsPerTargetPerSecond * SIGNAL_BURST_SECONDS)
    this.bytes = new RateBudget(limits.signalBytesPerTargetPerSecond, limits.signalBytesPerTargetPerSecond * SIGNAL_BURST_SECONDS)
  }

  spend(bytes: number): boolean {
    return this.count.spend() && this.bytes.spend(bytes)
  }
}
