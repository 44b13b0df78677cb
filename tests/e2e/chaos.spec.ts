// A short chaos run (see tests/support/chaos.ts; `npm run bench chaos` runs ten minutes): one round
// in which every kind of fault strikes once while files move, and nothing is lost. CHAOS_SEED repeats a run.
import { FAULTS, runChaos } from '../support/chaos'
import { expect, test } from './fixtures'

test('under Redis outages and pauses, instance crashes, reloads, reopened tabs, crashed command-line peers and caps, every download completes and nothing is left behind', async ({
  browser,
}) => {
  test.setTimeout(300_000)
  const seed = Number(process.env.CHAOS_SEED) || Math.floor(Math.random() * 1e6)
  const report = await runChaos({
    browser,
    durationMs: 0,
    tabs: 3,
    getters: 1,
    sharedMiB: 6,
    seededMiB: 3,
    sharerCap: '300KB',
    outageMs: [2_000, 5_000],
    gapMs: [1_000, 2_500],
    seed,
    say: (line) => console.log(line),
  })
  console.log(`chaos seed ${seed}: ${JSON.stringify({ ghosts: report.ghosts, instances: report.instances })}`)
  expect(report.problems).toEqual([])
  expect(new Set(report.faults.map((fault) => fault.kind))).toEqual(new Set(FAULTS))
  expect(report.downloads.length).toBe(4)
})
