import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { randomBytes } from 'node:crypto'
import { cpus, tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from '@playwright/test'
import { CHROMIUM_ARGS } from '../../playwright.config'
import type { RunningService } from '../../signaling-server/server'
import { distDir, startTestService } from '../support/service'

const resultsDir = fileURLToPath(new URL('./results', import.meta.url))

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS })
}

/** A browser on an on-disk profile, as users have it (off the record, storage lives in memory). */
export interface Profile {
  context: BrowserContext
  /** The browser process, root of its process tree. */
  root: number
  close(): Promise<void>
}

export async function launchProfile(): Promise<Profile> {
  const dir = mkdtempSync(`${tmpdir()}/tabswarm-profile-`)
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    permissions: ['camera', 'microphone'],
    acceptDownloads: true,
  })
  return {
    context,
    root: browserPid(dir),
    async close() {
      await context.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The browser process started on `profileDir` (the one without a `--type`). */
function browserPid(profileDir: string): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let cmdline = ''
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8')
    } catch {
      continue
    }
    if (cmdline.includes(`--user-data-dir=${profileDir}`) && !cmdline.includes('--type=')) return Number(name)
  }
  throw new Error(`no browser process for ${profileDir}`)
}

/** A page of a new on-disk profile with the app open at `url`. */
export async function openProfilePeer(url: string): Promise<{ page: Page; profile: Profile }> {
  const profile = await launchProfile()
  const page = profile.context.pages()[0] ?? (await profile.context.newPage())
  await page.goto(url)
  await page.waitForSelector('[data-testid="tracker-status"][data-status="online"]')
  return { page, profile }
}

export async function startTracker(): Promise<RunningService> {
  return startTestService({}, distDir)
}

export async function openPeer(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const page = await context.newPage()
  await page.goto(url)
  await page.waitForSelector('[data-testid="tracker-status"][data-status="online"]')
  return page
}

/** Shares a file from disk (private unless `listed`); returns the share link once seeding. */
export async function share(page: Page, path: string, options: { listed?: boolean } = {}): Promise<string> {
  // (A build from before private links has no such choice: every share is listed there.)
  const choice = page.getByTestId('list-publicly')
  if (await choice.count()) await choice.setChecked(options.listed ?? false)
  await page.getByTestId('file-input').setInputFiles(path)
  await page.waitForSelector('[data-testid="transfer"][data-state="seeding"]', { timeout: 120_000 })
  return (await page.getByTestId('share-link').first().getAttribute('href'))!
}

/** Waits until the sharer's copy in browser storage is done (the link works before). */
export async function untilStored(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      // (A build from before the copy was made in the background has no such note: nothing to wait for.)
      const note = document.querySelector('[data-testid="share-stored"]')
      return note === null || note.getAttribute('data-stored') === note.getAttribute('data-total')
    },
    undefined,
    { timeout: 600_000 },
  )
}

export async function waitComplete(page: Page, timeout = 600_000): Promise<void> {
  await page.waitForSelector('[data-testid="transfer"][data-state="complete"]', { timeout })
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Writes the results as JSON (with date, Chromium version and core count) and prints them as a table. */
export function report(
  part: string,
  browserVersion: string,
  rows: Record<string, string | number>[],
  extra: Record<string, unknown>,
): void {
  const record = { part, date: new Date().toISOString(), chromium: browserVersion, cores: cpus().length, ...extra, rows }
  mkdirSync(`${resultsDir}/history`, { recursive: true })
  const latest = `${resultsDir}/${part}.json`
  // The run before goes to history/, named by its date; the latest stays at <part>.json.
  if (existsSync(latest)) {
    const before = JSON.parse(readFileSync(latest, 'utf8')) as { date?: string }
    renameSync(latest, `${resultsDir}/history/${part}-${(before.date ?? 'undated').replace(/[:.]/g, '-')}.json`)
  }
  writeFileSync(latest, `${JSON.stringify(record, null, 2)}\n`)
  console.log(`\n${part} — ${record.date}, Chromium ${browserVersion}, ${record.cores} cores`)
  console.table(rows)
  console.log(`(saved to tests/bench/results/${part}.json)`)
}

/** Writes `mib` MiB of random bytes to `path`, a MiB at a time. */
export async function writeRandomFile(path: string, mib: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path)
    out.on('error', reject)
    let written = 0
    const write = () => {
      while (written < mib) {
        written++
        if (!out.write(randomBytes(1024 * 1024))) return out.once('drain', write)
      }
      out.end(resolve)
    }
    write()
  })
}
