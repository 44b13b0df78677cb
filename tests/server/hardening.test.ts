import { connect as tcpConnect } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { fileIdOf, MAX_MANIFEST_BYTES, type Manifest } from '../../src/protocol/manifest'
import { MAX_LOCATION_PEERS, MAX_TRACKER_FRAME_BYTES, type ServerMessageOf } from '../../src/protocol/tracker'
import type { RunningService } from '../../signaling-server/server'
import { startTestService } from '../support/service'
import { RawClient } from '../support/raw-client'
import { startRedis, type RedisServer } from '../support/redis'

const CHUNK = 262_144
const hex = (n: number) => n.toString(16).padStart(64, '0')
function fileOf(name: string, chunks: number, files?: { path: string; size: number }[]): Manifest {
  const size = chunks * CHUNK
  const hashes = Array.from({ length: chunks }, (_, i) => hex(i + 1))
  return { v: 1, name, size, type: '', chunkSize: CHUNK, hashes, ...(files ? { files } : {}) } as Manifest
}

let service: RunningService
let redis: RedisServer
let prefixes = 0
const clients: RawClient[] = []
const url = () => `ws://127.0.0.1:${service.port}/ws`

async function start(env: Record<string, string> = {}) {
  service = await startTestService(env)
}
async function client(options: WebSocket.ClientOptions = {}): Promise<RawClient> {
  const c = await RawClient.greeted(url(), options)
  clients.push(c)
  return c
}
/** Every frame any test client received stayed under the clients' cap. */
function expectFramesUnderCap(): void {
  for (const c of clients) expect(c.largestFrame).toBeLessThanOrEqual(MAX_TRACKER_FRAME_BYTES)
}

beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis.stop())
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await service?.close()
})

