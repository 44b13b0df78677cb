// `npm run bench relay`: the last-resort relay through the service's WebSocket.
// 1. Two tabs on loopback, the same file direct and through the relay (tabs given no camera or
//    microphone permission offer no host candidate here, and with STUN off no other, so WebRTC
//    fails and the relay takes over),
//    the relay's rate raised so the relay itself is measured: throughput, and the service's CPU per
//    relayed GiB (the service runs as its own process).
// 2. The same through the relay at its default rate (RELAY_BYTES_PER_SECOND): what a user gets.
// 3. Relayed peers per instance at the default rate: pairs of plain clients each pushing at its
//    budget through one instance, 8 / 16 / 32 of them (32 fill RELAY_TOTAL_BYTES_PER_SECOND):
//    bytes delivered and the service's share of a core.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from '@playwright/test'
import WebSocket from 'ws'
import { DEFAULT_RELAY } from '../../signaling-server/config'
import { encodeRelayMessage, RELAY_PATH } from '../../src/protocol/relay-frame'
import type { ServerMessageOf } from '../../src/protocol/tracker'
import { placeholderManifest } from '../support/manifests'
import { RawClient } from '../support/raw-client'
import { distDir } from '../support/service'
import { startTrackerProcess, type ServerProcess } from '../support/tracker-process'
import { launchBrowser, report, share, untilStored, waitComplete, writeRandomFile } from './harness'
import { cpuSeconds } from './proc'

const MiB = 1024 * 1024
const FILE_MIB = 48
const DEFAULT_RATE_FILE_MIB = 8
const PAIR_COUNTS = [8, 16, 32]
const PUMP_SECONDS = 10
const FRAME_BYTES = 192 * 1024

async function service(env: Record<string, string>): Promise<ServerProcess> {
  return startTrackerProcess({ STATIC_DIR: distDir, LOG_LEVEL: 'info', TRACKER_SECRET: 'relay-bench-secret-0123456789', ...env })
}

/** Shares a file from one tab and fetches it in another; WebRTC is left out when `relayed`. */
async function transfer(browser: Browser, server: ServerProcess, file: string, relayed: boolean) {
  const permissions = relayed ? [] : ['camera', 'microphone']
  const contexts = [await browser.newContext({ permissions }), await browser.newContext({ permissions })]
  try {
    const sharer = await contexts[0]!.newPage()
    await sharer.goto(`${server.url}/?connectTimeout=2000`)
    const link = await share(sharer, file)
    await untilStored(sharer)
    const friend = await contexts[1]!.newPage()
    const cpuBefore = cpuSeconds(server.pid)
    const started = performance.now()
    await friend.goto(link.replace('/#/', '/?connectTimeout=2000#/'))
    await waitComplete(friend)
    const seconds = (performance.now() - started) / 1000
    const path = await friend.getByTestId('peer').first().getAttribute('data-path')
    if (relayed && path !== 'server') throw new Error(`meant to go through the relay, the link went ${path}`)
    return { seconds, cpu: cpuSeconds(server.pid) - cpuBefore, path: path ?? '' }
  } finally {
    for (const context of contexts) await context.close()
  }
}

const manifest = placeholderManifest

