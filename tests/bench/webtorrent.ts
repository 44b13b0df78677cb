// WebTorrent for comparison, driven in two browser contexts through a local bittorrent-tracker.
// It is installed outside the project's dependencies by webtorrent-install.mjs (npm run bench does).
import { createReadStream } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import type { Browser, Page } from '@playwright/test'
import { WEBTORRENT_DIR as dir, WEBTORRENT_VERSIONS, webTorrentInstalled } from './webtorrent-install.mjs'

const bundle = `${dir}node_modules/webtorrent/dist/webtorrent.min.js`
export const WEBTORRENT_LABEL = `webtorrent ${WEBTORRENT_VERSIONS.webtorrent} browser bundle, bittorrent-tracker ${WEBTORRENT_VERSIONS['bittorrent-tracker']} on 127.0.0.1`

export function requireWebTorrent(): void {
  if (!webTorrentInstalled())
    throw new Error('WebTorrent is not installed for the benchmark: run it through `npm run bench`, which installs it.')
}

/** A bittorrent-tracker WebSocket server on 127.0.0.1; resolves with its ws:// URL and a closer. */
export async function startBitTorrentTracker(): Promise<{ url: string; close: () => Promise<void> }> {
  const { default: Server } = (await import(pathToFileURL(`${dir}node_modules/bittorrent-tracker/server.js`).href)) as {
    default: new (options: object) => {
      listen(port: number, host: string, done: () => void): void
      close(done: () => void): void
      ws: { address(): { port: number } }
    }
  }
  const server = new Server({ udp: false, http: false, ws: true, stats: false })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `ws://127.0.0.1:${server.ws.address().port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

const PAGE = `<!doctype html><input type="file"><script type="module">import WebTorrent from './webtorrent.min.js'; window.WebTorrent = WebTorrent</script>`

/** WebTorrent's browser build and its Service Worker (for streaming), by the path the pages load them from. */
const SCRIPTS: Record<string, string> = {
  '/webtorrent.min.js': bundle,
  '/sw.min.js': `${dir}node_modules/webtorrent/dist/sw.min.js`,
}

/**
 * Serves `page` and WebTorrent's scripts from 127.0.0.1: a page from a real loopback origin may
 * open WebSockets to loopback (Chromium's local network access checks block it otherwise).
 */
export async function startWebTorrentPages(page = PAGE): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const script = SCRIPTS[request.url ?? '']
    if (script) {
      response.writeHead(200, { 'content-type': 'text/javascript' })
      createReadStream(script).pipe(response)
      return
    }
    response.writeHead(200, { 'content-type': 'text/html' })
    response.end(page)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

async function webTorrentPage(browser: Browser, origin: string): Promise<Page> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const page = await context.newPage()
  await page.goto(`${origin}/`)
  await page.waitForFunction(() => 'WebTorrent' in window)
  return page
}

/** The path a WebTorrent transfer takes: ICE settings for both sides, and the seeder's network emulation. */
export interface WebTorrentPath {
  rtcConfig?: RTCConfiguration
  /** Runs on the seeder's page before it creates any connection. */
  shapeSeeder?: (page: Page) => Promise<void>
}

/** A WebTorrent download: seconds from `add` to `done`, and to the first verified piece. */
export interface WebTorrentTiming {
  seconds: number
  firstPieceSeconds: number
}

/**
 * Seeds `path` in one context (not timed) and downloads it in a fresh one (fresh storage, so no
 * cached pieces), timed from `add` to `done`. Returns the `measure` around the download.
 */
export async function webTorrentTransfer<T>(
  browser: Browser,
  pages: string,
  trackerUrl: string,
  path: string,
  measure: (download: () => Promise<WebTorrentTiming>) => Promise<T>,
  { rtcConfig = { iceServers: [] }, shapeSeeder }: WebTorrentPath = {},
): Promise<T> {
  const { page: seeder, magnet } = await webTorrentSeeder(browser, pages, trackerUrl, path, undefined, { rtcConfig, shapeSeeder })
  const downloader = await webTorrentPage(browser, pages)
  try {
    return await measure(() =>
      downloader.evaluate(
        ({ magnet, announce, rtcConfig }) =>
          new Promise<WebTorrentTiming>((resolve, reject) => {
            const WebTorrent = (window as unknown as { WebTorrent: new (options: object) => any }).WebTorrent
            const client = new WebTorrent({ tracker: { rtcConfig }, dht: false, lsd: false })
            client.on('error', (error: Error) => reject(error))
            const started = performance.now()
            let firstPiece: number | undefined
            client.add(magnet, { announce: [announce] }, (torrent: { on(event: string, f: () => void): void }) => {
              torrent.on('verified', () => (firstPiece ??= performance.now()))
              torrent.on('done', () => {
                const now = performance.now()
                resolve({ seconds: (now - started) / 1000, firstPieceSeconds: ((firstPiece ?? now) - started) / 1000 })
              })
            })
          }),
        { magnet, announce: trackerUrl, rtcConfig },
      ),
    )
  } finally {
    await downloader.context().close()
    await seeder.context().close()
  }
}

/** A WebTorrent seeder of `path` in its own context, its upload capped at `bytesPerSecond` if given; resolves with its magnet link. */
export async function webTorrentSeeder(
  browser: Browser,
  origin: string,
  trackerUrl: string,
  path: string,
  bytesPerSecond?: number,
  { rtcConfig = { iceServers: [] }, shapeSeeder }: WebTorrentPath = {},
): Promise<{ magnet: string; page: Page }> {
  const page = await webTorrentPage(browser, origin)
  await shapeSeeder?.(page)
  await page.locator('input[type=file]').setInputFiles(path)
  const magnet = await page.evaluate(
    ({ announce, rate, rtcConfig }) =>
      new Promise<string>((resolve) => {
        const WebTorrent = (window as unknown as { WebTorrent: new (options: object) => any }).WebTorrent
        const client = new WebTorrent({ tracker: { rtcConfig }, dht: false, lsd: false })
        if (rate !== undefined) client.throttleUpload(rate)
        const file = document.querySelector('input')!.files![0]!
        client.seed(file, { announce: [announce] }, (torrent: { magnetURI: string }) => resolve(torrent.magnetURI))
      }),
    { announce: trackerUrl, rate: bytesPerSecond, rtcConfig },
  )
  return { magnet, page }
}