/** Sends raw HTTP and resolves with what came back once the server closed the socket. */
function rawHttp(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(service.port, '127.0.0.1', () => socket.write(request))
    let answer = ''
    socket.on('data', (data) => (answer += data.toString()))
    socket.on('close', () => resolve(answer))
    socket.on('error', reject)
  })
}
const upgrade = (path: string, headers = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`

/** Opens a WebSocket; resolves with 'open' or the HTTP status it was refused with. */
function tryConnect(headers: Record<string, string> = {}): Promise<{ status: number | 'open'; socket: WebSocket }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url(), { headers })
    socket.once('open', () => resolve({ status: 'open', socket }))
    socket.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, socket }))
    socket.once('error', () => undefined)
  })
}

describe('cheap attacks on the connection', () => {
  it('answers an upgrade to any other path with 404 and closes it, however many come', async () => {
    await start()
    const answers = await Promise.all(Array.from({ length: 300 }, () => rawHttp(upgrade('/not-the-tracker'))))
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 404 Not Found/)
    // Still serving both HTTP and the tracker afterwards.
    expect((await fetch(`http://127.0.0.1:${service.port}/`)).status).toBe(503) // answered: this test service has no built app
    expect((await client()).peerId).toMatch(/.{8,}/)
  })

  it('closes a connection that never says hello, even one holding an unfinished message', async () => {
    await start({ HELLO_TIMEOUT_MS: '300' })
    const silent = await RawClient.connect(url())
    const partial = await RawClient.connect(url())
    partial.socket.send('{"type":"hello",'.padEnd(100_000, ' '), { fin: false })
    expect(await silent.closed).toBe(1008)
    expect(await partial.closed).toBe(1008)
    // A greeted client stays.
    const greeted = await client()
    expect(await greeted.ask({ type: 'list', id: 1 })).toMatchObject({ type: 'files' })
  })

  it('closes a connection that sends a frame far over the cap, without buffering it', async () => {
    await start()
    const big = await client()
    big.sendRaw('x'.repeat(MAX_TRACKER_FRAME_BYTES * 2))
    expect(await big.closed).toBe(1009)
  })

  it('caps connections in all and per address, reading X-Forwarded-For only from a trusted proxy', async () => {
    await start({ LIMIT_CONNECTIONS_PER_IP: '3' })
    const opened = await Promise.all([tryConnect(), tryConnect(), tryConnect()])
    expect(opened.map((o) => o.status)).toEqual(['open', 'open', 'open'])
    expect((await tryConnect()).status).toBe(429)
    expect((await tryConnect({ 'X-Forwarded-For': '198.51.100.7' })).status).toBe(429) // not a trusted proxy
    opened[0]!.socket.close()
    await new Promise((resolve) => opened[0]!.socket.once('close', resolve))
    await expect.poll(async () => (await tryConnect()).status).toBe('open')
    for (const o of opened) o.socket.terminate()
    await service.close()

    await start({ LIMIT_CONNECTIONS_PER_IP: '2', TRUSTED_PROXIES: '127.0.0.1' })
    const viaProxy = await Promise.all(['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((ip) => tryConnect({ 'X-Forwarded-For': ip })))
    expect(viaProxy.map((o) => o.status)).toEqual(['open', 'open', 'open'])
    expect((await tryConnect({ 'X-Forwarded-For': '203.0.113.9, 198.51.100.1' })).status).toBe('open')
    expect((await tryConnect({ 'X-Forwarded-For': '198.51.100.1' })).status).toBe(429)
    for (const o of viaProxy) o.socket.terminate()
    await service.close()

    await start({ LIMIT_CONNECTIONS: '2' })
    const two = await Promise.all([tryConnect(), tryConnect()])
    expect((await tryConnect()).status).toBe(503)
    for (const o of two) o.socket.terminate()
  })

  it('lets pages of its own origin and clients without one connect, and others only when listed', async () => {
    await start()
    const own = `http://127.0.0.1:${service.port}`
    expect((await tryConnect({ Origin: own })).status).toBe('open')
    expect((await tryConnect()).status).toBe('open') // the command-line peer sends no Origin
    expect((await tryConnect({ Origin: 'https://evil.example' })).status).toBe(403)
    await service.close()
    await start({ ALLOWED_ORIGINS: 'https://share.example.org' })
    expect((await tryConnect({ Origin: 'https://share.example.org' })).status).toBe('open')
    expect((await tryConnect({ Origin: 'https://evil.example' })).status).toBe(403)
    expect((await tryConnect()).status).toBe('open')
    await service.close()
    await start({ ALLOWED_ORIGINS: '*' })
    expect((await tryConnect({ Origin: 'https://anyone.example' })).status).toBe('open')
  })
})

