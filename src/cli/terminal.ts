import { formatBytes } from '../core/format-bytes'

/** One status line: redrawn in place on a terminal, printed every few seconds otherwise. */
export class StatusLine {
  private lastPrinted = 0
  private width = 0

  constructor(
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly everyMs = 5000,
  ) {}

  update(text: string): void {
    if (this.out.isTTY) {
      const line = text.slice(0, Math.max(20, (this.out.columns ?? 100) - 1))
      this.out.write(`\r${line.padEnd(this.width)}`)
      this.width = line.length
      return
    }
    if (Date.now() - this.lastPrinted < this.everyMs) return
    this.lastPrinted = Date.now()
    this.out.write(`${text}\n`)
  }

  /** Ends the redrawn line, so what follows starts on its own line. */
  done(text?: string): void {
    if (text !== undefined) {
      this.lastPrinted = 0
      this.update(text)
    }
    if (this.out.isTTY && this.width > 0) this.out.write('\n')
    this.width = 0
  }
}

export function progressBar(done: number, total: number, width = 24): string {
  const share = total === 0 ? 1 : Math.min(1, done / total)
  const filled = Math.round(share * width)
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)
    .toString()
    .padStart(3)}%`
}

export function rate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`
}
