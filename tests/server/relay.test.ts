// The service's relay: tickets, the swarm check, the limits, and the two peers on different instances.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { decodeRelayMessage, encodeRelayMessage, RELAY_PATH, type RelayMessage } from '../../src/protocol/relay-frame'
import type { ServerMessageOf } from '../../src/protocol/tracker'
import type { RunningService } from '../../signaling-server/server'
import { placeholderManifest } from '../support/manifests'
import { RawClient } from '../support/raw-client'
import { startRedis, type RedisServer } from '../support/redis'
import { startTestService } from '../support/service'

const manifest = placeholderManifest

const services: RunningService[] = []
const sockets: { close(): void }[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close()
  for (const service of services.splice(0)) await service.close()
})

async function service(env: Record<string, string> = {}): Promise<RunningService> {
  const running = await startTestService({ TRACKER_SECRET: 'relay-test-secret-0123456789', ...env })
  services.push(running)
  return running
}

async function peer(running: RunningService): Promise<RawClient> {
  const client = await RawClient.greeted(`ws://127.0.0.1:${running.port}/ws`)
  sockets.push(client)
  return client
}

/** A file both peers are in the swarm of (the first publishes it, the second locates it). */
async function shared(a: RawClient, b: RawClient, name = 'relayed.bin'): Promise<string> {
  const published = await a.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest: manifest(name) })
  await b.ask({ type: 'locate', id: 2, fileId: published.fileId })
  return published.fileId
}