describe('every frame the server sends fits the clients’ cap', () => {
  it('a location of a bundle with a maximal manifest, to many downloaders', async () => {
    await start()
    const files = Array.from({ length: 1000 }, (_, i) => ({
      path: `folder-${i}/${'n'.repeat(100)}-${i}.bin`,
      size: i < 999 ? 0 : 8 * CHUNK,
    }))
    const bundle = fileOf('bundle', 8, files)
    const sharer = await client()
    const published = await sharer.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest: bundle })
    expect(published.type).toBe('published')
    for (let i = 0; i < 12; i++) {
      const downloader = await client()
      expect(await downloader.ask({ type: 'locate', id: 2, fileId: published.fileId })).toMatchObject({ type: 'location' })
    }
    expectFramesUnderCap()
  })

  it('refuses a manifest too large to leave room for its peers', async () => {
    await start()
    const huge = fileOf(
      'huge',
      2,
      Array.from({ length: 999 }, (_, i) => ({ path: `${'p'.repeat(200)}/${i}`, size: 0 })).concat({ path: 'last', size: 2 * CHUNK }),
    )
    const sharer = await client()
    const refusal = await sharer.ask<ServerMessageOf<'error'>>({ type: 'publish', id: 1, manifest: huge })
    expect(refusal).toMatchObject({ type: 'error', code: 'malformed' })
    expect(refusal.message).toContain(`a manifest is at most ${MAX_MANIFEST_BYTES} bytes`)
  })

  it(
    'a location and a swarm view of a 2048-chunk file with 400 members: a sample of peers, every frame under the cap',
    { timeout: 30_000 },
    async () => {
      await start({ LIMIT_CONNECTIONS_PER_IP: '1000' })
      const big = fileOf('big.bin', 2048)
      const fileId = await fileIdOf(big)
      const sharer = await client()
      await sharer.ask({ type: 'publish', id: 1, manifest: big })
      const members = await Promise.all(
        Array.from({ length: 399 }, async () => {
          const member = await client({ perMessageDeflate: false })
          await member.ask({ type: 'locate', id: 2, fileId })
          return member
        }),
      )
      const last = await client()
      const location = await last.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 3, fileId })
      expect(location.peers.length).toBeGreaterThan(50)
      expect(location.peers.length).toBeLessThanOrEqual(MAX_LOCATION_PEERS)
      const viewer = await client()
      const view = await viewer.ask<ServerMessageOf<'swarm'>>({ type: 'watch', id: 4, fileId })
      expect(view.peerCount).toBe(401)
      expect(view.peers.length).toBeGreaterThan(50)
      expect(members).toHaveLength(399)
      expectFramesUnderCap()
    },
  )

  it('a list of 800 files with long names, in pages', { timeout: 30_000 }, async () => {
    await start({
      LIMIT_FILES_PER_PEER: '1000',
      LIMIT_SWARMS_PER_PEER: '1000',
      LIMIT_MESSAGES_PER_SECOND: '10000',
      LIMIT_MESSAGE_BURST: '10000',
    })
    const sharer = await client()
    for (let i = 0; i < 800; i++) sharer.send({ type: 'publish', id: i, manifest: fileOf(`${'é'.repeat(120)}-${i}`, 1) })
    await sharer.next((m) => m.type === 'published' && m.id === 799, 30_000)
    const visitor = await client()
    const first = await visitor.ask<ServerMessageOf<'files'>>({ type: 'list', id: 1 })
    expect(first.total).toBe(800)
    expect(first.files.length).toBeGreaterThan(0)
    expect(first.next).toBe(first.files.length)
    const seen = new Set(first.files.map((f) => f.fileId))
    for (let cursor = first.next; cursor !== undefined;) {
      const page = await visitor.ask<ServerMessageOf<'files'>>({ type: 'list', id: 2, cursor })
      for (const file of page.files) seen.add(file.fileId)
      cursor = page.next
    }
    expect(seen.size).toBe(800)
    expectFramesUnderCap()
  })
})

