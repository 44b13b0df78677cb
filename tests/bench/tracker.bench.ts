// Tracker load: N simulated peers (plain `ws` clients in a child process, loopback only) hold
// connections, form swarms of 5, then send `have` and `locate` at a steady total rate. The tracker
// runs in its own process, so its CPU and memory are read from /proc alone; a trivial `ws` echo
// server measured the same way is the ceiling for this stack on this machine.
// Targets: 10,000 peers held; p99 < 50 ms at 5,000 msg/s; RSS < 15 KiB per idle peer.
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { report } from './harness'
import { cpuSeconds, rssKiB } from './proc'
import type { LoadOptions, LoadResult } from './tracker-load'

const PEERS = Number(process.env.BENCH_TRACKER_PEERS ?? 10_000)
const RATES = (process.env.BENCH_TRACKER_RATES ?? '1000,5000,10000').split(',').map(Number)
const SECONDS = Number(process.env.BENCH_TRACKER_SECONDS ?? 15)
const root = fileURLToPath(new URL('../..', import.meta.url))

/** Starts a server process and resolves with its pid and WebSocket URL (its first output line). */
function startServer(kind: 'tracker' | 'echo'): Promise<{ child: ChildProcess; url: string }> {
  const script = kind === 'tracker' ? 'signaling-server/main.ts' : 'tests/bench/echo-server.ts'
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', HEARTBEAT_MS: '30000' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)))
    child.stdout!.once('data', (data: Buffer) => {
      const line = data.toString()
      const match = /(ws:\/\/127\.0\.0\.1:\d+\/ws)|http:\/\/127\.0\.0\.1:(\d+)/.exec(line)
      if (!match) return reject(new Error(`unexpected output: ${line}`))
      resolve({ child, url: match[1] ?? `ws://127.0.0.1:${match[2]}/ws` })
    })
  })
}

interface Measured extends LoadResult {
  idleRssKiBPerPeer: number
  cpuPer10k: number
}

async function measure(kind: 'tracker' | 'echo', rate: number): Promise<Measured> {
  const { child: server, url } = await startServer(kind)
  const pid = server.pid!
  await new Promise((resolve) => setTimeout(resolve, 500))
  const rss0 = rssKiB(pid)
  let rssConnected = 0
  let cpu0 = 0
  let cpu1 = 0
  const options: LoadOptions = { url, mode: kind, peers: PEERS, rate, seconds: SECONDS, swarmSize: 5 }
  const load = fork(fileURLToPath(new URL('./tracker-load.ts', import.meta.url)), [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    cwd: root,
  })
  const result = await new Promise<LoadResult>((resolve, reject) => {
    load.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)))
    load.on('message', (event: { phase: string; result?: LoadResult }) => {
      if (event.phase === 'connected') rssConnected = rssKiB(pid)
      if (event.phase === 'steady') cpu0 = cpuSeconds(pid)
      if (event.phase === 'done') cpu1 = cpuSeconds(pid)
      if (event.phase === 'result') resolve(event.result!)
    })
  })
  server.kill('SIGTERM')
  return { ...result, idleRssKiBPerPeer: (rssConnected - rss0) / PEERS, cpuPer10k: ((cpu1 - cpu0) / result.sent) * 10_000 }
}

const rows: Record<string, string | number>[] = []
for (const rate of RATES) {
  for (const kind of ['tracker', 'echo'] as const) {
    const run = await measure(kind, rate)
    rows.push({
      server: kind === 'tracker' ? 'tracker' : 'ws echo',
      peers: PEERS,
      'offered msg/s': rate,
      'sent msg/s': Math.round(run.sent / run.seconds),
      'frames out/s': Math.round(run.received / run.seconds),
      answered: `${run.answered}/${Math.floor(run.sent / 2)}`,
      'p50 ms': Number(run.p50Ms.toFixed(1)),
      'p99 ms': Number(run.p99Ms.toFixed(1)),
      'CPU s per 10k msg': Number(run.cpuPer10k.toFixed(2)),
      'idle RSS KiB/peer': Number(run.idleRssKiBPerPeer.toFixed(1)),
    })
  }
}
report('tracker', 'n/a (no browser)', rows, {
  seconds: SECONDS,
  mix: 'half have (fanned out to the swarm of 5), half locate (request/reply, timed)',
  targets: '10,000 peers held; p99 < 50 ms at 5,000 msg/s; idle RSS < 15 KiB per peer',
})
for (const row of rows.filter((row) => row.server === 'tracker')) {
  const p99 = Number(row['p99 ms'])
  const rss = Number(row['idle RSS KiB/peer'])
  const held = String(row.answered).split('/')
  console.log(
    `tracker, ${row.peers} peers at ${row['offered msg/s']} msg/s: every request answered ${held[0] === held[1] ? 'yes' : 'NO'}; ` +
      `p99 ${p99} ms${row['offered msg/s'] === 5000 ? ` (target < 50: ${p99 < 50 ? 'met' : 'NOT met'})` : ''}; ` +
      `idle RSS ${rss} KiB per peer (target < 15: ${rss < 15 ? 'met' : 'NOT met'})`,
  )
}
