// Time to first byte: from opening a share link to the first verified chunk, with the steps on the
// way (tracker online, manifest known, first peer link open) and the time to 4 MiB, which shows
// the data channel's early stall when it happens. Target: median under 1 s.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { Page } from '@playwright/test'
import { launchBrowser, median, openPeer, report, share, startTracker, writeRandomFile } from './harness'

const RUNS = Number(process.env.BENCH_TTFB_RUNS ?? 7)
const FILE_MIB = 16

// Records, in wall-clock ms, when each milestone first shows in the page.
const RECORD_MILESTONES = `{
  window.__milestones = {}
  const mark = (name) => { window.__milestones[name] ??= Date.now() }
  new MutationObserver(() => {
    if (document.querySelector('[data-testid="tracker-status"][data-status="online"]')) mark('tracker')
    const transfer = document.querySelector('[data-testid="transfer"]')
    if (!transfer) return
    if (Number(transfer.getAttribute('data-total')) > 0) mark('manifest')
    if (document.querySelector('[data-testid="peer"][data-status="connected"]')) mark('connected')
    if (Number(transfer.getAttribute('data-have')) >= 1) mark('firstChunk')
    if (Number(transfer.getAttribute('data-have')) >= 16) mark('fourMiB')
  }).observe(document, { subtree: true, childList: true, attributes: true })
}`

async function once(page: Page, link: string): Promise<Record<string, number>> {
  await page.context().addInitScript(RECORD_MILESTONES)
  const opened = Date.now()
  await page.goto(link)
  await page.waitForFunction(() => (window as unknown as { __milestones: { fourMiB?: number } }).__milestones.fourMiB, undefined, {
    timeout: 60_000,
  })
  const marks = await page.evaluate(() => (window as unknown as { __milestones: Record<string, number> }).__milestones)
  return Object.fromEntries(Object.entries(marks).map(([name, at]) => [name, at - opened]))
}

const browser = await launchBrowser()
const tracker = await startTracker()
const path = `${mkdtempSync(`${tmpdir()}/tabswarm-ttfb-`)}/file.bin`
await writeRandomFile(path, FILE_MIB)
const runs: Record<string, number>[] = []
for (let i = 0; i < RUNS; i++) {
  const sharer = await openPeer(browser, tracker.url)
  const link = await share(sharer, path)
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  runs.push(await once(await context.newPage(), link))
  await context.close()
  await sharer.context().close()
}
const steps = ['tracker', 'manifest', 'connected', 'firstChunk', 'fourMiB'] as const
const rows = steps.map((step) => {
  const values = runs.map((run) => run[step]!).filter((value) => value !== undefined)
  return {
    'from opening the link to': step,
    'median ms': Math.round(median(values)),
    'min ms': Math.min(...values),
    'max ms': Math.max(...values),
  }
})
report('ttfb', browser.version(), rows, { runs: RUNS, fileMiB: FILE_MIB, target: 'first verified chunk: median under 1 s' })
const first = rows.find((row) => row['from opening the link to'] === 'firstChunk')!
console.log(`time to first byte: median ${first['median ms']} ms (target < 1000 ms: ${first['median ms'] < 1000 ? 'met' : 'NOT met'})`)
await browser.close()
await tracker.close()