describe.each(['memory', 'redis'] as const)('state that tells the truth, on %s', (kind) => {
  const env = (): Record<string, string> => (kind === 'redis' ? { REDIS_URL: redis.url, REDIS_PREFIX: `hardening${++prefixes}:` } : {})
  const manifest = fileOf('state.bin', 3)

  it('handles one connection’s messages in order: a have right after publish is taken', async () => {
    await start(env())
    const alice = await client()
    const fileId = await fileIdOf(manifest)
    alice.send({ type: 'publish', id: 1, manifest, have: 'AA==' })
    alice.send({ type: 'have', fileId, indexes: [1] })
    alice.send({ type: 'list', id: 2 })
    const listed = await alice.next<ServerMessageOf<'files'>>((m) => m.type === 'files')
    expect(alice.received.filter((m) => m.type === 'error')).toEqual([])
    expect(listed.files[0]).toMatchObject({ fileId, availability: 1 / 3 })
  })

  it('leaves no member behind when a connection closes with a publish or locate under way', async () => {
    await start(env())
    const fileId = await fileIdOf(manifest)
    const sharer = await client()
    await sharer.ask({ type: 'publish', id: 1, manifest })
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const c = await RawClient.greeted(url())
        c.send(i % 2 === 0 ? { type: 'publish', id: 1, manifest } : { type: 'locate', id: 1, fileId })
        c.socket.terminate()
        await c.closed
      }),
    )
    const watcher = await client()
    await expect.poll(async () => (await watcher.ask<ServerMessageOf<'swarm'>>({ type: 'watch', id: 9, fileId })).peerCount).toBe(1)
    await expect.poll(() => service.tracker.peerCount).toBe(2)
  })

  it('holds a cap under a burst: 40 publishes at once with a cap of 5', async () => {
    await start({ ...env(), LIMIT_FILES_PER_PEER: '5' })
    const alice = await client()
    for (let i = 0; i < 40; i++) alice.send({ type: 'publish', id: i, manifest: fileOf(`f${i}`, 1) })
    await alice.next((m) => 'id' in m && m.id === 39, 10_000)
    const replies = alice.received.filter((m) => 'id' in m)
    expect(replies.filter((m) => m.type === 'published')).toHaveLength(5)
    expect((await alice.ask<ServerMessageOf<'files'>>({ type: 'list', id: 100 })).total).toBe(5)
  })

  it('limits the signals any one peer is sent, and refuses signals between peers not in one swarm', async () => {
    await start({ ...env(), LIMIT_SIGNALS_PER_TARGET_PER_SECOND: '4' })
    const fileId = await fileIdOf(manifest)
    const target = await client()
    await target.ask({ type: 'publish', id: 1, manifest })
    const flooders = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const f = await client()
        await f.ask({ type: 'locate', id: 1, fileId })
        return f
      }),
    )
    const offer = { type: 'offer', sdp: 'v=0'.padEnd(10_000, 'x') }
    for (const f of flooders) for (let i = 0; i < 20; i++) f.send({ type: 'signal', to: target.peerId, fileId, link: `l${i}`, data: offer })
    const stranger = await client()
    stranger.send({ type: 'signal', to: target.peerId, fileId, link: 'x', data: offer })
    expect(await stranger.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
    await flooders[4]!.next((m) => m.type === 'error' && m.code === 'rate-limited', 5000)
    await target.ask({ type: 'list', id: 2 }) // every relayed signal was sent before this reply
    const relayed = target.received.filter((m) => m.type === 'signal').length
    // A burst of five seconds' worth, and what trickled in during the test.
    expect(relayed).toBeGreaterThanOrEqual(20)
    expect(relayed).toBeLessThan(40)
  })
})

describe('resume tokens', () => {
  /** A new connection that says hello (resuming `resume` if given) and its welcome. */
  async function hello(resume?: { peerId: string; token: string }) {
    const raw = await RawClient.connect(url())
    clients.push(raw)
    raw.send({ type: 'hello', v: 1, ...(resume ? { resume } : {}) })
    return { raw, welcome: await raw.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome') }
  }
  const tokenOf = ({ peerId, resumeToken }: ServerMessageOf<'welcome'>) => ({ peerId, token: resumeToken })

  it('work once: a second use of the same token gets a new id', async () => {
    await start()
    const first = await hello()
    first.raw.close()
    await first.raw.closed
    const again = await hello(tokenOf(first.welcome))
    expect(again.welcome.peerId).toBe(first.welcome.peerId)
    expect(again.welcome.resumeToken).not.toBe(first.welcome.resumeToken)
    again.raw.close()
    await again.raw.closed
    const replay = await hello(tokenOf(first.welcome))
    expect(replay.welcome.peerId).not.toBe(first.welcome.peerId)
  })

  it('cannot take the id of a live connection', async () => {
    await start()
    const live = await hello()
    const thief = await hello(tokenOf(live.welcome))
    expect(thief.welcome.peerId).not.toBe(live.welcome.peerId)
    expect(await live.raw.ask({ type: 'list', id: 1 })).toMatchObject({ type: 'files' })
  })
})
