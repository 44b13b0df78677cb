// Stock Firefox (Debian's firefox-esr) driven over WebDriver BiDi with puppeteer-core, for the
// cross-browser tests. One Firefox per test worker, one browser context (its own storage) per
// peer, every context closed when its test ends.
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, ElementHandle, Page } from 'puppeteer-core'
import { launchWebRtcFirefox } from '../support/firefox-launch'
import { test as base } from './fixtures'

/** How long a Firefox page may take to reach a state the test waits for. */
const WAIT_MS = 60_000
/** How often the download folder is looked at while a save completes. */
const POLL_MS = 100

export interface FirefoxPeers {
  /** Opens `url` in a new context of this Firefox; resolves once the tab is online with the tracker. */
  open(url: string): Promise<Page>
  /** The folder Firefox saves downloads into. */
  downloads: string
  /** Closes every context opened so far. */
  closeContexts(): Promise<void>
  close(): Promise<void>
}

/** `privateWindows`: every window private, as when the user opens the link in one; `serviceWorkers: false`: none for any page, as some settings have it. */
export async function launchFirefox({ privateWindows = false, serviceWorkers = true } = {}): Promise<FirefoxPeers> {
  const downloads = await mkdtemp(join(tmpdir(), 'tabswarm-firefox-downloads-'))
  const browser: Browser = await launchWebRtcFirefox({
    ...(privateWindows ? { 'browser.privatebrowsing.autostart': true } : {}),
    ...(serviceWorkers ? {} : { 'dom.serviceWorkers.enabled': false }),
    // Downloads go straight into the test's folder.
    'browser.download.dir': downloads,
    'browser.download.folderList': 2,
    'browser.download.useDownloadDir': true,
    'browser.download.always_ask_before_handling_new_types': false,
    'browser.download.start_downloads_in_tmp_dir': false,
    'browser.helperApps.neverAsk.saveToDisk': 'application/octet-stream,application/zip,text/plain,video/webm',
  })
  const contexts: BrowserContext[] = []
  return {
    downloads,
    async open(url) {
      const context = await browser.createBrowserContext()
      contexts.push(context)
      const page = await context.newPage()
      await page.goto(url)
      await page.waitForSelector('[data-testid="tracker-status"][data-status="online"]', { timeout: WAIT_MS })
      return page
    },
    async closeContexts() {
      for (const context of contexts.splice(0)) await context.close().catch(() => undefined)
    },
    close: () => browser.close(),
  }
}

/** The test fixtures plus `firefox`: the worker's Firefox, its contexts closed after each test. */
export const test = base.extend<{ firefox: FirefoxPeers }, { firefoxBrowser: FirefoxPeers }>({
  firefoxBrowser: [
    async ({}, use) => {
      const firefox = await launchFirefox()
      await use(firefox)
      await firefox.close()
    },
    { scope: 'worker' },
  ],
  firefox: async ({ firefoxBrowser }, use) => {
    await use(firefoxBrowser)
    await firefoxBrowser.closeContexts()
  },
})

/** Waits until the page's (first) transfer is in `state`. */
export async function firefoxState(page: Page, state: string): Promise<void> {
  await page.waitForSelector(`[data-testid="transfer"][data-state="${state}"]`, { timeout: WAIT_MS })
}

export async function firefoxAttribute(page: Page, selector: string, name: string): Promise<string | null> {
  return page.$eval(selector, (element, attribute) => element.getAttribute(attribute), name)
}

/** Shares a file from the page's file input; returns the share link once the tab is seeding. */
export async function firefoxShare(page: Page, file: { name: string; buffer: Buffer }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tabswarm-firefox-share-'))
  const path = join(dir, file.name)
  await writeFile(path, file.buffer)
  const input = (await page.waitForSelector('input[data-testid="file-input"]')) as ElementHandle<HTMLInputElement> | null
  await input!.uploadFile(path)
  await page.waitForSelector('[data-testid="share-link"][href*="/#/f/"]', { timeout: WAIT_MS })
  await firefoxState(page, 'seeding')
  return (await firefoxAttribute(page, '[data-testid="share-link"]', 'href'))!
}

/** This tab's peer id, as the tracker gave it. */
export async function firefoxPeerId(page: Page): Promise<string> {
  return (await firefoxAttribute(page, '[data-testid="tracker-status"]', 'data-peer-id'))!
}

/** Bytes received from a peer, by its row in the transfer's peer table. */
export async function firefoxBytesFrom(page: Page, peerId: string): Promise<number> {
  const row = await page.$(`[data-testid="peer"][data-peer-id="${peerId}"]`)
  return row ? Number(await row.evaluate((element) => element.getAttribute('data-bytes-down'))) : 0
}

/**
 * Clicks Save and returns the saved file's bytes once Firefox has finished writing `name`: it has
 * `size` bytes, or (when the size is not known in advance) `complete` accepts them.
 */
export async function firefoxSave(
  peers: FirefoxPeers,
  page: Page,
  name: string,
  finished: { size: number } | { complete: (bytes: Buffer) => boolean },
): Promise<Buffer> {
  await page.click('[data-testid="save-button"]')
  const path = join(peers.downloads, name)
  const deadline = Date.now() + WAIT_MS
  for (;;) {
    const names = await readdir(peers.downloads)
    if (names.includes(name) && !names.includes(`${name}.part`)) {
      if ('size' in finished && (await stat(path)).size === finished.size) return readFile(path)
      if ('complete' in finished) {
        const bytes = await readFile(path)
        if (finished.complete(bytes)) return bytes
      }
    }
    if (Date.now() > deadline) throw new Error(`Firefox did not save ${name} in ${WAIT_MS} ms; the folder has ${names.join(', ')}`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}
