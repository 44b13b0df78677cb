// The friend on Firefox across a real path: a Chromium sharer (on-disk profile) on +40 ms of
// Chromium's own emulation (set on the sending page; Firefox has no CDP), and a Firefox friend
// (stock firefox-esr over WebDriver BiDi) opening the link, with lanes and with `?lanes=1` (one
// connection), interleaved. Prints MB/s, the ratio, the lanes Firefox opened and its first chunk.
// BENCH_PATHS_RTT (ms, default 40), BENCH_PATHS_MIB (default 24), BENCH_PATHS_RUNS (default 2).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { Page as FirefoxPage } from 'puppeteer-core'
import { launchWebRtcFirefox } from '../support/firefox-launch'
import { median, openProfilePeer, report, share, startTracker, untilStored, writeRandomFile } from './harness'
import { describePath, shapeSender, type PathCase } from './net-lab'

const RTT_MS = Number(process.env.BENCH_PATHS_RTT ?? 40)
const MIB = Number(process.env.BENCH_PATHS_MIB ?? 24)
const RUNS = Number(process.env.BENCH_PATHS_RUNS ?? 2)
const pathCase: PathCase = { rttMs: RTT_MS, loss: 0, emulator: 'cdp' }

interface FirefoxRun {
  seconds: number
  firstChunkSeconds: number
  lanes: number
}

const firefox = await launchWebRtcFirefox()

/** One download of the link in a fresh Firefox context, timed from opening the link to `complete`. */
async function firefoxDownload(link: string): Promise<FirefoxRun> {
  const context = await firefox.createBrowserContext()
  const page: FirefoxPage = await context.newPage()
  const started = performance.now()
  await page.goto(link)
  let firstChunkAt: number | undefined
  let lanes = 1
  for (;;) {
    const state = await page.evaluate(() => {
      const transfer = document.querySelector('[data-testid="transfer"]')
      const rows = [...document.querySelectorAll('[data-testid="peer"]')].map((row) => Number(row.getAttribute('data-lanes') || 1))
      return {
        state: transfer?.getAttribute('data-state'),
        have: Number(transfer?.getAttribute('data-have') ?? 0),
        lanes: Math.max(1, ...rows),
      }
    })
    lanes = Math.max(lanes, state.lanes)
    if (state.have >= 1) firstChunkAt ??= performance.now()
    if (state.state === 'complete') break
    if (performance.now() - started > 600_000) throw new Error(`Firefox did not finish in 600 s (state ${state.state})`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const seconds = (performance.now() - started) / 1000
  await context.close()
  return { seconds, firstChunkSeconds: ((firstChunkAt ?? performance.now()) - started) / 1000, lanes }
}

const tracker = await startTracker()
const path = `${mkdtempSync(`${tmpdir()}/tabswarm-paths-firefox-`)}/file-${MIB}.bin`
await writeRandomFile(path, MIB)
const sharer = await openProfilePeer(`${tracker.url}/`)
const link = await share(sharer.page, path)
await untilStored(sharer.page)
// Every connection the sharer makes from now on is shaped; the tracker's socket is not.
await shapeSender(sharer.page, pathCase)

const withLanes: FirefoxRun[] = []
const oneLane: FirefoxRun[] = []
const withQuery = (query: string) => link.replace('/#/', `/?${query}#/`)
console.log(`\nChromium → Firefox, ${describePath(pathCase)}, ${MIB} MiB`)
for (let run = 0; run < RUNS; run++) {
  oneLane.push(await firefoxDownload(withQuery('lanes=1')))
  withLanes.push(await firefoxDownload(link))
  const rate = (runs: FirefoxRun[]) => (MIB * 1.048576) / runs.at(-1)!.seconds
  console.log(
    `  run ${run + 1}: one lane ${rate(oneLane).toFixed(2)} MB/s, lanes ${rate(withLanes).toFixed(2)} MB/s (${withLanes.at(-1)!.lanes} lanes)`,
  )
}

const mbps = (run: FirefoxRun) => (MIB * 1.048576) / run.seconds
report(
  'paths-firefox',
  `${await firefox.version()} (friend); sharer Chromium`,
  [
    {
      path: `Chromium → Firefox, ${describePath(pathCase)}`,
      MiB: MIB,
      'one lane MB/s': Number(median(oneLane.map(mbps)).toFixed(2)),
      'lanes MB/s': Number(median(withLanes.map(mbps)).toFixed(2)),
      'lanes/one lane': Number(median(withLanes.map((run, i) => mbps(run) / mbps(oneLane[i]!))).toFixed(2)),
      lanes: Math.max(...withLanes.map((run) => run.lanes)),
      'first chunk (s)': Number(median(withLanes.map((run) => run.firstChunkSeconds)).toFixed(2)),
    },
  ],
  { runs: RUNS, emulation: 'cdp: Network.emulateNetworkConditions on the Chromium sharer (latency = RTT/2)' },
)

await sharer.profile.close()
await tracker.close()
await firefox.close()
