// The swarm's gain: one sharer capped at R bytes/s and N downloaders (each capped at R upload too)
// opening the link together, each peer a browser of its own on an on-disk profile. Without a
// swarm, N downloads take N times as long as one.
// Targets: 4 downloaders all finish within 1.6× the time one needs alone; 8 downloaders of
// 16 MiB within 2.5×.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { openProfilePeer, report, share, startTracker, waitComplete } from './harness'
import { cpuByThread } from './proc'
import { shapeSender } from '../support/network-shape'

/** Every peer's upload cap; `BENCH_RATE=` (empty) for none. */
const RATE = process.env.BENCH_RATE ?? '2MB'
/**
 * A round trip added to the sharer's page (Chromium's emulation, on the sending side where it is
 * faithful): a sharer across the internet from a class whose tabs are near each other.
 */
const SHARER_RTT_MS = Number(process.env.BENCH_SWARM_RTT ?? 0)
/** File size (MiB): how many downloaders, and the target for the largest swarm. */
const CASES: { mib: number; counts: number[]; target: number }[] = [
  { mib: 8, counts: [1, 2, 4], target: 1.6 },
  { mib: 24, counts: [1, 2, 4], target: 1.6 },
  { mib: 16, counts: [1, 8], target: 2.5 },
].filter(({ mib }) => !process.env.BENCH_SWARM_MIB || process.env.BENCH_SWARM_MIB.split(',').includes(String(mib)))

const dir = mkdtempSync(`${tmpdir()}/tabswarm-bench-`)
const rows: Record<string, string | number>[] = []
let version = ''
for (const { mib, counts } of CASES) {
  const path = `${dir}/swarm-${mib}.bin`
  writeFileSync(path, randomBytes(mib * 1024 * 1024))
  let single = 0
  for (const n of counts) {
    const tracker = await startTracker()
    const { page: sharer, profile } = await openProfilePeer(`${tracker.url}/${RATE ? `?up=${RATE}` : ''}`)
    version ||= /Chrome\/([\d.]+)/.exec(await sharer.evaluate(() => navigator.userAgent))?.[1] ?? ''
    const link = await share(sharer, path)
    await shapeSender(sharer, { rttMs: SHARER_RTT_MS, loss: 0 })
    const capped = RATE ? link.replace('/#/', `/?up=${RATE}#/`) : link
    // Browsers start before the clock does; then every downloader opens the link at once.
    const others = await Promise.all(Array.from({ length: n }, () => openProfilePeer(tracker.url)))
    const roots = [profile.root, ...others.map((other) => other.profile.root)]
    const cpuNow = () => {
      const total: Record<string, number> = {}
      for (const root of roots) for (const [job, seconds] of Object.entries(cpuByThread(root))) total[job] = (total[job] ?? 0) + seconds
      return total
    }
    const cpu0 = cpuNow()
    const started = performance.now()
    await Promise.all(others.map(({ page }) => page.goto(capped)))
    const downloaders = others.map(({ page }) => page)
    await Promise.all(downloaders.map((page) => waitComplete(page)))
    const seconds = (performance.now() - started) / 1000
    if (n === 1) single = seconds
    const cpu = cpuNow()
    const spent = (match: RegExp) =>
      Object.entries(cpu).reduce((sum, [job, seconds]) => sum + (match.test(job) ? seconds - (cpu0[job] ?? 0) : 0), 0)
    const sentBy = async (page: typeof sharer) => Number(await page.getByTestId('transfer').first().getAttribute('data-bytes-up'))
    const sharerSent = await sentBy(sharer)
    const allSent = (await Promise.all([sharer, ...downloaders].map(sentBy))).reduce((sum, bytes) => sum + bytes, 0)
    const receivedBy = async (page: typeof sharer) => Number(await page.getByTestId('transfer').first().getAttribute('data-bytes-down'))
    const allReceived = (await Promise.all(downloaders.map(receivedBy))).reduce((sum, bytes) => sum + bytes, 0)
    rows.push({
      'file (MiB)': mib,
      downloaders: n,
      'all done (s)': Number(seconds.toFixed(2)),
      'vs one alone': Number((seconds / single).toFixed(2)),
      'swarm gain (n × one / all)': Number(((n * single) / seconds).toFixed(2)),
      'sharer sent (× file)': Number((sharerSent / (mib * 1024 * 1024)).toFixed(2)),
      // Every peer's uploads against the n copies needed: above 1 is duplicate bytes (endgame, races).
      'all sent (× needed)': Number((allSent / (n * mib * 1024 * 1024)).toFixed(2)),
      'received (× needed)': Number((allReceived / (n * mib * 1024 * 1024)).toFixed(2)),
      // Where the two cores went meanwhile, over every browser (CPU seconds).
      'CPU s': Number(spent(/./).toFixed(1)),
      'pages and drawing s': Number(spent(/^renderer: (main thread|compositing)|^gpu-process: compositing|^browser: main/).toFixed(1)),
      'workers s': Number(spent(/^renderer: workers/).toFixed(1)),
      'network s': Number(spent(/^network: |^renderer: (WebRTC|I\/O)/).toFixed(1)),
    })
    for (const peer of [profile, ...others.map((other) => other.profile)]) await peer.close()
    await tracker.close()
  }
}
report('swarm', version, rows, {
  rate: RATE || 'none',
  sharerRttMs: SHARER_RTT_MS,
  targets: CASES.map(({ mib, counts, target }) => `${mib} MiB: ${Math.max(...counts)} downloaders within ${target}× one alone`),
})
for (const { mib, counts, target } of CASES) {
  const n = Math.max(...counts)
  const row = rows.find((r) => r['file (MiB)'] === mib && r.downloaders === n)!
  const ratio = Number(row['vs one alone'])
  console.log(`${mib} MiB: ${n} downloaders took ${ratio}× one alone (target ≤ ${target}): ${ratio <= target ? 'met' : 'NOT met'}`)
}
