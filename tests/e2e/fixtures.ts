import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { test as base, expect, type Browser, type BrowserContext, type Download, type Page } from '@playwright/test'
import type { RunningService } from '../../signaling-server/server'
import { distDir, startTestService } from '../support/service'

export interface OpenOptions {
  /** Grant camera and microphone (needed for loopback ICE candidates); true unless set. */
  mediaPermissions?: boolean
  /** Runs in the page before the app (e.g. to make a deliberately faulty peer). */
  initScript?: string
  /** Runs in the engine's worker before the engine (prepended to the worker's script). */
  workerScript?: string
  /** Wait until the app is online (true unless set; false to open a page that is not the app). */
  waitForApp?: boolean
  /** More permissions for the context (e.g. clipboard). */
  permissions?: string[]
  colorScheme?: 'light' | 'dark'
  viewport?: { width: number; height: number }
  /** Accept the certificate a test made (a TLS proxy in front of the service). */
  ignoreHTTPSErrors?: boolean
}

export interface Peers {
  /** A new browser context (own IndexedDB) with the app open at `path`. */
  open(path?: string, options?: OpenOptions): Promise<Page>
}

/** The tracker of one test: its URL stays the same across stop() and start(). */
export interface Tracker {
  url: string
  stop(): Promise<void>
  start(): Promise<void>
}

/** Each test gets its own tracker on a free loopback port, serving the built app; `serviceEnv` adds settings. */
export const test = base.extend<{ serviceEnv: Record<string, string>; service: Tracker; peers: Peers }>({
  serviceEnv: [{}, { option: true }],
  service: async ({ serviceEnv }, use) => {
    // A fixed secret, so tabs keep their peer ids when the tracker restarts.
    const env: Record<string, string> = { TRACKER_SECRET: `test-secret-${Math.random()}`, ...serviceEnv }
    let running: RunningService | undefined = await startTestService(env, distDir)
    env.PORT = String(running.port)
    const url = running.url
    await use({
      url,
      async stop() {
        await running?.close()
        running = undefined
      },
      async start() {
        running ??= await startTestService(env, distDir)
      },
    })
    await running?.close()
  },
  peers: async ({ browser, service }, use) => {
    const contexts: Awaited<ReturnType<Browser['newContext']>>[] = []
    await use({
      async open(
        path = '/',
        {
          mediaPermissions = true,
          initScript,
          workerScript,
          waitForApp = true,
          permissions = [],
          colorScheme,
          viewport,
          ignoreHTTPSErrors,
        }: OpenOptions = {},
      ) {
        const context = await browser.newContext({
          permissions: [...(mediaPermissions ? ['camera', 'microphone'] : []), ...permissions],
          acceptDownloads: true,
          ...(colorScheme ? { colorScheme } : {}),
          ...(viewport ? { viewport } : {}),
          ...(workerScript ? { bypassCSP: true } : {}),
          ...(ignoreHTTPSErrors ? { ignoreHTTPSErrors } : {}),
        })
        contexts.push(context)
        if (initScript) await context.addInitScript(initScript)
        if (workerScript) await context.addInitScript(workerPrelude(workerScript))
        const page = await context.newPage()
        await page.goto(path.startsWith('http') ? path : `${service.url}${path}`)
        if (waitForApp) await expect(page.getByTestId('tracker-status')).toHaveAttribute('data-status', 'online')
        return page
      },
    })
    for (const context of contexts) await context.close().catch(() => undefined)
  },
})

export { expect }

/** Starts every worker of pages this context opens from now on with `script` (the context needs `bypassCSP`). */
export async function addWorkerScript(context: BrowserContext, script: string): Promise<void> {
  await context.addInitScript(workerPrelude(script))
}

/**
 * A page script that starts every worker with `script`, then the real worker module: a blob
 * module that runs it, imports the worker and hands it the messages that came meanwhile. (Routing
 * the worker's script instead breaks WebSockets in the worker under Playwright.) Blob workers need
 * the context's `bypassCSP`.
 */
function workerPrelude(script: string): string {
  return `{
  const Original = Worker
  globalThis.Worker = class extends Original {
    constructor(url, options) {
      const real = JSON.stringify(new URL(url, location.href).href)
      const source = [
        ${JSON.stringify(script)},
        'const early = []; const keep = (event) => early.push(event.data); self.addEventListener("message", keep);',
        'import(' + real + ').then(() => { self.removeEventListener("message", keep); for (const data of early) self.dispatchEvent(new MessageEvent("message", { data })) })',
      ].join(';\\n')
      super(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })), options)
    }
  }
}`
}