/** Two plain clients in one swarm, each with a relay socket; `pump` pushes frames from the first to the second. */
async function relayedPair(server: ServerProcess, n: number) {
  const url = `ws://127.0.0.1:${server.port}/ws`
  const [a, b] = [await RawClient.greeted(url), await RawClient.greeted(url)]
  const published = await a.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest: manifest(`pair-${n}.bin`) })
  await b.ask({ type: 'locate', id: 2, fileId: published.fileId })
  const open = async (client: RawClient) => {
    const { ticket } = await client.ask<ServerMessageOf<'relay-ticket'>>({ type: 'relay-ticket', id: 3 })
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}${RELAY_PATH}?ticket=${ticket}`)
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    return socket
  }
  const [from, to] = [await open(a), await open(b)]
  let received = 0
  to.on('message', (data: Buffer) => (received += data.length))
  const frame = encodeRelayMessage({
    kind: 'data',
    peer: b.peerId!,
    link: 'Rbench',
    fileId: published.fileId,
    frame: randomBytes(FRAME_BYTES),
  })
  let running = true
  const pump = () => {
    while (running && from.bufferedAmount < 2 * FRAME_BYTES) from.send(frame)
    if (running) setTimeout(pump, 5)
  }
  return {
    start: pump,
    received: () => received,
    close() {
      running = false
      for (const socket of [from, to, a, b]) socket.close()
    },
  }
}

async function pairsAtDefaultRate(pairs: number) {
  const server = await service({})
  try {
    const all = await Promise.all(Array.from({ length: pairs }, (_, i) => relayedPair(server, i)))
    all.forEach((pair) => pair.start())
    // A second to settle (each budget starts with a second's worth), then the measured stretch.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const [bytesBefore, cpuBefore, started] = [all.reduce((sum, p) => sum + p.received(), 0), cpuSeconds(server.pid), performance.now()]
    await new Promise((resolve) => setTimeout(resolve, PUMP_SECONDS * 1_000))
    const seconds = (performance.now() - started) / 1000
    const bytes = all.reduce((sum, p) => sum + p.received(), 0) - bytesBefore
    const cpu = cpuSeconds(server.pid) - cpuBefore
    all.forEach((pair) => pair.close())
    return { rate: bytes / seconds, perPair: bytes / seconds / pairs, core: cpu / seconds, cpuPerGiB: cpu / (bytes / 1024 ** 3) }
  } finally {
    await server.stop()
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tabswarm-relay-bench-'))
const big = join(dir, 'relay.bin')
const small = join(dir, 'relay-default.bin')
await writeRandomFile(big, FILE_MIB)
await writeRandomFile(small, DEFAULT_RATE_FILE_MIB)
const browser = await launchBrowser()
const rows: Record<string, string | number>[] = []

const unbounded = { RELAY_BYTES_PER_SECOND: String(1024 * MiB), RELAY_TOTAL_BYTES_PER_SECOND: String(1024 * MiB) }
const fast = await service(unbounded)
const direct = await transfer(browser, fast, big, false)
await fast.stop()
const fastRelayOnly = await service({ ...unbounded, STUN_PORT: 'off' })
const relayed = await transfer(browser, fastRelayOnly, big, true)
await fastRelayOnly.stop()
const rate = (run: { seconds: number }, mib: number) => (mib * MiB) / run.seconds / 1e6
rows.push(
  { measure: `${FILE_MIB} MiB direct (${direct.path}): MB/s`, value: Number(rate(direct, FILE_MIB).toFixed(2)) },
  {
    measure: `${FILE_MIB} MiB through the relay (${relayed.path}), rate unbounded: MB/s`,
    value: Number(rate(relayed, FILE_MIB).toFixed(2)),
  },
  { measure: 'relayed / direct', value: Number((direct.seconds / relayed.seconds).toFixed(2)) },
  { measure: 'service CPU per relayed GiB (s), the relayed run', value: Number((relayed.cpu / (FILE_MIB / 1024)).toFixed(1)) },
  { measure: 'service CPU per GiB (s), the direct run (signalling only)', value: Number((direct.cpu / (FILE_MIB / 1024)).toFixed(2)) },
)

const standard = await service({ STUN_PORT: 'off' })
const atDefault = await transfer(browser, standard, small, true)
await standard.stop()
rows.push({
  measure: `${DEFAULT_RATE_FILE_MIB} MiB through the relay at the default ${DEFAULT_RELAY.bytesPerSecond / MiB} MiB/s per peer: MB/s`,
  value: Number(rate(atDefault, DEFAULT_RATE_FILE_MIB).toFixed(2)),
})
const version = browser.version()
await browser.close()

for (const pairs of PAIR_COUNTS) {
  const run = await pairsAtDefaultRate(pairs)
  rows.push({
    measure: `${pairs} relayed pairs at the default rate: MB/s in all, per pair, service cores busy, CPU s per GiB`,
    value: `${(run.rate / 1e6).toFixed(1)}, ${(run.perPair / 1e6).toFixed(2)}, ${run.core.toFixed(2)}, ${run.cpuPerGiB.toFixed(1)}`,
  })
}
report('relay', version, rows, { fileMiB: FILE_MIB, defaults: DEFAULT_RELAY })
