import type { Cancel, Clock } from '../core/ports'

/** The page checks the worker is alive this often... */
export const PING_MS = 1_000
/** ...and replaces it when a ping goes unanswered this long (it crashed, or was killed). */
export const DEAD_AFTER_MS = 5_000
/** Replacements back off up to this long when the worker keeps dying. */
export const MAX_RESTART_DELAY_MS = 30_000

export interface SupervisorHooks {
  clock: Clock
  /** Sends a ping the worker answers with a pong of the same number. */
  ping: (n: number) => void
  /** The worker stopped answering: it is gone (terminate it, fail what waited on it). */
  onDead: () => void
  /** Start a new worker now. */
  replace: () => void
}

/** Whether the worker answers, or when the next one starts. */
type SupervisorState = { kind: 'watching'; ping: { n: number; sentAt: number } | undefined } | { kind: 'replacing'; cancel: Cancel }

/**
 * Watches the engine's worker: a ping a second, and a worker that leaves one unanswered for
 * DEAD_AFTER_MS is declared dead and replaced, at once the first time and then after a delay that
 * doubles with each death in the last few minutes (up to MAX_RESTART_DELAY_MS).
 */
export class WorkerSupervisor {
  private state: SupervisorState = { kind: 'watching', ping: undefined }
  private deaths: number[] = []
  private nextPing = 1
  private stopTicking: Cancel | undefined

  constructor(private readonly hooks: SupervisorHooks) {}

  start(): void {
    this.stopTicking ??= this.hooks.clock.every(PING_MS, () => this.check())
  }

  stop(): void {
    this.stopTicking?.()
    this.stopTicking = undefined
    if (this.state.kind === 'replacing') this.state.cancel()
    this.state = { kind: 'watching', ping: undefined }
  }

  /** The worker answered ping `n`. */
  pong(n: number): void {
    if (this.state.kind === 'watching' && this.state.ping?.n === n) this.state.ping = undefined
  }

  /** Deaths within the window that sets the delay before the next replacement. */
  get recentDeaths(): number {
    return this.deaths.length
  }

  private check(): void {
    const now = this.hooks.clock.now()
    if (this.state.kind !== 'watching') return
    const { ping } = this.state
    if (!ping) {
      this.state.ping = { n: this.nextPing++, sentAt: now }
      return this.hooks.ping(this.state.ping.n)
    }
    if (now - ping.sentAt > DEAD_AFTER_MS) this.died(now)
  }

  private died(now: number): void {
    this.deaths = [...this.deaths.filter((at) => now - at < MAX_RESTART_DELAY_MS * 4), now]
    const delay = Math.min(MAX_RESTART_DELAY_MS, 2 ** (this.deaths.length - 1) * 1_000) - 1_000
    this.hooks.onDead()
    const cancel = this.hooks.clock.after(Math.max(0, delay), () => {
      this.state = { kind: 'watching', ping: undefined }
      this.hooks.replace()
    })
    this.state = { kind: 'replacing', cancel }
  }
}
