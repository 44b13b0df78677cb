// A class of thirty: one browser tab shares a file with its upload capped, 29 command-line peers
// (`tabswarm get`, far lighter than 29 tabs on two cores) download it at once and trade chunks.
// Reported: time until all are done against one peer alone, what the sharer sent against the file
// size, and the tracker's messages per second (counted by a proxy in front of it that every peer,
// the tab included, talks through). Target: all done within 2.5× one alone.
import { createServer, request } from 'node:http'
import { mkdtempSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { WebSocket, WebSocketServer } from 'ws'
import { Cli } from '../support/cli'
import { openProfilePeer, report, share, startTracker, writeRandomFile } from './harness'
import { readFileSync } from 'node:fs'
import { cpuSeconds, machineCpu } from './proc'

const MIB = Number(process.env.BENCH_CLASS_MIB ?? 32)
const PEERS = Number(process.env.BENCH_CLASS_PEERS ?? 29)
const RATE = process.env.BENCH_RATE ?? '2MB'
/** `BENCH_CLASS_LISTED=1` shares a listed (unencrypted) file instead of a private link, to see what encryption costs. */
const LISTED = process.env.BENCH_CLASS_LISTED === '1'
const TARGET = 2.5
/** `BENCH_CLASS_CPU_PROF=<dir>` writes a V8 CPU profile of every command-line peer there (`node --cpu-prof`). */
const CPU_PROF = process.env.BENCH_CLASS_CPU_PROF
const peerNodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : []

/** Forwards HTTP and WebSocket traffic to `target`, counting WebSocket messages both ways. */
async function countingProxy(target: string): Promise<{ origin: string; messages: () => number; close(): void }> {
  const upstream = new URL(target)
  let messages = 0
  const server = createServer((req, res) => {
    const forward = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers)
        reply.pipe(res)
      },
    )
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  const sockets = new WebSocketServer({ server })
  sockets.on('connection', (client, req) => {
    const tracker = new WebSocket(`ws://${upstream.host}${req.url}`)
    const early: { data: unknown; binary: boolean }[] = []
    tracker.on('open', () => early.splice(0).forEach(({ data, binary }) => tracker.send(data as Buffer, { binary })))
    client.on('message', (data, binary) => {
      messages++
      if (tracker.readyState === WebSocket.OPEN) tracker.send(data, { binary })
      else early.push({ data, binary })
    })
    tracker.on('message', (data, binary) => {
      messages++
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary })
    })
    client.on('close', () => tracker.close())
    tracker.on('close', () => client.close())
    tracker.on('error', () => client.close())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    messages: () => messages,
    close: () => server.close(),
  }
}

const tracker = await startTracker()
const proxy = await countingProxy(tracker.url)
const path = `${mkdtempSync(`${tmpdir()}/tabswarm-bench-`)}/class-${MIB}.bin`
await writeRandomFile(path, MIB)
const { page: sharer, profile } = await openProfilePeer(`${proxy.origin}/?up=${RATE}`)
const version = /Chrome\/([\d.]+)/.exec(await sharer.evaluate(() => navigator.userAgent))?.[1] ?? ''
const link = await share(sharer, path, { listed: LISTED })

/** `count` command-line peers get the link at once; resolves with the seconds until the last is done. */
/** This process's own CPU seconds (the tracker and the proxy run here) and its waited-for children's (the command-line peers). */
function ownAndChildrenCpu(): { own: number; children: number } {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ').map(Number)
  // utime stime cutime cstime are fields 14-17 of stat, 12-15 after the name.
  return { own: (fields[11]! + fields[12]!) / 100, children: (fields[13]! + fields[14]!) / 100 }
}

async function classOf(count: number) {
  const messages0 = proxy.messages()
  const cpu0 = machineCpu()
  const mine0 = ownAndChildrenCpu()
  const browser0 = cpuSeconds(profile.root)
  const started = performance.now()
  const peers = Array.from(
    { length: count },
    () => new Cli(['get', link, '-o', mkdtempSync(`${tmpdir()}/tabswarm-class-`)], {}, peerNodeArgs),
  )
  const finished: number[] = []
  const codes = await Promise.all(peers.map((peer) => peer.exited.finally(() => finished.push((performance.now() - started) / 1000))))
  const seconds = (performance.now() - started) / 1000
  const failed = codes.findIndex((code) => code !== 0)
  if (process.env.PROBE_OUT)
    for (const peer of peers) console.log('PROBE-PEER', peer.output.replace(/\r/g, '\n').split('\n').filter(Boolean).slice(-6).join(' | '))
  if (failed >= 0) throw new Error(`a command-line peer failed (${codes[failed]}):\n${peers[failed]!.output}`)
  const cpu = machineCpu()
  const mine = ownAndChildrenCpu()
  const at = (share: number) => finished.sort((a, b) => a - b)[Math.min(finished.length - 1, Math.floor(share * finished.length))]!
  return {
    seconds,
    median: at(0.5),
    p90: at(0.9),
    messages: proxy.messages() - messages0,
    busy: (cpu.busy - cpu0.busy) / (cpu.total - cpu0.total),
    peersCpu: mine.children - mine0.children,
    trackerCpu: mine.own - mine0.own,
    browserCpu: cpuSeconds(profile.root) - browser0,
  }
}

const sentBefore = async () => Number(await sharer.getByTestId('transfer').first().getAttribute('data-bytes-up'))
const rows: Record<string, string | number>[] = []
let single = 0
for (const count of [1, PEERS]) {
  const sent0 = await sentBefore()
  const { seconds, median, p90, messages, busy, peersCpu, trackerCpu, browserCpu } = await classOf(count)
  if (count === 1) single = seconds
  rows.push({
    'file (MiB)': MIB,
    'command-line peers': count,
    'all done (s)': Number(seconds.toFixed(2)),
    'vs one alone': Number((seconds / single).toFixed(2)),
    // When the peers finished: a long tail means waiting, not work.
    'median, 90th pct done (s)': `${median.toFixed(1)}, ${p90.toFixed(1)}`,
    'sharer sent (× file)': Number((((await sentBefore()) - sent0) / (MIB * 1024 * 1024)).toFixed(2)),
    'tracker messages/s': Math.round(messages / seconds),
    // Near 100 %: the machine's cores, not the protocol, set the time.
    'machine CPU busy (%)': Math.round(busy * 100),
    'CPU s: command-line peers': Number(peersCpu.toFixed(1)),
    'tracker and proxy': Number(trackerCpu.toFixed(1)),
    'sharer browser': Number(browserCpu.toFixed(1)),
  })
}
report('classroom', version, rows, {
  rate: RATE,
  share: LISTED ? 'listed' : 'private link',
  target: `${PEERS} peers within ${TARGET}× one alone`,
})
const ratio = Number(rows[1]!['vs one alone'])
console.log(`${PEERS} command-line peers took ${ratio}× one alone (target ≤ ${TARGET}): ${ratio <= TARGET ? 'met' : 'NOT met'}`)
await profile.close()
proxy.close()
await tracker.close()
process.exit(0)
