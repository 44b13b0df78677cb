// The friend across the internet: two tabs on an emulated path (added round trip, loss), the app
// against one raw data channel and WebTorrent on the same path, interleaved in one run. Each path
// is emulated two independent ways (net-lab.ts): Chromium's own emulation on the sending page, and
// a delaying UDP relay in front of coturn with relay-only ICE.
// Targets: +40 ms app ≥ 3× one raw channel and ≥ 2.5× WebTorrent; +100 ms ≥ 3× raw; +40 ms with
// 1 % loss ≥ 2× raw.
// BENCH_PATHS_RTT (ms, default 0,20,40,100,200), BENCH_PATHS_LOSS (%, default 0,1),
// BENCH_PATHS_EMULATORS (cdp,relay), BENCH_PATHS_RUNS (1), BENCH_PATHS_MIB (a size for every
// case; by default it shrinks with the path so one raw channel takes about 15–30 s), BENCH_WEBTORRENT=0,
// BENCH_PATHS_TIMELINE=1 (each app run's rate and lanes every half second: ramp, stalls, tail).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { chromium, type Page } from '@playwright/test'
import { CHROMIUM_ARGS } from '../../playwright.config'
import { distDir, startTestService } from '../support/service'
import { launchProfile, median, openProfilePeer, report, share, untilStored, writeRandomFile } from './harness'
import { describePath, shapeSender, startRelayPath, type Emulator, type PathCase, type RelayPath } from './net-lab'
import { rawPump, type RawRun } from './raw-pump'
import {
  requireWebTorrent,
  startBitTorrentTracker,
  startWebTorrentPages,
  WEBTORRENT_LABEL,
  webTorrentTransfer,
  type WebTorrentTiming,
} from './webtorrent'

const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').filter(Boolean)
const RTTS = list('BENCH_PATHS_RTT', '0,20,40,100,200').map(Number)
const LOSSES = list('BENCH_PATHS_LOSS', '0,1').map((percent) => Number(percent) / 100)
const EMULATORS = list('BENCH_PATHS_EMULATORS', 'cdp,relay') as Emulator[]
const RUNS = Number(process.env.BENCH_PATHS_RUNS ?? 1)
const WITH_WEBTORRENT = process.env.BENCH_WEBTORRENT !== '0'
const TIMELINE = process.env.BENCH_PATHS_TIMELINE === '1'
const MIB = 1024 * 1024

/**
 * Big enough that one raw channel takes about 15–30 s on the path (it moves about 64 KB per round
 * trip, a quarter of that at 1 % loss), so connection set-up and ramp are a small part of the time.
 */
function sizeMiB({ rttMs, loss }: PathCase): number {
  if (process.env.BENCH_PATHS_MIB) return Number(process.env.BENCH_PATHS_MIB)
  const sizes = loss > 0 ? { 0: 24, 20: 12, 40: 8, 100: 4, 200: 2 } : { 0: 64, 20: 48, 40: 48, 100: 16, 200: 8 }
  const rtt =
    Object.keys(sizes)
      .map(Number)
      .find((ms) => rttMs <= ms) ?? 200
  return sizes[rtt as keyof typeof sizes]
}

interface AppRun {
  seconds: number
  firstChunkSeconds: number
  /** The most peer connections the friend had to the sharer at once. */
  lanes: number
}

/** Most lanes any peer row shows (a build without lanes shows none: one). */
async function lanesOf(page: Page): Promise<number> {
  const counts = await page.getByTestId('peer').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-lanes') || 1)))
  return Math.max(1, ...counts)
}

/** The sharer shares (not timed), its page is shaped, then the friend opens the link: timed to `complete`. */
async function appTransfer(url: string, path: string, pathCase: PathCase): Promise<AppRun> {
  const query = pathCase.emulator === 'relay' ? '?relay=1' : ''
  const sharer = await openProfilePeer(`${url}/${query}`)
  const link = await share(sharer.page, path)
  await untilStored(sharer.page)
  if (pathCase.emulator === 'cdp') await shapeSender(sharer.page, pathCase)
  const friend = await launchProfile()
  const page = friend.context.pages()[0] ?? (await friend.context.newPage())
  const started = performance.now()
  await page.goto(query ? link.replace('/#/', `/${query}#/`) : link)
  // Progress is drawn four times a second: the first chunk is seen to within a quarter second.
  const firstChunk = page
    .waitForFunction(() => Number(document.querySelector('[data-testid="transfer"]')?.getAttribute('data-have')) >= 1, undefined, {
      polling: 50,
      timeout: 600_000,
    })
    .then(() => performance.now())
  let lanes = 1
  const timeline: string[] = []
  let before = { at: started, bytes: 0 }
  const watchLanes = setInterval(
    () =>
      void lanesOf(page).then(
        async (n) => {
          lanes = Math.max(lanes, n)
          if (!TIMELINE) return
          const bytes = Number(await page.getByTestId('transfer').getAttribute('data-bytes-down', { timeout: 1_000 }))
          const at = performance.now()
          const rate = ((bytes - before.bytes) * 1000) / (at - before.at) / 1e6
          timeline.push(`${((at - started) / 1000).toFixed(1)} s ${n} lanes ${(bytes / MIB).toFixed(1)} MiB ${rate.toFixed(2)} MB/s`)
          before = { at, bytes }
        },
        () => undefined,
      ),
    500,
  )
  await page.waitForSelector('[data-testid="transfer"][data-state="complete"]', { timeout: 900_000 })
  const seconds = (performance.now() - started) / 1000
  clearInterval(watchLanes)
  if (TIMELINE) console.log(`    app timeline:\n      ${timeline.join('\n      ')}`)
  const firstChunkSeconds = ((await firstChunk) - started) / 1000
  await friend.close()
  await sharer.profile.close()
  return { seconds, firstChunkSeconds, lanes }
}