/** Waits until the sharer's copy of what it shared last is in its storage (the link works before). */
export async function untilStored(page: Page): Promise<void> {
  const note = page.getByTestId('share-stored').first()
  await expect(note).toHaveAttribute('data-total', /^[1-9]/)
  await expect.poll(async () => (await note.getAttribute('data-stored')) === (await note.getAttribute('data-total'))).toBe(true)
}

/** Overwrites one stored chunk with other bytes, where this browser keeps it (OPFS, or IndexedDB); the app must not be open. */
export async function damageStoredChunk(page: Page, fileId: string, index: number, length: number): Promise<void> {
  await page.evaluate(
    async ({ fileId, index, length }) => {
      const junk = new Uint8Array(length).fill(1)
      const folder = await navigator.storage
        .getDirectory()
        .then((root) => root.getDirectoryHandle('tabswarm-chunks').catch(() => undefined))
      const handle = await folder?.getFileHandle(fileId).catch(() => undefined)
      if (handle) {
        // A worker that just ended may hold the file a moment longer.
        for (let attempt = 0; ; attempt++) {
          try {
            const writable = await handle.createWritable({ keepExistingData: true })
            await writable.write({ type: 'write', position: index * length, data: junk })
            await writable.close()
            return
          } catch (error) {
            if (attempt >= 50) throw error
            await new Promise((resolve) => setTimeout(resolve, 100))
          }
        }
      }
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open('tabswarm')
        request.onsuccess = () => resolve(request.result)
        request.onerror = () => reject(request.error)
      })
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('chunks', 'readwrite')
        tx.objectStore('chunks').put({ fileId, index, data: new Blob([junk]) })
        tx.oncomplete = () => resolve()
        tx.onerror = () => reject(tx.error)
      })
    },
    { fileId, index, length },
  )
}

export function sha256(bytes: Buffer | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export async function downloadedBytes(download: Download): Promise<Buffer> {
  return readFile(await download.path())
}

/** The same share link with page options (speed caps, timeouts) in its query. */
export function withQuery(link: string, query: string): string {
  return link.replace('/#/', `/?${query}#/`)
}

/** This tab's peer id, as the tracker gave it. */
export async function peerIdOf(page: Page): Promise<string> {
  const status = page.getByTestId('tracker-status')
  await expect(status).toHaveAttribute('data-peer-id', /.{8,}/)
  return (await status.getAttribute('data-peer-id'))!
}

export function transferOf(page: Page) {
  return page.getByTestId('transfer').first()
}

export async function haveCount(page: Page): Promise<number> {
  return Number(await transferOf(page).getAttribute('data-have'))
}

/** A share link's fragment: the file id, then (for a private link) its key. */
export const SHARE_LINK = /\/#\/f\/[0-9a-f]{64}(\/[A-Za-z0-9_-]{22})?$/

/** The file id in a share link. */
export function fileIdOfLink(link: string): string {
  return link.split('/f/')[1]!.slice(0, 64)
}

/**
 * Shares a file from the page's file input; returns the share link once the tab is seeding. Private
 * (the default: the link carries a key) unless `listed`.
 */
export async function shareFile(
  page: Page,
  file: { name: string; mimeType: string; buffer: Buffer },
  options: { listed?: boolean; keepers?: boolean } = {},
): Promise<string> {
  await page.getByTestId('list-publicly').setChecked(options.listed ?? false)
  if (!options.listed) await page.getByTestId('allow-keepers').setChecked(options.keepers ?? false)
  const before = await page.getByTestId('share-link').count()
  await page.getByTestId('file-input').setInputFiles(file)
  // The newest share is listed first; wait for it, not the share before.
  await expect(page.getByTestId('share-link')).toHaveCount(before + 1)
  const link = page.getByTestId('share-link').first()
  await expect(link).toHaveAttribute('href', options.listed ? /\/#\/f\/[0-9a-f]{64}$/ : /\/#\/f\/[0-9a-f]{64}\/[A-Za-z0-9_-]{22}$/)
  await expect(page.getByTestId('transfer').first()).toHaveAttribute('data-state', 'seeding')
  return (await link.getAttribute('href'))!
}

/** Clicks Save on a complete transfer and returns the browser download. */
export async function save(page: Page): Promise<Download> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('save-button').click()])
  return download
}
