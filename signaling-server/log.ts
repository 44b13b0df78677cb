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

  constructor(
    private readonly log: Log,
    /** The event names of its two lines, e.g. 'redis.down' and 'redis.up'. */
    private readonly events: { down: string; up: string },
  ) {}

  get active(): boolean {
    return this.since !== undefined
  }

  down(reason: string): void {
    if (this.since !== undefined) return
    this.since = Date.now()
    this.dropped = 0
    this.log.error({ event: this.events.down, reason }, `${this.events.down}: ${reason}`)
  }

  /** Something could not be done while down (a message refused, a push lost). */
  drop(): void {
    if (this.since !== undefined) this.dropped++
  }

  up(): void {
    if (this.since === undefined) return
    const downMs = Date.now() - this.since
    this.since = undefined
    this.log.warn(
      { event: this.events.up, downMs, dropped: this.dropped },
      `${this.events.up} after ${downMs} ms (${this.dropped} dropped)`,
    )
  }
}
