// The tracker under attack: for SOAK_SECONDS, hostile clients (idle sockets, unfinished fragments,
// upgrade floods, signal floods, publish-and-close loops, oversized and malformed frames) run
// next to honest clients forming swarms and asking the tracker things. Reports whether every
// honest request was answered, their p99, the tracker's RSS and open files, and ghost members.
// Everything is on loopback, every loop is bounded in time, and it stops by itself.
import { readdirSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import WebSocket from 'ws'
import { fileIdOf, type Manifest } from '../../src/protocol/manifest'
import { MAX_TRACKER_FRAME_BYTES } from '../../src/protocol/tracker'
import { startTrackerProcess } from '../support/tracker-process'
import { report } from './harness'
import { rssKiB } from './proc'

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60)
const HONEST = Number(process.env.SOAK_HONEST ?? 1000)
const SWARM = 10
/** Each honest client asks something about every this many ms. */
const HONEST_INTERVAL_MS = 2_000
const CHUNK = 262_144

const manifestFor = (swarm: number): Manifest =>
  ({
    v: 1,
    name: `soak-${swarm}.bin`,
    size: 4 * CHUNK,
    type: '',
    chunkSize: CHUNK,
    hashes: [1, 2, 3, 4].map((i) => (swarm * 10 + i).toString(16).padStart(64, '0')),
  }) as Manifest

// Every client here shares one loopback address, so the per-address cap is lifted; the rest are the defaults.
const tracker = await startTrackerProcess({ HELLO_TIMEOUT_MS: '5000', LIMIT_CONNECTIONS_PER_IP: '100000' })
const url = tracker.url.replace('http', 'ws') + '/ws'
const openFiles = () => readdirSync(`/proc/${tracker.pid}/fd`).length
const rss = { start: rssKiB(tracker.pid), peak: 0, end: 0 }
const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, rssKiB(tracker.pid))), 250)

/** An honest client: hello, then publish or locate its swarm's file, then requests on a timer. */
class Honest {
  readonly socket = new WebSocket(url, { perMessageDeflate: false })
  peerId = ''
  private next = 1
  private readonly pending = new Map<number, number>()
  readonly latencies: number[] = []
  sent = 0
  answered = 0

  constructor() {
    this.socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string; id?: number; peerId?: string }
      if (message.type === 'welcome') this.peerId = message.peerId!
      const started = message.id === undefined ? undefined : this.pending.get(message.id)
      if (started === undefined) return
      this.pending.delete(message.id!)
      this.answered++
      this.latencies.push(performance.now() - started)
    })
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('open', () => {
        this.socket.send(JSON.stringify({ type: 'hello', v: 1 }))
        resolve()
      })
      this.socket.once('error', reject)
    })
  }

  ask(message: Record<string, unknown>): void {
    if (this.socket.readyState !== WebSocket.OPEN) return
    const id = this.next++
    this.pending.set(id, performance.now())
    this.sent++
    this.socket.send(JSON.stringify({ ...message, id }))
  }
}

const honest = Array.from({ length: HONEST }, () => new Honest())
await Promise.all(honest.map((c) => c.ready()))
const fileIds = await Promise.all(Array.from({ length: HONEST / SWARM }, (_, s) => fileIdOf(manifestFor(s))))
honest.forEach((c, i) => {
  const swarm = Math.floor(i / SWARM)
  if (i % SWARM === 0) c.ask({ type: 'publish', manifest: manifestFor(swarm) })
  else c.ask({ type: 'locate', fileId: fileIds[swarm] })
})

const until = performance.now() + SECONDS * 1000
const running = () => performance.now() < until
const hostile: Record<string, number> = {}
/** The honest load's rounds, counted apart from the attacks. */
const HONEST_ROUND = 'honest round'
const count = (kind: string) => (hostile[kind] = (hostile[kind] ?? 0) + 1)
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `attack` again and again until the soak ends, `perSecond` times a second at most. */
async function repeat(kind: string, perSecond: number, attack: () => Promise<void> | void): Promise<void> {
  while (running()) {
    const started = performance.now()
    try {
      await attack()
    } catch {
      // a refused or reset connection is what the attack expects
    }
    count(kind)
    await pause(Math.max(0, 1000 / perSecond - (performance.now() - started)))
  }
}

/** An upgrade request to `path`; resolves with whether the tracker answered 404 and closed the socket. */
const raw = (path: string) =>
  new Promise<boolean>((resolve) => {
    let answer = ''
    const socket = tcpConnect(tracker.port, '127.0.0.1', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    )
    const timer = setTimeout(() => socket.destroy(), 5000)
    socket.on('data', (data) => (answer += data.toString()))
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(answer.startsWith('HTTP/1.1 404'))
    })
    socket.on('error', () => undefined)
  })
const open = () =>
  new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    socket.once('open', () => resolve(socket))
    socket.once('error', reject)
  })
const idle: WebSocket[] = []

