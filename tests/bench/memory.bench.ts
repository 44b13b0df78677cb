// Memory while sharing and downloading a big file, as users have it: sharer and downloader are
// browsers of their own on on-disk profiles, and the PSS of each whole process tree (read from
// /proc, walking child processes from the browser's pid, so ArrayBuffers and Blobs count) is
// sampled against the same browser idle on the app. Beside it, the same download into an
// off-the-record context (a private window), where Chromium keeps storage in memory.
// Also: how long sharing takes until the link shows, against hashing the file alone in that browser.
// Targets: a 4 GiB download grows the receiving browser by < 200 MiB, the sharing browser
// likewise; the link shows within 1.3× the time hashing alone takes.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { chromium, type Page } from '@playwright/test'
import { CHROMIUM_ARGS } from '../../playwright.config'
import { chooseChunkSize } from '../../src/protocol/manifest'
import { launchProfile, openPeer, openProfilePeer, report, share, startTracker, writeRandomFile } from './harness'
import { processTree, pssKiB } from './proc'

const MIB = 1024 * 1024
const FILE_MIB = Number(process.env.BENCH_MEMORY_MIB ?? 4096)
const OFF_THE_RECORD_MIB = Number(process.env.BENCH_MEMORY_OTR_MIB ?? 1024)
const TARGET_MIB = 200
const SHARE_TARGET = 1.3

/** PSS of a process tree, in MiB. */
const treeMiB = (root: number) => processTree(root).reduce((sum, pid) => sum + pssKiB(pid), 0) / 1024

/** Samples a tree's peak PSS every 250 ms until `work` is done. */
async function peakDuring(roots: number[], work: Promise<unknown>): Promise<number[]> {
  const peaks = roots.map(treeMiB)
  let done = false
  void work.finally(() => (done = true))
  while (!done) {
    roots.forEach((root, i) => (peaks[i] = Math.max(peaks[i]!, treeMiB(root))))
    await Promise.race([work, new Promise((resolve) => setTimeout(resolve, 250))])
  }
  await work
  return peaks
}

/** Seconds to hash the file chunk by chunk in this browser as sharing does (File.slice, SHA-256, one read ahead). */
async function hashAlone(page: Page, path: string, chunkSize: number): Promise<number> {
  await page.evaluate(`(() => {
    const input = document.createElement('input')
    input.type = 'file'
    input.id = 'hash-input'
    document.body.append(input)
  })()`)
  await page.setInputFiles('#hash-input', path)
  // A string, not a function: the bench runs under tsx, whose helpers do not exist in the page.
  return page.evaluate(`(async () => {
    const size = ${chunkSize}
    const file = document.getElementById('hash-input').files[0]
    const started = performance.now()
    const read = (at) => file.slice(at, at + size).arrayBuffer()
    let next = read(0)
    for (let at = 0; at < file.size; at += size) {
      const bytes = await next
      next = read(at + size)
      await crypto.subtle.digest('SHA-256', bytes)
    }
    return (performance.now() - started) / 1000
  })()`)
}

const dir = mkdtempSync(`${tmpdir()}/tabswarm-bench-`)
const bigPath = `${dir}/big.bin`
const smallPath = `${dir}/small.bin`
await writeRandomFile(bigPath, FILE_MIB)
await writeRandomFile(smallPath, OFF_THE_RECORD_MIB)
const tracker = await startTracker()

// Sharing: hashing alone first, then sharing the same file, in one on-disk browser.
const sharer = await openProfilePeer(tracker.url)
const hashPage = await sharer.profile.context.newPage()
await hashPage.goto(`${tracker.url}/manifest.webmanifest`)
const hashSeconds = await hashAlone(hashPage, bigPath, chooseChunkSize(FILE_MIB * MIB))
await hashPage.close()
const sharerIdle = treeMiB(sharer.profile.root)
const shareStarted = performance.now()
const bigLink = await share(sharer.page, bigPath)
const shareSeconds = (performance.now() - shareStarted) / 1000

