// Who takes part in a chaos run (chaos.ts): Redis, tracker instances as processes, browser tabs
// and command-line peers, each able to fail and come back, and to say whether it is online.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { Browser, BrowserContext, Page } from '@playwright/test'
import { Cli } from './cli'
import { startRedis, type RedisServer } from './redis'
import { startTrackerProcess, type ServerProcess } from './tracker-process'

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Redis on one port: killed and started again empty (it persists nothing), or paused and resumed. */
export class ChaosRedis {
  private server: RedisServer | undefined
  port = 0

  async start(): Promise<void> {
    this.server = await startRedis(this.port ? { port: this.port } : {})
    this.port = this.server.port
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async kill(): Promise<void> {
    await this.server?.stop()
    this.server = undefined
  }

  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (this.server) process.kill(this.server.pid, signal)
  }
}

/** One run of an instance's process: what it used at most, and its log. */
export interface Incarnation {
  pid: number
  startedAt: number
  log: () => string
  maxRssKiB: number
  maxFds: number
}

/** A tracker instance (`npm start`'s entry point) on a port that stays the same across restarts. */
export class ChaosInstance {
  private process: ServerProcess | undefined
  port = 0
  readonly incarnations: Incarnation[] = []

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    this.process = await startTrackerProcess({ ...this.env, PORT: String(this.port) })
    this.port = this.process.port
    this.incarnations.push({ pid: this.process.pid, startedAt: Date.now(), log: this.process.log, maxRssKiB: 0, maxFds: 0 })
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get trackerUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`
  }

  get running(): boolean {
    return this.process !== undefined
  }

  /** SIGKILL: gone without a word to Redis or its clients. */
  async kill(): Promise<void> {
    await this.process?.kill()
    this.process = undefined
  }

  async stop(): Promise<void> {
    await this.process?.stop()
    this.process = undefined
  }

  async ready(): Promise<boolean> {
    if (!this.process) return false
    const response = await fetch(`${this.origin}/readyz`).catch(() => undefined)
    return response?.status === 200
  }

  /** Notes the process's resident memory and open files (from /proc). */
  sample(): void {
    const current = this.incarnations.at(-1)
    if (!this.process || !current) return
    try {
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${current.pid}/status`, 'utf8'))
      current.maxRssKiB = Math.max(current.maxRssKiB, Number(rss?.[1] ?? 0))
      current.maxFds = Math.max(current.maxFds, readdirSync(`/proc/${current.pid}/fd`).length)
    } catch {
      // It exited between the check and the read.
    }
  }
}

/** Anyone in a swarm: a tab or a command-line peer. */
export interface ChaosPeer {
  readonly name: string
  readonly instance: ChaosInstance
  /** The file it shares or fetches. */
  readonly fileId: string
  /** Its tracker connection is up (as it shows it). */
  online(): Promise<boolean>
  /** Its peer id, as the tracker gave it (undefined while unknown). */
  peerId(): Promise<string | undefined>
  /** It holds the whole file. */
  complete(): Promise<boolean>
  /** The SHA-256 of the file it holds (saved from the page, or read from its folder). */
  digest(): Promise<string>
}

/** A browser tab in a context of its own (its storage survives a reload and a close). */
export class ChaosTab implements ChaosPeer {
  private context: BrowserContext | undefined
  page: Page | undefined

  constructor(
    readonly name: string,
    readonly instance: ChaosInstance,
    /** The path opened on its instance: a link's `/?query#/f/...`, or `/?up=...` for a sharer. */
    private path: string,
    public fileId = '',
  ) {}

  async open(browser: Browser): Promise<void> {
    this.context ??= await browser.newContext({ permissions: ['camera', 'microphone'], acceptDownloads: true })
    this.page = await this.context.newPage()
    await this.page.goto(`${this.instance.origin}${this.path}`)
  }

  /** Shares a file from disk and returns its link; from now on the tab opens its library. */
  async share(file: string): Promise<string> {
    const page = this.page!
    await page.getByTestId('tracker-status').and(page.locator('[data-status="online"]')).waitFor({ timeout: 30_000 })
    await page.getByTestId('file-input').setInputFiles(file)
    const link = page.getByTestId('share-link').first()
    await link.waitFor()
    const href = (await link.getAttribute('href'))!
    this.fileId = /#\/f\/([0-9a-f]{64})/.exec(href)![1]!
    // The copy in this browser is what it seeds after a reload.
    const stored = page.getByTestId('share-stored').first()
    await page.waitForFunction(
      (note) => note && note.getAttribute('data-total') !== '0' && note.getAttribute('data-stored') === note.getAttribute('data-total'),
      await stored.elementHandle(),
      { timeout: 60_000 },
    )
    return href
  }

