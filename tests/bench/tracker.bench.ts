// Tracker load: N simulated peers (plain `ws` clients in a child process, loopback only) hold
// connections, form swarms of 5, then send `have` and `locate` at a steady total rate. Each tracker
// instance runs in its own process, so CPU and memory are read from /proc. Setups: one instance
// with its state in memory, one on Redis, two on one Redis (clients alternate between them, so
// every swarm spans both), and a trivial `ws` echo server as the ceiling for this stack here.
// Targets: 10,000 peers held; p99 < 50 ms at 5,000 msg/s; RSS < 15 KiB per idle peer.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { report } from './harness'
import { cpuSeconds, rssKiB } from './proc'
import { startRedis, type RedisServer } from '../support/redis'
import { startServerProcess, startTrackerProcess } from '../support/tracker-process'
import type { LoadOptions, LoadResult } from './tracker-load'

const PEERS = Number(process.env.BENCH_TRACKER_PEERS ?? 10_000)
const RATES = (process.env.BENCH_TRACKER_RATES ?? '1000,5000,10000').split(',').map(Number)
const SECONDS = Number(process.env.BENCH_TRACKER_SECONDS ?? 15)
const root = fileURLToPath(new URL('../..', import.meta.url))

const SETUPS = {
  memory: { label: 'tracker, memory', instances: 1, redis: false },
  redis: { label: 'tracker, Redis', instances: 1, redis: true },
  cluster: { label: 'tracker ×2, Redis', instances: 2, redis: true },
  echo: { label: 'ws echo', instances: 1, redis: false },
} as const
type Setup = keyof typeof SETUPS
const CHOSEN = (process.env.BENCH_TRACKER_SETUPS ?? Object.keys(SETUPS).join(',')).split(',') as Setup[]
if (CHOSEN.some((setup) => !(setup in SETUPS))) throw new Error(`BENCH_TRACKER_SETUPS: choose from ${Object.keys(SETUPS).join(', ')}`)

/**
 * Commands Redis has run: every one (the commands inside scripts too), and the round trips the
 * trackers made (the scripts themselves, pub/sub). Every registry call is a script.
 */
async function redisCommands(redis: RedisServer): Promise<{ all: number; roundTrips: number }> {
  const client = new Redis(redis.url)
  const stats = await client.info('commandstats')
  await client.quit()
  const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
  const all = [...stats.matchAll(/:calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0) - calls('info')
  return { all, roundTrips: calls('evalsha') + calls('eval') + calls('publish') + calls('subscribe') + calls('unsubscribe') }
}

interface Measured extends LoadResult {
  idleRssKiBPerPeer: number
  cpuPer10k: number
  redisCpuPer10k: number | undefined
  redisCommandsPerMessage: number | undefined
  redisRoundTripsPerMessage: number | undefined
}

async function measure(setup: Setup, rate: number): Promise<Measured> {
  const { instances, redis: onRedis } = SETUPS[setup]
  const redis = onRedis ? await startRedis() : undefined
  const env: Record<string, string> = redis ? { REDIS_URL: redis.url, TRACKER_SECRET: 'bench-secret-0123456789abcdef' } : {}
  const servers = await Promise.all(
    Array.from({ length: instances }, () =>
      setup === 'echo'
        ? startServerProcess('tests/bench/echo-server.ts')
        : startTrackerProcess({ HEARTBEAT_MS: '30000', LIMIT_CONNECTIONS: '1000000', LIMIT_CONNECTIONS_PER_IP: '1000000', ...env }),
    ),
  )
  const pids = servers.map((server) => server.pid)
  const total = (read: (pid: number) => number) => pids.reduce((sum, pid) => sum + read(pid), 0)
  await new Promise((resolve) => setTimeout(resolve, 500))
  const rss0 = total(rssKiB)
  let rssConnected = 0
  let cpu0 = 0
  let cpu1 = 0
  let redisCpu0 = 0
  let redisCpu1 = 0
  let commands0: ReturnType<typeof redisCommands> | undefined
  let commands1: ReturnType<typeof redisCommands> | undefined
  const mode = setup === 'echo' ? 'echo' : 'tracker'
  const options: LoadOptions = {
    urls: servers.map(({ port }) => `ws://127.0.0.1:${port}/ws`),
    mode,
    peers: PEERS,
    rate,
    seconds: SECONDS,
    swarmSize: 5,
  }
  const load = fork(fileURLToPath(new URL('./tracker-load.ts', import.meta.url)), [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    cwd: root,
  })
  // Instances leave Redis tidy on SIGTERM: let them finish before Redis goes.
  const stopAll = async () => {
    await Promise.all(servers.map((server) => server.stop()))
    await redis?.stop()
  }
  const loaded = new Promise<LoadResult>((resolve, reject) => {
    load.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)))
    load.on('message', (event: { phase: string; result?: LoadResult }) => {
      if (event.phase === 'connected') rssConnected = total(rssKiB)
      if (event.phase === 'steady') {
        cpu0 = total(cpuSeconds)
        if (redis) {
          redisCpu0 = cpuSeconds(redis.pid)
          commands0 = redisCommands(redis)
        }
      }
      if (event.phase === 'done') {
        cpu1 = total(cpuSeconds)
        if (redis) {
          redisCpu1 = cpuSeconds(redis.pid)
          commands1 = redisCommands(redis)
        }
      }
      if (event.phase === 'result') resolve(event.result!)
    })
  })
  const result = await loaded.catch(async (error: unknown) => {
    await stopAll()
    throw error
  })
  const [before, after] = redis ? [await commands0!, await commands1!] : []
  await stopAll()
  return {
    ...result,
    idleRssKiBPerPeer: (rssConnected - rss0) / PEERS,
    cpuPer10k: ((cpu1 - cpu0) / result.sent) * 10_000,
    redisCpuPer10k: redis ? ((redisCpu1 - redisCpu0) / result.sent) * 10_000 : undefined,
    redisCommandsPerMessage: before && after ? (after.all - before.all) / result.sent : undefined,
    redisRoundTripsPerMessage: before && after ? (after.roundTrips - before.roundTrips) / result.sent : undefined,
  }
}