// The download into an on-disk profile.
const downloader = await launchProfile()
const page = downloader.context.pages()[0] ?? (await downloader.context.newPage())
await page.goto(tracker.url)
await page.waitForSelector('[data-testid="tracker-status"][data-status="online"]')
const downloaderIdle = treeMiB(downloader.root)
const started = performance.now()
await page.goto(bigLink)
const [downloaderPeak, sharerPeak] = await peakDuring(
  [downloader.root, sharer.profile.root],
  page.waitForSelector('[data-testid="transfer"][data-state="complete"]', { timeout: 3_600_000 }),
)
const seconds = (performance.now() - started) / 1000
await downloader.close()
console.log(
  `On disk: sharing ${shareSeconds.toFixed(1)} s (hashing alone ${hashSeconds.toFixed(1)} s); downloading ${FILE_MIB} MiB took ${seconds.toFixed(1)} s, the downloading browser grew ${Math.round(downloaderPeak! - downloaderIdle)} MiB, the sharing one ${Math.round(sharerPeak! - sharerIdle)} MiB`,
)

// The same kind of download off the record, in a browser of its own.
// Reloaded first, so that the only share card is the new one (the big file seeds from the library).
await sharer.page.reload()
await sharer.page.waitForSelector('[data-testid="tracker-status"][data-status="online"]')
const smallLink = await share(sharer.page, smallPath)
const server = await chromium.launchServer({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS })
const privateBrowser = await chromium.connect(server.wsEndpoint())
const privateRoot = server.process().pid!
const privatePage = await openPeer(privateBrowser, tracker.url)
const privateIdle = treeMiB(privateRoot)
await privatePage.goto(smallLink)
// Off the record the browser may refuse the room partway: stop at complete, paused or error.
const [privatePeak] = await peakDuring(
  [privateRoot],
  privatePage.waitForSelector('[data-testid="transfer"]:is([data-state="complete"], [data-state="paused"], [data-state="error"])', {
    timeout: 3_600_000,
  }),
)
const privateEnd = await privatePage
  .getByTestId('transfer')
  .first()
  .evaluate((node) => ({
    state: node.getAttribute('data-state'),
    have: node.getAttribute('data-have'),
    total: node.getAttribute('data-total'),
    message: node.querySelector('[data-testid="transfer-message"]')?.textContent ?? '',
  }))

const row = (what: string, file: number, idle: number, peak: number) => ({
  what,
  'file (MiB)': file,
  'idle (MiB)': Math.round(idle),
  'peak (MiB)': Math.round(peak),
  'growth (MiB)': Math.round(peak - idle),
})
report(
  'memory',
  privateBrowser.version(),
  [
    row('downloading browser, on-disk profile', FILE_MIB, downloaderIdle, downloaderPeak!),
    row('sharing browser, on-disk profile', FILE_MIB, sharerIdle, sharerPeak!),
    {
      ...row('downloading browser, off the record', OFF_THE_RECORD_MIB, privateIdle, privatePeak!),
      ended: `${privateEnd.state} ${privateEnd.have}/${privateEnd.total}`,
    },
  ],
  {
    hashAloneSeconds: Number(hashSeconds.toFixed(1)),
    shareSeconds: Number(shareSeconds.toFixed(1)),
    shareVsHash: Number((shareSeconds / hashSeconds).toFixed(2)),
    downloadSeconds: Number(seconds.toFixed(1)),
    downloadMBps: Number(((FILE_MIB * MIB) / 1e6 / seconds).toFixed(1)),
    targets: `on-disk growth < ${TARGET_MIB} MiB each; link within ${SHARE_TARGET}× hashing alone`,
  },
)
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met')
console.log(
  `Hashing alone ${hashSeconds.toFixed(1)} s; link shown after ${shareSeconds.toFixed(1)} s: ${(shareSeconds / hashSeconds).toFixed(2)}× (target ≤ ${SHARE_TARGET}): ${verdict(shareSeconds / hashSeconds <= SHARE_TARGET)}`,
)
console.log(`Downloaded ${FILE_MIB} MiB in ${seconds.toFixed(1)} s (${((FILE_MIB * MIB) / 1e6 / seconds).toFixed(1)} MB/s)`)
console.log(
  `Downloading browser grew ${Math.round(downloaderPeak! - downloaderIdle)} MiB (target < ${TARGET_MIB}): ${verdict(downloaderPeak! - downloaderIdle < TARGET_MIB)}`,
)
console.log(
  `Sharing browser grew ${Math.round(sharerPeak! - sharerIdle)} MiB (target < ${TARGET_MIB}): ${verdict(sharerPeak! - sharerIdle < TARGET_MIB)}`,
)
console.log(
  `Off the record, ${OFF_THE_RECORD_MIB} MiB grew the browser ${Math.round(privatePeak! - privateIdle)} MiB (storage lives in memory there)`,
)
await privateBrowser.close()
await server.close()
await sharer.profile.close()
await tracker.close()
