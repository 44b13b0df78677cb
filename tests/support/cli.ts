import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../../src/cli/bin.mjs', import.meta.url))

/** One line of `tabswarm --json`. */
export interface CliEvent {
  event: string
  [field: string]: unknown
}

/**
 * The `tabswarm` command as a child process with `--json`: its events are collected as they come
 * (and all it prints). Its state folder is a fresh one unless `env` names one.
 */
export class Cli {
  readonly child: ChildProcess
  output = ''
  readonly events: CliEvent[] = []
  readonly exited: Promise<number | null>
  private pending = ''

  /** `nodeArgs` go to Node itself, before the command (`--cpu-prof`, say). */
  constructor(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
    const state = { TABSWARM_STATE_DIR: mkdtempSync(`${tmpdir()}/tabswarm-state-`) }
    this.child = spawn(process.execPath, [...nodeArgs, bin, ...args, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...state, ...env },
    })
    this.child.stdout!.on('data', (data: Buffer) => {
      this.output += data.toString()
      this.pending += data.toString()
      const lines = this.pending.split('\n')
      this.pending = lines.pop()!
      for (const line of lines) if (line.trim()) this.events.push(JSON.parse(line) as CliEvent)
    })
    this.child.stderr!.on('data', (data: Buffer) => (this.output += data.toString()))
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
  }

  /** Resolves with the first event named `name` (and matching `where`); rejects if the process exits first. */
  async event<T extends CliEvent = CliEvent>(
    name: string,
    where: (event: CliEvent) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.events.find((event) => event.event === name && where(event))
      if (found) return found as T
      if (this.child.exitCode !== null) throw new Error(`tabswarm exited (${this.child.exitCode}) before a ${name} event:\n${this.output}`)
      if (Date.now() > deadline) throw new Error(`tabswarm sent no ${name} event in ${timeoutMs} ms:\n${this.output}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** The link a `seed` (or `get --seed`) shares, once it says so. */
  async link(): Promise<string> {
    return (await this.event<CliEvent & { link: string }>('sharing')).link
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT')
    return this.exited
  }
}