const rows: Record<string, string | number>[] = []
for (const rate of RATES) {
  for (const setup of CHOSEN) {
    const run = await measure(setup, rate)
    rows.push({
      server: SETUPS[setup].label,
      peers: PEERS,
      'offered msg/s': rate,
      'sent msg/s': Math.round(run.sent / run.seconds),
      'frames out/s': Math.round(run.received / run.seconds),
      answered: `${run.answered}/${Math.floor(run.sent / 2)}`,
      'p50 ms': Number(run.p50Ms.toFixed(1)),
      'p99 ms': Number(run.p99Ms.toFixed(1)),
      'CPU s per 10k msg': Number(run.cpuPer10k.toFixed(2)),
      'Redis CPU s per 10k msg': run.redisCpuPer10k === undefined ? '–' : Number(run.redisCpuPer10k.toFixed(2)),
      'Redis round trips/msg': run.redisRoundTripsPerMessage === undefined ? '–' : Number(run.redisRoundTripsPerMessage.toFixed(2)),
      'Redis cmds/msg': run.redisCommandsPerMessage === undefined ? '–' : Number(run.redisCommandsPerMessage.toFixed(2)),
      'idle RSS KiB/peer': Number(run.idleRssKiBPerPeer.toFixed(1)),
    })
  }
}
report('tracker', 'n/a (no browser)', rows, {
  seconds: SECONDS,
  mix: 'half have (fanned out to the swarm of 5), half locate (request/reply, timed)',
  targets: '10,000 peers held; p99 < 50 ms at 5,000 msg/s; idle RSS < 15 KiB per peer',
  redis:
    'round trips: scripts and pub/sub commands the trackers sent (each registry call is one Lua script); cmds: every command Redis ran, inside scripts too; both include the registration refresh',
})
for (const row of rows.filter((row) => row.server !== SETUPS.echo.label)) {
  const p99 = Number(row['p99 ms'])
  const rss = Number(row['idle RSS KiB/peer'])
  const held = String(row.answered).split('/')
  console.log(
    `${row.server}, ${row.peers} peers at ${row['offered msg/s']} msg/s: every request answered ${held[0] === held[1] ? 'yes' : 'NO'}; ` +
      `p99 ${p99} ms${row['offered msg/s'] === 5000 ? ` (target < 50: ${p99 < 50 ? 'met' : 'NOT met'})` : ''}; ` +
      `idle RSS ${rss} KiB per peer (target < 15: ${rss < 15 ? 'met' : 'NOT met'})`,
  )
}