if (WITH_WEBTORRENT) requireWebTorrent()
const btTracker = WITH_WEBTORRENT ? await startBitTorrentTracker() : undefined
const wtPages = WITH_WEBTORRENT ? await startWebTorrentPages() : undefined
const server = await chromium.launchServer({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS })
const browser = await chromium.connect(server.wsEndpoint())
const dir = mkdtempSync(`${tmpdir()}/tabswarm-paths-`)
const rows: Record<string, string | number>[] = []
const files = new Map<number, string>()

for (const emulator of EMULATORS)
  for (const loss of LOSSES)
    for (const rttMs of RTTS) {
      const pathCase: PathCase = { rttMs, loss, emulator }
      const mib = sizeMiB(pathCase)
      if (!files.has(mib)) {
        files.set(mib, `${dir}/file-${mib}.bin`)
        await writeRandomFile(files.get(mib)!, mib)
      }
      const path = files.get(mib)!
      const relay: RelayPath | undefined = emulator === 'relay' ? await startRelayPath(pathCase) : undefined
      const service = await startTestService(relay ? { TURN_SECRET: relay.secret, TURN_URLS: relay.url } : {}, distDir)
      const iceServers = relay?.iceServers() ?? []
      const shape = emulator === 'cdp' ? (page: Page) => shapeSender(page, pathCase) : undefined
      const raw: RawRun[] = []
      const app: AppRun[] = []
      const torrent: WebTorrentTiming[] = []
      console.log(`\n${describePath(pathCase)}, ${mib} MiB`)
      for (let run = 0; run < RUNS; run++) {
        raw.push(await rawPump(service.url, mib * MIB, { iceServers, relayOnly: relay !== undefined, shapeSender: shape }))
        app.push(await appTransfer(service.url, path, pathCase))
        if (btTracker && wtPages)
          torrent.push(
            await webTorrentTransfer(browser, wtPages.origin, btTracker.url, path, (download) => download(), {
              rtcConfig: { iceServers, ...(relay ? { iceTransportPolicy: 'relay' as const } : {}) },
              shapeSeeder: shape,
            }),
          )
        const last = (runs: { seconds: number }[]) => ((mib * MIB) / 1e6 / runs.at(-1)!.seconds).toFixed(2)
        console.log(
          `  run ${run + 1}: raw ${last(raw)} MB/s, app ${last(app)} MB/s${torrent.length ? `, WebTorrent ${last(torrent)} MB/s` : ''}`,
        )
      }
      await service.close()
      await relay?.stop()
      const mbps = (run: { seconds: number }) => (mib * MIB) / 1e6 / run.seconds
      const ratio = (a: { seconds: number }[], b: { seconds: number }[]) => median(a.map((run, i) => mbps(run) / mbps(b[i]!)))
      const rtts = raw.flatMap((run) => (run.rttMs === undefined ? [] : [run.rttMs]))
      rows.push({
        path: describePath(pathCase),
        MiB: mib,
        'measured RTT (ms)': rtts.length ? Math.round(median(rtts)) : '?',
        'raw MB/s': Number(median(raw.map(mbps)).toFixed(2)),
        'app MB/s': Number(median(app.map(mbps)).toFixed(2)),
        'app/raw': Number(ratio(app, raw).toFixed(2)),
        lanes: Math.max(...app.map((run) => run.lanes)),
        'app first chunk (s)': Number(median(app.map((run) => run.firstChunkSeconds)).toFixed(2)),
        'raw first byte (s)': Number(median(raw.map((run) => run.firstByteSeconds)).toFixed(2)),
        ...(torrent.length
          ? {
              'WebTorrent MB/s': Number(median(torrent.map(mbps)).toFixed(2)),
              'app/WebTorrent': Number(ratio(app, torrent).toFixed(2)),
              'WebTorrent first piece (s)': Number(median(torrent.map((run) => run.firstPieceSeconds)).toFixed(2)),
            }
          : {}),
      })
    }

report('paths', browser.version(), rows, {
  runs: RUNS,
  targets: '+40 ms: app/raw ≥ 3, app/WebTorrent ≥ 2.5; +100 ms: app/raw ≥ 3; +40 ms 1 % loss: app/raw ≥ 2',
  emulation:
    'cdp: Network.emulateNetworkConditions on the sending page (latency = RTT/2, packetLoss); relay: coturn with relay-only ICE behind a UDP forwarder adding RTT/4 per crossing',
  ...(btTracker ? { webtorrent: WEBTORRENT_LABEL } : {}),
})
for (const row of rows) {
  const targets: [RegExp, string, number][] = [
    [/^\+40 ms \(/, 'app/raw', 3],
    [/^\+40 ms \(/, 'app/WebTorrent', 2.5],
    [/^\+100 ms \(/, 'app/raw', 3],
    [/^\+40 ms, 1 % loss/, 'app/raw', 2],
  ]
  for (const [pattern, column, target] of targets) {
    if (!pattern.test(String(row.path)) || !(column in row)) continue
    const value = Number(row[column])
    console.log(`${row.path}: ${column} ${value} (target ≥ ${target}: ${value >= target ? 'met' : 'NOT met'})`)
  }
}
await browser.close()
await server.close()
await btTracker?.close()
await wtPages?.close()
