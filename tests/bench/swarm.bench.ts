// The swarm's gain: one sharer capped at R bytes/s and N downloaders (each capped at R upload too)
// opening the link together. Without a swarm, N downloads take N times as long as one.
// Target: 4 downloaders all finish within 1.6× the time one needs alone.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { launchBrowser, openPeer, report, share, startTracker, waitComplete } from './harness'

const RATE = process.env.BENCH_RATE ?? '2MB'
const SIZES_MIB = (process.env.BENCH_SWARM_MIB ?? '8,24').split(',').map(Number)
const COUNTS = [1, 2, 4]
const TARGET = 1.6

const dir = mkdtempSync(`${tmpdir()}/tabswarm-bench-`)
const browser = await launchBrowser()
const rows: Record<string, string | number>[] = []
for (const mib of SIZES_MIB) {
  const path = `${dir}/swarm-${mib}.bin`
  writeFileSync(path, randomBytes(mib * 1024 * 1024))
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
      'file (MiB)': mib,
      downloaders: n,
      'all done (s)': Number(seconds.toFixed(2)),
      'vs one alone': Number((seconds / single).toFixed(2)),
      'swarm gain (n × one / all)': Number(((n * single) / seconds).toFixed(2)),
      'sharer sent (× file)': Number((sharerSent / (mib * 1024 * 1024)).toFixed(2)),
    })
    for (const page of [sharer, ...downloaders]) await page.context().close()
    await tracker.close()
  }
}
report('swarm', browser.version(), rows, { rate: RATE, target: `4 downloaders within ${TARGET}× one alone` })
for (const row of rows.filter((r) => r.downloaders === 4)) {
  const ratio = Number(row['vs one alone'])
  console.log(
    `${row['file (MiB)']} MiB: 4 downloaders took ${ratio}× one alone (target ≤ ${TARGET}): ${ratio <= TARGET ? 'met' : 'NOT met'}`,
  )
}
await browser.close()
