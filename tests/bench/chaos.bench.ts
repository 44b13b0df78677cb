// `npm run bench chaos`: ten minutes of faults (tests/support/chaos.ts) over two tracker instances
// on Redis, a sharer tab capped at 1 MB/s, six browser downloaders and two command-line peers,
// files of 32 and 8 MiB. Prints each fault and how long its recovery took, then what held.
// CHAOS_SEED repeats a run; CHAOS_MINUTES shortens or lengthens it.
import { runChaos } from '../support/chaos'
import { launchBrowser, report } from './harness'

const seed = Number(process.env.CHAOS_SEED) || Math.floor(Math.random() * 1e6)
const minutes = Number(process.env.CHAOS_MINUTES) || 10
const browser = await launchBrowser()
console.log(`chaos run, seed ${seed}, ${minutes} minutes of faults`)
const result = await runChaos({
  browser,
  durationMs: minutes * 60_000,
  tabs: 6,
  getters: 1,
  sharedMiB: 32,
  seededMiB: 8,
  sharerCap: '1MB',
  outageMs: [2_000, 40_000],
  gapMs: [5_000, 15_000],
  seed,
  say: (line) => console.log(line),
})
const version = browser.version()
await browser.close()

const recoveries = (kind: string) => result.faults.filter((fault) => fault.kind === kind)
const summary = (values: (number | undefined)[]) => {
  const known = values.filter((value): value is number => value !== undefined)
  if (known.length === 0) return '-'
  return `${(Math.max(...known) / 1000).toFixed(1)} s max, ${(known.reduce((a, b) => a + b, 0) / known.length / 1000).toFixed(1)} s mean`
}
const rows = [
  ...[...new Set(result.faults.map((fault) => fault.kind))].map((kind) => ({
    measure: `${kind} × ${recoveries(kind).length}: back online`,
    value: summary(recoveries(kind).map((fault) => fault.onlineMs)),
  })),
  ...['redis-kill', 'redis-pause', 'instance-restart'].map((kind) => ({
    measure: `${kind}: swarms whole again in Redis`,
    value: summary(recoveries(kind).map((fault) => fault.swarmMs)),
  })),
  {
    measure: 'downloads complete and byte-identical',
    value: `${result.downloads.filter((d) => d.ok).length} of ${result.downloads.length}`,
  },
  { measure: 'peers listed in Redis at end / there', value: `${result.ghosts.owners} / ${result.ghosts.expected}` },
  ...result.instances.map((life) => ({
    measure: `instance ${life.name}: RSS max (MiB), open files max, fault log lines`,
    value: `${life.maxRssMiB}, ${life.maxFds}, ${life.faultLines}`,
  })),
]
report('chaos', version, rows, { seed, minutes, faults: result.faults, problems: result.problems })
console.log(result.problems.length === 0 ? 'every promise held' : `NOT held:\n  ${result.problems.join('\n  ')}`)
process.exitCode = result.problems.length === 0 ? 0 : 1