/** A relay socket opened with a ticket the tracker gave `client`; collects what it receives. */
async function relaySocket(running: RunningService, client: RawClient) {
  const reply = await client.ask<ServerMessageOf<'relay-ticket'>>({ type: 'relay-ticket', id: 9 })
  const socket = new WebSocket(`ws://127.0.0.1:${running.port}${RELAY_PATH}?ticket=${reply.ticket}`)
  sockets.push(socket)
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  const received: RelayMessage[] = []
  let bytes = 0
  socket.on('message', (data: Buffer) => {
    const decoded = decodeRelayMessage(new Uint8Array(data))
    if (!decoded.ok) return
    received.push(decoded.message)
    if (decoded.message.kind === 'data') bytes += decoded.message.frame.length
  })
  const until = async (predicate: () => boolean, ms = 5000) => {
    const end = Date.now() + ms
    while (!predicate()) {
      if (Date.now() > end) throw new Error(`not met in ${ms} ms; received ${JSON.stringify(received.map((m) => m.kind))}`)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  const send = (message: RelayMessage) => socket.send(encodeRelayMessage(message))
  return { socket, received, send, until, bytesReceived: () => bytes, ticket: reply }
}

describe('the relay', () => {
  it('forwards a frame between two peers of one swarm, readdressed from its sender', async () => {
    const running = await service()
    const [alice, bob] = [await peer(running), await peer(running)]
    const fileId = await shared(alice, bob)
    const a = await relaySocket(running, alice)
    const b = await relaySocket(running, bob)
    expect(a.ticket.bytesPerSecond).toBe(1024 * 1024)
    a.send({ kind: 'data', peer: bob.peerId, link: 'R1', fileId, frame: Uint8Array.of(7, 7, 7) })
    await b.until(() => b.received.length === 1)
    expect(b.received[0]).toEqual({ kind: 'data', peer: alice.peerId, link: 'R1', fileId, frame: Uint8Array.of(7, 7, 7) })
  })

  it('refuses to relay to a peer outside the sender’s swarms, with a typed reason', async () => {
    const running = await service()
    const [alice, bob, carol] = [await peer(running), await peer(running), await peer(running)]
    const fileId = await shared(alice, bob)
    const c = await relaySocket(running, carol)
    const b = await relaySocket(running, bob)
    c.send({ kind: 'data', peer: bob.peerId, link: 'R1', fileId, frame: Uint8Array.of(1) })
    await c.until(() => c.received.length === 1)
    expect(c.received[0]).toEqual({ kind: 'closed', peer: bob.peerId, link: 'R1', fileId, reason: 'not-in-swarm' })
    expect(b.received).toEqual([])
  })

  it('says a link is gone when its peer has no relay socket', async () => {
    const running = await service()
    const [alice, bob] = [await peer(running), await peer(running)]
    const fileId = await shared(alice, bob)
    const a = await relaySocket(running, alice)
    a.send({ kind: 'data', peer: bob.peerId, link: 'R1', fileId, frame: Uint8Array.of(1) })
    await a.until(() => a.received.length === 1)
    expect(a.received[0]).toMatchObject({ kind: 'closed', reason: 'gone' })
  })

  it('takes no socket without a valid ticket, nor more sockets than RELAY_MAX_CONNECTIONS', async () => {
    const running = await service({ RELAY_MAX_CONNECTIONS: '1' })
    const status = (url: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(url)
        socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
        socket.once('open', () => resolve(101))
      })
    const base = `ws://127.0.0.1:${running.port}${RELAY_PATH}`
    expect(await status(base)).toBe(401)
    expect(await status(`${base}?ticket=x.y.z`)).toBe(401)
    const [alice, bob] = [await peer(running), await peer(running)]
    await relaySocket(running, alice)
    const ticket = await bob.ask<ServerMessageOf<'relay-ticket'>>({ type: 'relay-ticket', id: 3 })
    expect(await status(`${base}?ticket=${ticket.ticket}`)).toBe(503)
  })

  it('relays at most RELAY_LINKS_PER_FILE links of one file at once', async () => {
    const running = await service({ RELAY_LINKS_PER_FILE: '2' })
    const [alice, bob] = [await peer(running), await peer(running)]
    const fileId = await shared(alice, bob)
    const a = await relaySocket(running, alice)
    const b = await relaySocket(running, bob)
    for (const link of ['R1', 'R2', 'R3']) a.send({ kind: 'data', peer: bob.peerId, link, fileId, frame: Uint8Array.of(1) })
    await a.until(() => a.received.length === 1)
    expect(a.received[0]).toEqual({ kind: 'closed', peer: bob.peerId, link: 'R3', fileId, reason: 'file-limit' })
    await b.until(() => b.received.length === 2)
    expect(b.received.map((m) => m.link)).toEqual(['R1', 'R2'])
  })

  it('paces a peer to RELAY_BYTES_PER_SECOND', async () => {
    const rate = 512 * 1024
    const running = await service({ RELAY_BYTES_PER_SECOND: String(rate) })
    const [alice, bob] = [await peer(running), await peer(running)]
    const fileId = await shared(alice, bob)
    const a = await relaySocket(running, alice)
    const b = await relaySocket(running, bob)
    const frame = new Uint8Array(128 * 1024)
    const started = Date.now()
    // The burst is one message's worth; then the budget refills at `rate`: 2 MiB takes about 3.5 s.
    for (let i = 0; i < 16; i++) a.send({ kind: 'data', peer: bob.peerId, link: 'R1', fileId, frame })
    await b.until(() => b.bytesReceived() === 16 * frame.length, 15_000)
    const seconds = (Date.now() - started) / 1000
    expect(seconds).toBeGreaterThan((16 * frame.length - 2 * 256 * 1024) / rate)
  })

  it('is off with RELAY_BYTES_PER_SECOND=0: no tickets, no relay socket', async () => {
    const running = await service({ RELAY_BYTES_PER_SECOND: '0' })
    const alice = await peer(running)
    expect(await alice.ask({ type: 'relay-ticket', id: 4 })).toMatchObject({ type: 'error', code: 'unavailable' })
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${running.port}${RELAY_PATH}?ticket=x`)
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0))
    })
    expect(refused).toBe(404)
  })

  it('closes a socket that sends what is not a relay message', async () => {
    const running = await service()
    const alice = await peer(running)
    const a = await relaySocket(running, alice)
    const closed = new Promise<number>((resolve) => a.socket.once('close', (code) => resolve(code)))
    a.socket.send(Buffer.from([9, 9, 9]))
    expect(await closed).toBe(1008)
  })
})

describe('the relay across instances on Redis', () => {
  let redis: RedisServer
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(() => redis.stop())

  it('carries frames between peers connected to different instances', async () => {
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: `relay${Date.now()}:` }
    const [one, two] = [await service(env), await service(env)]
    const alice = await peer(one)
    const bob = await peer(two)
    const fileId = await shared(alice, bob)
    const a = await relaySocket(one, alice)
    const b = await relaySocket(two, bob)
    a.send({ kind: 'data', peer: bob.peerId, link: 'R1', fileId, frame: Uint8Array.of(1, 2, 3) })
    b.send({ kind: 'data', peer: alice.peerId, link: 'R1', fileId, frame: Uint8Array.of(4) })
    await b.until(() => b.received.length === 1)
    await a.until(() => a.received.length === 1)
    expect(b.received[0]).toEqual({ kind: 'data', peer: alice.peerId, link: 'R1', fileId, frame: Uint8Array.of(1, 2, 3) })
    expect(a.received[0]).toEqual({ kind: 'data', peer: bob.peerId, link: 'R1', fileId, frame: Uint8Array.of(4) })
  })
})
