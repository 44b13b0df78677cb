// Two-tab transfer throughput: the app against the raw limit, a plain RTCDataChannel pump between
// two contexts of the same browser (64 KiB messages, bufferedAmountLowThreshold backpressure),
// runs interleaved. The raw pump is timed from connection start to last byte; the app from
// opening the link to `complete`. CPU is the browser's process tree, from /proc.
// WebTorrent (v3 browser bundle, local bittorrent-tracker) moves the same file in the same
// interleaving, timed from `add` to `done` (BENCH_WEBTORRENT=0 leaves it out).
// Targets: app/raw ≥ 0.9, app CPU per GiB ≤ 1.15× raw, app/WebTorrent ≥ 1.5.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { chromium, type Browser, type Page } from '@playwright/test'
import { CHROMIUM_ARGS } from '../../playwright.config'
import { median, openPeer, report, share, startTracker, writeRandomFile } from './harness'
import { cpuSeconds } from './proc'
import { nodeSeederToTab, rawNodeToChromium } from './node-peer'
import { requireWebTorrent, startBitTorrentTracker, startWebTorrentPages, WEBTORRENT_LABEL, webTorrentTransfer } from './webtorrent'

const SIZES_MIB = (process.env.BENCH_THROUGHPUT_MIB ?? '64,256').split(',').map(Number)
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3)
const WITH_WEBTORRENT = process.env.BENCH_WEBTORRENT !== '0'
const WITH_NODE = process.env.BENCH_NODE !== '0'
const MIB = 1024 * 1024

interface Run {
  seconds: number
  cpu: number
}

/** The raw limit: one data channel, 64 KiB messages, sent as fast as bufferedAmount allows. */
async function rawPump(browser: Browser, url: string, bytes: number): Promise<Run> {
  const contexts = await Promise.all([0, 1].map(() => browser.newContext({ permissions: ['camera', 'microphone'] })))
  const [a, b] = (await Promise.all(
    contexts.map(async (context) => {
      const page = await context.newPage()
      await page.goto(url)
      return page
    }),
  )) as [Page, Page]
  const gathered = `new Promise((resolve) => { if (pc.iceGatheringState === 'complete') resolve(); else pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve() })`
  const cpu0 = cpuSeconds(root)
  const started = performance.now()
  const offer = await a.evaluate(`(async () => {
    const pc = window.pc = new RTCPeerConnection({ iceServers: [] })
    window.channel = pc.createDataChannel('pump', { ordered: true })
    await pc.setLocalDescription(await pc.createOffer())
    await ${gathered}
    return pc.localDescription.toJSON()
  })()`)
  const answer = await b.evaluate(
    `(async (offer) => {
      const pc = window.pc = new RTCPeerConnection({ iceServers: [] })
      window.received = new Promise((resolve) => {
        pc.ondatachannel = ({ channel }) => {
          let got = 0
          channel.onmessage = (event) => { got += event.data.byteLength ?? event.data.size; if (got >= ${bytes}) resolve(got) }
        }
      })
      await pc.setRemoteDescription(offer)
      await pc.setLocalDescription(await pc.createAnswer())
      await ${gathered}
      return pc.localDescription.toJSON()
    })`.replace(/^/, '') + `(${JSON.stringify(await offer)})`,
  )
  await a.evaluate(`(async (answer) => {
    await pc.setRemoteDescription(answer)
    const channel = window.channel
    await new Promise((resolve) => channel.readyState === 'open' ? resolve() : (channel.onopen = resolve))
    const message = new Uint8Array(64 * 1024)
    channel.bufferedAmountLowThreshold = 1024 * 1024
    let sent = 0
    while (sent < ${bytes}) {
      while (channel.bufferedAmount < 4 * 1024 * 1024 && sent < ${bytes}) { channel.send(message); sent += message.length }
      if (sent < ${bytes}) await new Promise((resolve) => (channel.onbufferedamountlow = resolve))
    }
  })(${JSON.stringify(answer)})`)
  await b.evaluate('window.received')
  const seconds = (performance.now() - started) / 1000
  const cpu = cpuSeconds(root) - cpu0
  for (const context of contexts) await context.close()
  return { seconds, cpu }
}

/** The app: one tab shares the file (not timed), another opens the link until `complete`. */
async function appTransfer(browser: Browser, url: string, path: string): Promise<Run> {
  const sharer = await openPeer(browser, url)
  const link = await share(sharer, path)
  const friendContext = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const friend = await friendContext.newPage()
  const cpu0 = cpuSeconds(root)
  const started = performance.now()
  await friend.goto(link)
  await friend.waitForSelector('[data-testid="transfer"][data-state="complete"]', { timeout: 600_000 })
  const seconds = (performance.now() - started) / 1000
  const cpu = cpuSeconds(root) - cpu0
  await friendContext.close()
  await sharer.context().close()
  return { seconds, cpu }
}

/** WebTorrent: seeded in one context (not timed), downloaded in a fresh one from `add` to `done`. */
async function webTorrent(browser: Browser, pages: string, trackerUrl: string, path: string): Promise<Run> {
  return webTorrentTransfer(browser, pages, trackerUrl, path, async (download) => {
    const cpu0 = cpuSeconds(root)
    const seconds = await download()
    return { seconds, cpu: cpuSeconds(root) - cpu0 }
  })
}