  async reload(): Promise<void> {
    await this.page!.reload()
  }

  async close(): Promise<void> {
    await this.page?.close()
    this.page = undefined
  }

  async online(): Promise<boolean> {
    const status = await this.page
      ?.getByTestId('tracker-status')
      .getAttribute('data-status', { timeout: 1_000 })
      .catch(() => null)
    return status === 'online'
  }

  async peerId(): Promise<string | undefined> {
    const status = this.page?.getByTestId('tracker-status')
    return (await status?.getAttribute('data-peer-id', { timeout: 1_000 }).catch(() => null)) || undefined
  }

  private transfer() {
    return this.page!.locator(`[data-testid="transfer"][data-file-id="${this.fileId}"]`).first()
  }

  async state(): Promise<string | null> {
    if (!this.page) return null
    return this.transfer()
      .getAttribute('data-state', { timeout: 1_000 })
      .catch(() => null)
  }

  async complete(): Promise<boolean> {
    const state = await this.state()
    return state === 'complete' || state === 'seeding'
  }

  /** Caps this tab's uploads (the limits panel, as a user sets it). */
  async capUpload(cap: string): Promise<void> {
    const page = this.page!
    const limits = page.getByTestId('limits')
    if (!(await limits.evaluate((details) => (details as HTMLDetailsElement).open))) await limits.locator('summary').click()
    await page.getByTestId('limit-up').fill(cap)
    await limits.getByRole('button', { name: 'Apply' }).click()
  }

  async digest(): Promise<string> {
    const page = this.page!
    const [download] = await Promise.all([page.waitForEvent('download'), this.transfer().getByTestId('save-button').click()])
    return sha256(await readFile((await download.path())!))
  }

  async dispose(): Promise<void> {
    await this.context?.close().catch(() => undefined)
  }
}

/** `tabswarm seed` or `tabswarm get --seed` with a state folder and an output folder that outlive its process. */
export class ChaosCli implements ChaosPeer {
  cli: Cli | undefined
  private killing = false
  /** The links a seeder printed, one per run: the same every time. */
  readonly links: string[] = []

  constructor(
    readonly name: string,
    readonly instance: ChaosInstance,
    private readonly args: () => string[],
    private readonly env: Record<string, string>,
    public fileId = '',
    /** Where `get` saves (undefined for a seeder, whose file is given). */
    private readonly saved?: () => string,
  ) {}

  start(): void {
    this.cli = new Cli([...this.args(), '--tracker', this.instance.trackerUrl], this.env)
  }

  /** The link a seeder shares, once it says. */
  async link(): Promise<string> {
    const link = await this.cli!.link()
    this.links.push(link)
    this.fileId ||= /#\/f\/([0-9a-f]{64})/.exec(link)![1]!
    return link
  }

  /** SIGKILL: a crash, with no goodbye. */
  async kill(): Promise<void> {
    this.killing = true
    this.cli?.child.kill('SIGKILL')
    await this.cli?.exited
    this.killing = false
  }

  /** It exited by itself (not killed here): what it printed last, else undefined. */
  exitedAlone(): string | undefined {
    const child = this.cli?.child
    if (!child || this.killing || (child.exitCode === null && child.signalCode === null)) return undefined
    return this.cli!.output.trim().split('\n').slice(-3).join(' | ')
  }

  private lastWith(field: string) {
    return this.cli?.events.findLast((event) => field in event)
  }

  async online(): Promise<boolean> {
    return this.exitedAlone() === undefined && this.cli?.child.exitCode === null && this.lastWith('tracker')?.tracker === 'online'
  }

  async peerId(): Promise<string | undefined> {
    return this.lastWith('peerId')?.peerId as string | undefined
  }

  async complete(): Promise<boolean> {
    if (!this.saved) return true
    return this.cli?.events.some((event) => event.event === 'done') ?? false
  }

  async digest(): Promise<string> {
    return sha256(await readFile(this.saved ? this.saved() : this.args()[1]!))
  }

  async dispose(): Promise<void> {
    await this.cli?.stop()
  }
}
