import { pino, type Logger } from 'pino'

// The service's log: JSON lines (level, time, instance, event, fields), pretty on a terminal.
// Every line names an `event`; what a line may carry is ids, counts, addresses, durations and
// reasons, never a file's name, a key or a private file's metadata.

export type Log = Logger

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export interface LogOptions {
  level: LogLevel
  instance: string
  /** Human-readable lines (a terminal); JSON otherwise. */
  pretty: boolean
  /** Where lines go (tests); standard output unless given. */
  destination?: NodeJS.WritableStream
}

export function createLog({ level, instance, pretty, destination }: LogOptions): Log {
  const base = { instance }
  if (destination) return pino({ level, base }, destination)
  if (pretty)
    return pino({ level, base, transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss' } } })
  return pino({ level, base })
}

/**
 * A fault that lasts (Redis unreachable, the bus lost): one line when it starts, one when it ends
 * with how long it lasted and what was dropped meanwhile, nothing in between.
 */
export class FaultLog {
  private since: number | undefined
  private dropped = 0
  private endedAt: number | undefined
  private readonly endListeners = new Set<() => void>()

  constructor(
    private readonly log: Log,
    /** The event names of its two lines, e.g. 'redis.down' and 'redis.up'. */
    private readonly events: { down: string; up: string },
    /**
     * Every failure means the outage has begun (Redis: a command that failed is Redis failing,
     * often noticed here before the connection says so); otherwise only `down` starts one.
     */
    private readonly failuresAreOutages = false,
    /**
     * A failure this soon after an outage ended is its tail (a command issued during it that timed
     * out just after): counted, not taken for a new outage. `down` itself always starts one.
     */
    private readonly settleMs = 0,
  ) {}

  get active(): boolean {
    return this.since !== undefined
  }

  /** When the latest outage ended (ms since the epoch), if one has. */
  get lastEndedAt(): number | undefined {
    return this.endedAt
  }

  /** Calls `listener` each time an outage ends; returns what stops that. */
  onEnd(listener: () => void): () => void {
    this.endListeners.add(listener)
    return () => this.endListeners.delete(listener)
  }

  /** Resolves once no outage is under way: at once, when the current one ends, or after `maxMs` at most. */
  untilEnd(maxMs: number): Promise<void> {
    if (this.since === undefined) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        stop()
        resolve()
      }
      const timer = setTimeout(done, maxMs)
      timer.unref?.()
      const stop = this.onEnd(done)
    })
  }

  down(reason: string): void {
    if (this.since !== undefined) return
    this.since = Date.now()
    this.dropped = 0
    this.log.error({ event: this.events.down, reason }, `${this.events.down}: ${reason}`)
  }

  /**
   * Something could not be done (a message refused, a push lost): while down it is counted into
   * the outage's closing line and true is returned, so the caller need not log it on its own.
   */
  drop(reason: string): boolean {
    if (this.since === undefined && this.endedAt !== undefined && Date.now() - this.endedAt < this.settleMs) return true
    if (this.since === undefined && this.failuresAreOutages) this.down(reason)
    if (this.since === undefined) return false
    this.dropped++
    return true
  }

  up(): void {
    if (this.since === undefined) return
    const downMs = Date.now() - this.since
    this.since = undefined
    this.endedAt = Date.now()
    this.log.warn(
      { event: this.events.up, downMs, dropped: this.dropped },
      `${this.events.up} after ${downMs} ms (${this.dropped} dropped)`,
    )
    for (const listener of this.endListeners) listener()
  }
}
