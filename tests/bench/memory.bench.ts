// Memory while downloading a big file: the downloading tab runs in a browser of its own, and the
// peak PSS of its renderer and of its whole process tree (read from /proc, so ArrayBuffers and
// Blobs count) is compared with the same browser idle on the app.
// Target: the downloading renderer grows by less than 150 MiB for a 1 GiB file.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { chromium } from '@playwright/test'
import { CHROMIUM_ARGS } from '../../playwright.config'
import { launchBrowser, openPeer, report, share, startTracker, writeRandomFile } from './harness'
import { isRenderer, processTree, pssKiB } from './proc'

const MIB = 1024 * 1024
const FILE_MIB = Number(process.env.BENCH_MEMORY_MIB ?? 1024)
const TARGET_MIB = 150

/** PSS of a process tree, and of its renderers (the tabs), in MiB. */
function sample(root: number): { tree: number; renderer: number } {
  let tree = 0
  let renderer = 0
  for (const pid of processTree(root)) {
    const pss = pssKiB(pid)
    tree += pss
    if (isRenderer(pid)) renderer = Math.max(renderer, pss)
  }
  return { tree: tree / 1024, renderer: renderer / 1024 }
}

const dir = mkdtempSync(`${tmpdir()}/tabswarm-bench-`)
const path = `${dir}/big.bin`
await writeRandomFile(path, FILE_MIB)

const tracker = await startTracker()
const sharerBrowser = await launchBrowser()
const sharer = await openPeer(sharerBrowser, tracker.url)
const shareStarted = performance.now()
const link = await share(sharer, path)
const shareSeconds = (performance.now() - shareStarted) / 1000

const server = await chromium.launchServer({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS })
const downloaderBrowser = await chromium.connect(server.wsEndpoint())
const root = server.process().pid!
const downloader = await openPeer(downloaderBrowser, tracker.url)
const idle = sample(root)
const peak = { ...idle }
const started = performance.now()
await downloader.goto(link)
let done = false
const finished = downloader
  .waitForSelector('[data-testid="transfer"][data-state="complete"]', { timeout: 1_800_000 })
  .then(() => (done = true))
while (!done) {
  const now = sample(root)
  peak.tree = Math.max(peak.tree, now.tree)
  peak.renderer = Math.max(peak.renderer, now.renderer)
  await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 250))])
}
const seconds = (performance.now() - started) / 1000
const growth = peak.renderer - idle.renderer
report(
  'memory',
  downloaderBrowser.version(),
  [
    {
      what: 'downloading renderer',
      'idle (MiB)': Math.round(idle.renderer),
      'peak (MiB)': Math.round(peak.renderer),
      'growth (MiB)': Math.round(growth),
    },
    {
      what: 'browser process tree',
      'idle (MiB)': Math.round(idle.tree),
      'peak (MiB)': Math.round(peak.tree),
      'growth (MiB)': Math.round(peak.tree - idle.tree),
    },
  ],
  {
    fileMiB: FILE_MIB,
    shareSeconds: Number(shareSeconds.toFixed(1)),
    downloadSeconds: Number(seconds.toFixed(1)),
    downloadMBps: Number(((FILE_MIB * MIB) / 1e6 / seconds).toFixed(1)),
    target: `renderer growth < ${TARGET_MIB} MiB`,
  },
)
console.log(
  `Shared in ${shareSeconds.toFixed(1)} s; downloaded in ${seconds.toFixed(1)} s (${((FILE_MIB * MIB) / 1e6 / seconds).toFixed(1)} MB/s)`,
)
console.log(`Renderer grew by ${Math.round(growth)} MiB (target < ${TARGET_MIB}): ${growth < TARGET_MIB ? 'met' : 'NOT met'}`)
await downloaderBrowser.close()
await server.close()
await sharerBrowser.close()
await tracker.close()
