// WebTorrent streaming a file to a <video> through its own Service Worker server (sw.min.js and
// createServer, its documented browser path), for the stream benchmark's comparison.
import { createReadStream } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from '@playwright/test'
import { WEBTORRENT_DIR as dir } from './webtorrent-install.mjs'

const files: Record<string, string> = {
  '/webtorrent.min.js': `${dir}node_modules/webtorrent/dist/webtorrent.min.js`,
  '/sw.min.js': `${dir}node_modules/webtorrent/dist/sw.min.js`,
}

/** The seeder's page shares its input's file; the viewer's (with `#<magnet>`) streams it into its video. */
const PAGE = `<!doctype html><input type="file"><video id="player" muted></video><script type="module">
import WebTorrent from './webtorrent.min.js'
window.WebTorrent = WebTorrent
const magnet = decodeURIComponent(location.hash.slice(1))
if (magnet) {
  const registration = await navigator.serviceWorker.register('./sw.min.js', { scope: './' })
  await navigator.serviceWorker.ready
  const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false })
  client.createServer({ controller: registration })
  client.add(magnet, (torrent) => torrent.files[0].streamTo(document.getElementById('player')))
}
</script>`

export async function startWebTorrentStreamPages(): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    const file = files[request.url ?? '']
    if (file) {
      response.writeHead(200, { 'content-type': 'text/javascript' })
      createReadStream(file).pipe(response)
      return
    }
    response.writeHead(200, { 'content-type': 'text/html' })
    response.end(PAGE)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** A seeder of `path` capped at `bytesPerSecond`; resolves with its magnet link. */
export async function webTorrentSeeder(
  browser: Browser,
  origin: string,
  trackerUrl: string,
  path: string,
  bytesPerSecond: number,
): Promise<{ magnet: string; page: Page }> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const page = await context.newPage()
  await page.goto(`${origin}/`)
  await page.waitForFunction(() => 'WebTorrent' in window)
  await page.locator('input[type=file]').setInputFiles(path)
  const magnet = await page.evaluate(
    ({ announce, rate }) =>
      new Promise<string>((resolve) => {
        const WebTorrent = (window as unknown as { WebTorrent: new (options: object) => any }).WebTorrent
        const client = new WebTorrent({ tracker: { rtcConfig: { iceServers: [] } }, dht: false, lsd: false })
        client.throttleUpload(rate)
        const file = document.querySelector('input')!.files![0]!
        client.seed(file, { announce: [announce] }, (torrent: { magnetURI: string }) => resolve(torrent.magnetURI))
      }),
    { announce: trackerUrl, rate: bytesPerSecond },
  )
  return { magnet, page }
}
