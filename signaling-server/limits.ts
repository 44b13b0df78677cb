import type { TrackerLimits } from './config'

/** Per-connection message budget: refills at a steady rate up to a burst. */
export class MessageBudget {
  private tokens: number
  private last = Date.now()

  constructor(private readonly limits: Pick<TrackerLimits, 'messagesPerSecond' | 'messageBurst'>) {
    this.tokens = limits.messageBurst
  }

  spend(): boolean {
    const now = Date.now()
    this.tokens = Math.min(this.limits.messageBurst, this.tokens + ((now - this.last) * this.limits.messagesPerSecond) / 1000)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
