// The swarm's gain: one sharer capped at R bytes/s and N downloaders (each capped at R upload too)
// opening the link together. Without a swarm, N downloads take N times as long as one.
// Target: 4 downloaders all finish within 1.6× the time one needs alone.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { launchBrowser, openPeer, report, share, startTracker, waitComplete } from './harness'

const RATE = process.env.BENCH_RATE ?? '2MB'
const FILE_MIB = Number(process.env.BENCH_SWARM_MIB ?? 8)
const COUNTS = [1, 2, 4]

const dir = mkdtempSync(`${tmpdir()}/tabswarm-bench-`)
const path = `${dir}/swarm.bin`
writeFileSync(path, randomBytes(FILE_MIB * 1024 * 1024))

const browser = await launchBrowser()
const rows: Record<string, string | number>[] = []
let single = 0
for (const n of COUNTS) {
  const tracker = await startTracker()
  const sharer = await openPeer(browser, `${tracker.url}/?up=${RATE}`)
  const link = await share(sharer, path)
  const capped = link.replace('/#/', `/?up=${RATE}#/`)
  const started = performance.now()
  const downloaders = await Promise.all(Array.from({ length: n }, () => openPeer(browser, capped)))
  await Promise.all(downloaders.map((page) => waitComplete(page)))
  const seconds = (performance.now() - started) / 1000
  if (n === 1) single = seconds
  const sharerSent = await sharer
    .getByTestId('peer')
    .evaluateAll((peerRows) => peerRows.reduce((sum, row) => sum + Number(row.getAttribute('data-bytes-up')), 0))
  rows.push({
    downloaders: n,
    'all done (s)': Number(seconds.toFixed(2)),
    'vs one alone': Number((seconds / single).toFixed(2)),
    'swarm gain (n × one / all)': Number(((n * single) / seconds).toFixed(2)),
    'sharer sent (× file)': Number((sharerSent / (FILE_MIB * 1024 * 1024)).toFixed(2)),
  })
  for (const page of [sharer, ...downloaders]) await page.context().close()
  await tracker.close()
}
report('swarm', browser.version(), rows, { rate: RATE, fileMiB: FILE_MIB, target: '4 downloaders within 1.6× one alone' })
const four = rows.find((row) => row.downloaders === 4)!
console.log(
  `4 downloaders took ${four['vs one alone']}× one alone (target ≤ 1.6): ${Number(four['vs one alone']) <= 1.6 ? 'met' : 'NOT met'}`,
)
await browser.close()
