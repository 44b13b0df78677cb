// Watching while it arrives: from opening the link to the video's first frame and to 10 s of
// playback, the sharer capped at 1, 2 and 5 MB/s, a 60 s WebM at 4 Mbit/s (~30 MB). WebTorrent
// streams the same file through its Service Worker server in the same run, as the baseline.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { Browser, Page } from '@playwright/test'
import { launchBrowser, median, openPeer, report, share, startTracker } from './harness'
import { testVideo } from '../support/media'
import { requireWebTorrent, startBitTorrentTracker, WEBTORRENT_LABEL, webTorrentSeeder } from './webtorrent'
import { startWebTorrentStreamPages } from './webtorrent-stream'

const CAPS_MB = (process.env.BENCH_STREAM_CAPS ?? '1,2,5').split(',').map(Number)
const RUNS = Number(process.env.BENCH_STREAM_RUNS ?? 3)
const WITH_WEBTORRENT = process.env.BENCH_WEBTORRENT !== '0'
const TIMEOUT_MS = 120_000

// Marks (ms since the epoch) when the page's video shows its first frame and reaches 10 s; plays it, muted.
const WATCH_PLAYER = `{
  window.__marks = {}
  const mark = (name) => { window.__marks[name] ??= Date.now() }
  new MutationObserver(() => {
    const video = document.querySelector('video')
    if (!video || video.__watched) return
    video.__watched = true
    video.muted = true
    video.addEventListener('loadeddata', () => mark('firstFrame'))
    video.addEventListener('canplay', () => video.play().catch(() => undefined))
    video.addEventListener('timeupdate', () => { if (video.currentTime >= 10) mark('tenSeconds') })
  }).observe(document, { subtree: true, childList: true })
}`

/** Opens `url` in a fresh context and returns seconds from opening to each mark. */
async function watch(browser: Browser, url: string): Promise<{ firstFrame: number; tenSeconds: number }> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  await context.addInitScript(WATCH_PLAYER)
  const page: Page = await context.newPage()
  const opened = Date.now()
  try {
    await page.goto(url)
    await page.waitForFunction(() => (window as unknown as { __marks: { tenSeconds?: number } }).__marks.tenSeconds, undefined, {
      timeout: TIMEOUT_MS,
    })
    const marks = await page.evaluate(() => (window as unknown as { __marks: { firstFrame: number; tenSeconds: number } }).__marks)
    return { firstFrame: (marks.firstFrame - opened) / 1000, tenSeconds: (marks.tenSeconds - opened) / 1000 }
  } finally {
    await context.close()
  }
}

if (WITH_WEBTORRENT) requireWebTorrent()
const browser = await launchBrowser()
const tracker = await startTracker()
const webTorrent = WITH_WEBTORRENT ? { tracker: await startBitTorrentTracker(), pages: await startWebTorrentStreamPages() } : undefined
const path = `${mkdtempSync(`${tmpdir()}/tabswarm-stream-`)}/lecture.webm`
const video = testVideo(60, 4)
writeFileSync(path, video)
const rows: Record<string, string | number>[] = []
type Marks = { firstFrame: number; tenSeconds: number }
/** Median (and range) of each mark over the runs. */
const summary = (runs: Marks[], mark: keyof Marks) => {
  const values = runs.map((run) => run[mark])
  return `${median(values).toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`
}
const ratio = (ours: Marks[], theirs: Marks[], mark: keyof Marks) =>
  Number((median(ours.map((run) => run[mark])) / median(theirs.map((run) => run[mark]))).toFixed(2))
for (const cap of CAPS_MB) {
  const bytesPerSecond = cap * 1_000_000
  const ours: Marks[] = []
  const theirs: Marks[] = []
  for (let run = 0; run < RUNS; run++) {
    const sharer = await openPeer(browser, `${tracker.url}/?up=${bytesPerSecond}`)
    const link = await share(sharer, path)
    ours.push(await watch(browser, link))
    await sharer.context().close()
    if (webTorrent) {
      const seeder = await webTorrentSeeder(browser, webTorrent.pages.origin, webTorrent.tracker.url, path, bytesPerSecond)
      theirs.push(await watch(browser, `${webTorrent.pages.origin}/#${encodeURIComponent(seeder.magnet)}`))
      await seeder.page.context().close()
    }
  }
  rows.push({
    'sharer cap MB/s': cap,
    'first frame s': summary(ours, 'firstFrame'),
    '10 s played at s': summary(ours, 'tenSeconds'),
    ...(webTorrent
      ? {
          'WebTorrent first frame s': summary(theirs, 'firstFrame'),
          'WebTorrent 10 s at s': summary(theirs, 'tenSeconds'),
          'first frame ours/WT': ratio(ours, theirs, 'firstFrame'),
          '10 s ours/WT': ratio(ours, theirs, 'tenSeconds'),
        }
      : {}),
  })
}
report('stream', browser.version(), rows, {
  runs: RUNS,
  figures: 'median (min–max) seconds from opening the link',
  fileBytes: video.length,
  media: '60 s WebM, VP8 4 Mbit/s + Opus, cues at the end',
  baseline: webTorrent ? WEBTORRENT_LABEL : 'none (BENCH_WEBTORRENT=0)',
})
await browser.close()
await tracker.close()
await webTorrent?.tracker.close()
await webTorrent?.pages.close()
