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
    this.tokens = this.tokensAt(now)
    this.last = now
    if (this.tokens < amount) return false
    this.tokens -= amount
    return true
  }

  /** How long until `amount` can be spent. */
  waitMs(amount: number): number {
    const missing = amount - this.tokensAt(Date.now())
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.perSecond)
  }

  /** True when it has refilled to its burst: forgetting it changes nothing. */
  get full(): boolean {
    return this.tokensAt(Date.now()) >= this.burst
  }

  private tokensAt(now: number): number {
    return Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000)
  }
}

/** Budgets refilling at `perMinute` (burst: a minute's worth), one per key; full ones are forgotten. */
export class KeyedBudgets {
  private readonly budgets = new Map<string, RateBudget>()
  private sweptAt = Date.now()

  constructor(private readonly perMinute: number) {}

  spend(key: string): boolean {
    this.sweep()
    let budget = this.budgets.get(key)
    if (!budget) this.budgets.set(key, (budget = perMinute(this.perMinute)))
    return budget.spend()
  }

  private sweep(): void {
    if (Date.now() - this.sweptAt < 60_000) return
    this.sweptAt = Date.now()
    for (const [key, budget] of this.budgets) if (budget.full) this.budgets.delete(key)
  }
}

/** A budget of `count` per minute, all of which may be spent at once. */
export function perMinute(count: number): RateBudget {
  return new RateBudget(count / 60, count)
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