if (WITH_WEBTORRENT) requireWebTorrent()
const btTracker = WITH_WEBTORRENT ? await startBitTorrentTracker() : undefined
const wtPages = WITH_WEBTORRENT ? await startWebTorrentPages() : undefined
function webTorrentColumns(torrent: Run[], app: Run[], mbps: (run: Run) => number, cpuPerGiB: (run: Run) => number) {
  const ratios = app.map((run, i) => mbps(run) / mbps(torrent[i]!))
  return {
    'WebTorrent MB/s': Number(median(torrent.map(mbps)).toFixed(1)),
    'WebTorrent CPU s/GiB': Number(median(torrent.map(cpuPerGiB)).toFixed(0)),
    'app/WebTorrent (median)': Number(median(ratios).toFixed(2)),
    'app/WebTorrent min–max': `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
  }
}

const server = await chromium.launchServer({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS })
const browser = await chromium.connect(server.wsEndpoint())
const root = server.process().pid!
const tracker = await startTracker()
const dir = mkdtempSync(`${tmpdir()}/tabswarm-bench-`)
const rows: Record<string, string | number>[] = []
for (const mib of SIZES_MIB) {
  const path = `${dir}/file-${mib}.bin`
  await writeRandomFile(path, mib)
  const bytes = mib * MIB
  const raw: Run[] = []
  const app: Run[] = []
  const torrent: Run[] = []
  for (let pair = 0; pair < PAIRS; pair++) {
    raw.push(await rawPump(browser, tracker.url, bytes))
    app.push(await appTransfer(browser, tracker.url, path))
    if (btTracker && wtPages) torrent.push(await webTorrent(browser, wtPages.origin, btTracker.url, path))
  }
  const mbps = (run: Run) => bytes / 1e6 / run.seconds
  const cpuPerGiB = (run: Run) => (run.cpu * 1024) / mib
  const ratios = app.map((run, i) => mbps(run) / mbps(raw[i]!))
  const cpuRatios = app.map((run, i) => cpuPerGiB(run) / cpuPerGiB(raw[i]!))
  rows.push({
    'file (MiB)': mib,
    'raw MB/s': Number(median(raw.map(mbps)).toFixed(1)),
    'app MB/s': Number(median(app.map(mbps)).toFixed(1)),
    'app/raw (median)': Number(median(ratios).toFixed(2)),
    'app/raw min–max': `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
    'raw CPU s/GiB': Number(median(raw.map(cpuPerGiB)).toFixed(0)),
    'app CPU s/GiB': Number(median(app.map(cpuPerGiB)).toFixed(0)),
    'app/raw CPU (median)': Number(median(cpuRatios).toFixed(2)),
    ...(torrent.length > 0 ? webTorrentColumns(torrent, app, mbps, cpuPerGiB) : {}),
  })
}
// The command-line seeder sending to a tab, against a raw Node→Chromium data channel.
const nodeRows: Record<string, string | number>[] = []
for (const mib of WITH_NODE ? SIZES_MIB : []) {
  const path = `${dir}/file-${mib}.bin`
  const raw: number[] = []
  const seeder: number[] = []
  for (let pair = 0; pair < PAIRS; pair++) {
    raw.push(await rawNodeToChromium(browser, tracker.url, mib * MIB))
    seeder.push(await nodeSeederToTab(browser, tracker.url, path))
  }
  const mbps = (seconds: number) => (mib * MIB) / 1e6 / seconds
  const ratios = seeder.map((seconds, i) => mbps(seconds) / mbps(raw[i]!))
  nodeRows.push({
    'file (MiB)': mib,
    'raw Node→Chromium MB/s': Number(median(raw.map(mbps)).toFixed(1)),
    'seeder→tab MB/s': Number(median(seeder.map(mbps)).toFixed(1)),
    'seeder/raw (median)': Number(median(ratios).toFixed(2)),
    'seeder/raw min–max': `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
  })
}
if (nodeRows.length > 0) report('throughput-node', browser.version(), nodeRows, { pairs: PAIRS })

report('throughput', browser.version(), rows, {
  pairs: PAIRS,
  targets: 'app/raw ≥ 0.9; app CPU per GiB ≤ 1.15× raw; app/WebTorrent ≥ 1.5',
  ...(btTracker ? { webtorrent: WEBTORRENT_LABEL } : {}),
})
for (const row of rows) {
  const speed = Number(row['app/raw (median)'])
  const cpu = Number(row['app/raw CPU (median)'])
  console.log(
    `${row['file (MiB)']} MiB: app/raw ${speed} (target ≥ 0.9: ${speed >= 0.9 ? 'met' : 'NOT met'}), CPU ${cpu}× raw (target ≤ 1.15: ${cpu <= 1.15 ? 'met' : 'NOT met'})`,
  )
  if ('app/WebTorrent (median)' in row) {
    const versus = Number(row['app/WebTorrent (median)'])
    console.log(`${row['file (MiB)']} MiB: app/WebTorrent ${versus} (target ≥ 1.5: ${versus >= 1.5 ? 'met' : 'NOT met'})`)
  }
}
await browser.close()
await server.close()
await tracker.close()
await btTracker?.close()
await wtPages?.close()
