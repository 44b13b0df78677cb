// Two-tab transfer throughput: the app against the raw limit, a plain RTCDataChannel pump (64 KiB
// messages, bufferedAmountLowThreshold backpressure), runs interleaved. Each side is a browser of
// its own on an on-disk profile, as users have it. The raw pump is timed from connection start to
// last byte; the app from opening the link to `complete`. CPU is both browsers' process trees.
// WebTorrent (v3 browser bundle, local bittorrent-tracker) moves the same file in the same
// interleaving, timed from `add` to `done`, in two contexts of one browser (BENCH_WEBTORRENT=0 leaves it out).
// Targets: app/raw ≥ 0.9, app CPU per GiB ≤ 1.25× raw, app/WebTorrent ≥ 1.5.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { chromium, type Browser, type Page } from '@playwright/test'
import { CHROMIUM_ARGS } from '../../playwright.config'
import { launchProfile, median, openProfilePeer, report, share, startTracker, untilStored, writeRandomFile } from './harness'
import { cpuSeconds } from './proc'
import { measureBusy, measureKinds, rawPump, type Run } from './raw-pump'
import { nodeSeederToTab, rawNodeToChromium } from './node-peer'
import { requireWebTorrent, startBitTorrentTracker, startWebTorrentPages, WEBTORRENT_LABEL, webTorrentTransfer } from './webtorrent'

const SIZES_MIB = (process.env.BENCH_THROUGHPUT_MIB ?? '64,256').split(',').map(Number)
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3)
const WITH_WEBTORRENT = process.env.BENCH_WEBTORRENT !== '0'
const WITH_NODE = process.env.BENCH_NODE !== '0'
/** The app runs private links (encrypted, the default); a listed share beside each shows what encryption costs. */
const WITH_LISTED = process.env.BENCH_LISTED !== '0'
const MIB = 1024 * 1024

/** The app: one tab shares the file (not timed), another opens the link until `complete`. */
async function appTransfer(url: string, path: string, listed = false): Promise<Run> {
  const sharer = await openProfilePeer(url)
  const link = await share(sharer.page, path, { listed })
  await untilStored(sharer.page)
  const friend = await launchProfile()
  const page = friend.context.pages()[0] ?? (await friend.context.newPage())
  const cpuOf = () => cpuSeconds(sharer.profile.root) + cpuSeconds(friend.root)
  const cpu0 = cpuOf()
  const kinds = measureKinds([sharer.profile.root, friend.root])
  const busy = measureBusy()
  const started = performance.now()
  await page.goto(link)
  await page.waitForSelector('[data-testid="transfer"][data-state="complete"]', { timeout: 600_000 })
  const seconds = (performance.now() - started) / 1000
  const cpu = cpuOf() - cpu0
  const byKind = kinds()
  const busyShare = busy()
  await friend.close()
  await sharer.profile.close()
  return { seconds, cpu, kinds: byKind, busy: busyShare }
}

/** WebTorrent: seeded in one context (not timed), downloaded in a fresh one from `add` to `done`. */
async function webTorrent(browser: Browser, pages: string, trackerUrl: string, path: string): Promise<Run> {
  return webTorrentTransfer(browser, pages, trackerUrl, path, async (download) => {
    const cpu0 = cpuSeconds(root)
    const { seconds } = await download()
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
const profileRows: Record<string, string | number>[] = []
for (const mib of SIZES_MIB) {
  const path = `${dir}/file-${mib}.bin`
  await writeRandomFile(path, mib)
  const bytes = mib * MIB
  const raw: Run[] = []
  const app: Run[] = []
  const listed: Run[] = []
  const torrent: Run[] = []
  for (let pair = 0; pair < PAIRS; pair++) {
    raw.push(await rawPump(tracker.url, bytes))
    app.push(await appTransfer(tracker.url, path))
    if (WITH_LISTED) listed.push(await appTransfer(tracker.url, path, true))
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
    ...(listed.length > 0
      ? {
          'listed (unencrypted) MB/s': Number(median(listed.map(mbps)).toFixed(1)),
          'private/listed (median)': Number(median(app.map((run, i) => mbps(run) / mbps(listed[i]!))).toFixed(2)),
        }
      : {}),
    'machine busy: raw / app (%)': `${Math.round(median(raw.map((run) => run.busy ?? 0)) * 100)} / ${Math.round(median(app.map((run) => run.busy ?? 0)) * 100)}`,
    ...(torrent.length > 0 ? webTorrentColumns(torrent, app, mbps, cpuPerGiB) : {}),
  })
  // Where the CPU goes: median seconds per GiB by kind of process, raw pump against the app.
  const kinds = [...new Set([...raw, ...app].flatMap((run) => Object.keys(run.kinds ?? {})))].sort()
  for (const kind of kinds) {
    const perGiB = (runs: Run[]) => Number(median(runs.map((run) => ((run.kinds?.[kind] ?? 0) * 1024) / mib)).toFixed(1))
    if (perGiB(raw) > 0 || perGiB(app) > 0)
      profileRows.push({ 'file (MiB)': mib, process: kind, 'raw CPU s/GiB': perGiB(raw), 'app CPU s/GiB': perGiB(app) })
  }
}
report('throughput-profile', browser.version(), profileRows, {
  pairs: PAIRS,
  note: 'both browsers, by kind of process, then by job of thread within it ("renderer: workers")',
})
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
  targets: 'app/raw ≥ 0.9; app CPU per GiB ≤ 1.25× raw; app/WebTorrent ≥ 1.5',
  profiles: 'raw and app: one on-disk profile per side; WebTorrent: two contexts of one browser',
  ...(btTracker ? { webtorrent: WEBTORRENT_LABEL } : {}),
})
for (const row of rows) {
  const speed = Number(row['app/raw (median)'])
  const cpu = Number(row['app/raw CPU (median)'])
  console.log(
    `${row['file (MiB)']} MiB: app/raw ${speed} (target ≥ 0.9: ${speed >= 0.9 ? 'met' : 'NOT met'}), CPU ${cpu}× raw (target ≤ 1.25: ${cpu <= 1.25 ? 'met' : 'NOT met'})`,
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