const attacks = [
  // Sockets that never say hello (kept open until the tracker closes them).
  repeat('idle socket', 20, async () => void idle.push(await open())),
  // An unfinished message, then silence.
  repeat('unfinished fragment', 5, async () => {
    const socket = await open()
    socket.send('{"type":"list",'.padEnd(200_000, ' '), { fin: false })
    idle.push(socket)
  }),
  // Ten at a time; those answered 404 and closed are counted apart.
  repeat('upgrade rounds (10 each)', 20, async () => {
    const answered = await Promise.all(Array.from({ length: 10 }, () => raw('/not-the-tracker')))
    hostile['upgrades answered 404 and closed'] = (hostile['upgrades answered 404 and closed'] ?? 0) + answered.filter(Boolean).length
  }),
  repeat('publish and close', 10, async () => {
    const socket = await open()
    socket.send(JSON.stringify({ type: 'hello', v: 1 }))
    socket.send(JSON.stringify({ type: 'publish', id: 1, manifest: manifestFor(10_000 + (hostile['publish and close'] ?? 0)) }))
    socket.terminate()
  }),
  repeat('oversized or malformed frame', 10, async () => {
    const socket = await open()
    socket.send(JSON.stringify({ type: 'hello', v: 1 }))
    socket.send('{{{ not json')
    socket.send(JSON.stringify({ type: 'publish', id: 1, manifest: { v: 1, size: -1 } }))
    socket.send('x'.repeat(MAX_TRACKER_FRAME_BYTES * 2))
    await pause(100)
    socket.terminate()
  }),
  // Members of a real swarm offering at its sharer as fast as they may.
  (async () => {
    const target = honest[0]!
    const flooders = await Promise.all(Array.from({ length: 5 }, () => open()))
    for (const socket of flooders) {
      socket.send(JSON.stringify({ type: 'hello', v: 1 }))
      socket.send(JSON.stringify({ type: 'locate', id: 1, fileId: fileIds[0] }))
    }
    const offer = { type: 'offer', sdp: 'v=0'.padEnd(20_000, 'x') }
    await repeat('signal flood (5 sockets)', 40, () => {
      for (const socket of flooders)
        socket.send(JSON.stringify({ type: 'signal', to: target.peerId, fileId: fileIds[0], link: 'flood', data: offer }))
    })
    for (const socket of flooders) socket.terminate()
  })(),
  // The honest load: every client asks something every HONEST_INTERVAL_MS.
  repeat(HONEST_ROUND, 1000 / HONEST_INTERVAL_MS, () => {
    honest.forEach((c, i) => c.ask(i % 3 === 0 ? { type: 'list' } : { type: 'locate', fileId: fileIds[Math.floor(i / SWARM)] }))
  }),
]
await Promise.all(attacks)
for (const socket of idle) socket.terminate()
// Replies to the last round.
await pause(3000)

const sent = honest.reduce((sum, c) => sum + c.sent, 0)
const answered = honest.reduce((sum, c) => sum + c.answered, 0)
const latencies = honest.flatMap((c) => c.latencies).sort((a, b) => a - b)
const p99 = latencies[Math.floor(latencies.length * 0.99)] ?? NaN

// Ghosts: members the tracker still lists beyond the honest clients once every hostile one is gone.
const probe = new Honest()
await probe.ready()
const listed = await new Promise<{ total: number; files: { peers: number }[] }>((resolve) => {
  probe.socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { type: string; total: number; files: { peers: number }[] }
    if (message.type === 'files') resolve(message)
  })
  probe.ask({ type: 'list' })
})
// Only the honest swarms' files (100 per page) may be left, with SWARM members each.
const ghostFiles = listed.total - HONEST / SWARM
const ghostMembers = listed.files.reduce((sum, file) => sum + Math.max(0, file.peers - SWARM), 0)
for (const c of [...honest, probe]) c.socket.terminate()
await pause(1000)
clearInterval(sampler)
rss.end = rssKiB(tracker.pid)
const fds = openFiles()
await tracker.stop()

const rows = [
  { measure: 'honest requests answered', value: `${answered} of ${sent}` },
  { measure: 'honest p99 latency (ms)', value: Number(p99.toFixed(1)) },
  {
    measure: 'tracker RSS start / peak / end (MiB)',
    value: `${(rss.start / 1024).toFixed(0)} / ${(rss.peak / 1024).toFixed(0)} / ${(rss.end / 1024).toFixed(0)}`,
  },
  { measure: 'tracker open files at end', value: fds },
  { measure: 'ghost files / members at end', value: `${ghostFiles} / ${ghostMembers}` },
  { measure: 'honest rounds (every client asks once)', value: hostile[HONEST_ROUND] ?? 0 },
  ...Object.entries(hostile)
    .filter(([kind]) => kind !== HONEST_ROUND)
    .map(([kind, n]) => ({ measure: `hostile: ${kind}`, value: n })),
]
report('soak', '-', rows, { seconds: SECONDS, honest: HONEST })
console.log(
  `every honest request answered: ${answered === sent ? 'yes' : 'NO'}; ghost members at end: ${ghostFiles + ghostMembers === 0 ? '0' : 'NOT 0'}`,
)
