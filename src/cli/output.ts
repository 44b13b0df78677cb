// What the command says: sentences and a status line for people, or with --json one JSON object
// per line for scripts (`{"event":"progress",...}`), the same moments in both.
import { StatusLine } from './terminal'

/** One thing that happened, for scripts: `event` names it, the rest are its figures. */
export interface CliEvent {
  event: string
  [field: string]: unknown
}

/** Figures that change often (progress, seeding) are written at most this often in JSON. */
const JSON_STATUS_MS = 1_000

export class Output {
  private readonly status: StatusLine | undefined
  private lastStatusAt = 0
  /** After the last word (see `end`), timers still running while the process exits say nothing. */
  private ended = false

  constructor(readonly json: boolean) {
    this.status = json ? undefined : new StatusLine()
  }

  /** A moment worth a line: `text` for people, `event` for scripts. */
  say(text: string, event: CliEvent): void {
    if (this.ended) return
    if (this.json) return this.write(event)
    this.status?.done()
    console.log(text)
  }

  /** A failure or a warning: to standard error for people; an `error` event (with `message`) for scripts. */
  fail(text: string, fields: Record<string, unknown> = {}): void {
    if (this.ended) return
    if (this.json) return this.write({ event: 'error', message: text, ...fields })
    this.status?.done()
    console.error(text)
  }

  /** The status line, redrawn in place; in JSON the event, at most once a second (and always when `final`). */
  update(text: string, event: CliEvent, final = false): void {
    if (this.ended) return
    if (!this.json) return final ? this.status!.done(text) : this.status!.update(text)
    const now = Date.now()
    if (!final && now - this.lastStatusAt < JSON_STATUS_MS) return
    this.lastStatusAt = now
    this.write(event)
  }

  /** The last thing said before the process exits; nothing after it is written. */
  end(text: string, event: CliEvent): void {
    this.say(text, event)
    this.ended = true
  }

  /** Ends the status line (before other output, or at exit). */
  done(): void {
    this.status?.done()
  }

  /** Something only people need (a QR code, a hint). */
  aside(text: string): void {
    if (!this.json) console.log(text)
  }

  private write(event: CliEvent): void {
    process.stdout.write(`${JSON.stringify(event)}\n`)
  }
}
