import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../../src/cli/bin.mjs', import.meta.url))

/** The `tabswarm` command as a child process, with its output collected. */
export class Cli {
  readonly child: ChildProcess
  output = ''
  readonly exited: Promise<number | null>

  /** `nodeArgs` go to Node itself, before the command (`--cpu-prof`, say). */
  constructor(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
    this.child = spawn(process.execPath, [...nodeArgs, bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    })
    for (const stream of [this.child.stdout!, this.child.stderr!]) stream.on('data', (data: Buffer) => (this.output += data.toString()))
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = pattern.exec(this.output)
      if (match) return match
      if (this.child.exitCode !== null)
        throw new Error(`tabswarm exited (${this.child.exitCode}) before printing ${pattern}:\n${this.output}`)
      if (Date.now() > deadline) throw new Error(`tabswarm did not print ${pattern} in ${timeoutMs} ms:\n${this.output}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT')
    return this.exited
  }
}
