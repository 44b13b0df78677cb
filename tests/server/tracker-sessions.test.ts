// The tracker over raw WebSocket clients: swarm views, resuming after a reconnect, limits, HTTP.
import { describe, expect, it } from 'vitest'
import { fileIdOf, type Manifest } from '../../src/protocol/manifest'
import { type ServerMessage, type ServerMessageOf } from '../../src/protocol/tracker'
import { RawClient } from '../support/raw-client'
import { manifest, service, url, clients, client, start, publish, startEachOn, useTrackerService } from '../support/tracker-suite'

useTrackerService()

describe.each(['memory', 'redis'] as const)('on %s', (kind) => {
  startEachOn(kind)

  describe('swarm view', () => {
    const swarmPush = (m: ServerMessage) => m.type === 'swarm' && !('id' in m && m.id !== undefined)

    it('answers watch with the swarm, then pushes joins, chunks, rates and departures', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const viewer = await client()
      const first = await viewer.ask<ServerMessageOf<'swarm'>>({ type: 'watch', id: 7, fileId })
      expect(first).toEqual({
        type: 'swarm',
        id: 7,
        fileId,
        name: 'notes.txt',
        chunkCount: 3,
        peers: [{ peerId: alice.peerId, have: Buffer.from([0b1110_0000]).toString('base64') }],
        peerCount: 1,
        links: [],
      })
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      bob.send({ type: 'have', fileId, indexes: [2] })
      alice.send({ type: 'rates', fileId, links: [{ to: bob.peerId, rate: 250_000 }] })
      // Changes are coalesced: one push carries the newcomer, its chunk and the rate.
      const pushed = await viewer.next<ServerMessageOf<'swarm'>>(
        (m) => swarmPush(m) && m.type === 'swarm' && m.links.length === 1 && m.peers.some((p) => p.have === 'IA=='),
      )
      expect(pushed.peerCount).toBe(2)
      expect(pushed.links).toEqual([{ from: alice.peerId, to: bob.peerId, rate: 250_000 }])
      bob.close()
      const after = await viewer.next<ServerMessageOf<'swarm'>>((m) => swarmPush(m) && m.type === 'swarm' && m.peerCount === 1)
      expect(after.peers.map((p) => p.peerId)).toEqual([alice.peerId])
      expect(after.links).toEqual([])
    })

    it('describes an unknown file as an empty swarm and fills in once it is published', async () => {
      const viewer = await client()
      const fileId = await fileIdOf(manifest)
      expect(await viewer.ask({ type: 'watch', id: 1, fileId })).toMatchObject({ type: 'swarm', name: '', chunkCount: 0, peers: [] })
      await publish(await client())
      expect(await viewer.next((m) => swarmPush(m))).toMatchObject({ name: 'notes.txt', peerCount: 1 })
    })

    it('stops pushing after unwatch', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const viewer = await client()
      await viewer.ask({ type: 'watch', id: 1, fileId })
      viewer.send({ type: 'unwatch', fileId })
      await viewer.ask({ type: 'list', id: 2 }) // the unwatch has been handled once this answers
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      await expect(viewer.next((m) => swarmPush(m), 1500)).rejects.toThrow()
    })

    it('takes rates only from members, and only between members', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const mallory = await client()
      mallory.send({ type: 'rates', fileId, links: [{ to: alice.peerId, rate: 1 }] })
      expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
      const viewer = await client()
      alice.send({ type: 'rates', fileId, links: [{ to: mallory.peerId, rate: 5 }] })
      await viewer.ask({ type: 'list', id: 1 })
      expect(await viewer.ask({ type: 'watch', id: 2, fileId })).toMatchObject({ links: [] })
      alice.send({ type: 'rates', fileId, links: Array.from({ length: 65 }, () => ({ to: mallory.peerId, rate: 5 })) })
      expect(await alice.next((m) => m.type === 'error')).toMatchObject({ code: 'malformed' })
    })
  })

  describe('resuming after a reconnect', () => {
    it('keeps the peer id for a client that proves it with the token from welcome', async () => {
      const first = await RawClient.connect(url)
      clients.push(first)
      first.send({ type: 'hello', v: 1 })
      const welcome = await first.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
      first.close()
      await first.closed
      const again = await RawClient.connect(url)
      clients.push(again)
      again.send({ type: 'hello', v: 1, resume: { peerId: welcome.peerId, token: welcome.resumeToken } })
      expect(await again.next((m) => m.type === 'welcome')).toMatchObject({ peerId: welcome.peerId })
    })

    it('gives a new id to a forged token, and cannot be used to take over another peer', async () => {
      const victim = await client()
      const attacker = await RawClient.connect(url)
      clients.push(attacker)
      attacker.send({ type: 'hello', v: 1, resume: { peerId: victim.peerId, token: 'A'.repeat(43) } })
      const welcome = await attacker.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
      expect(welcome.peerId).not.toBe(victim.peerId)
      expect(await victim.ask({ type: 'list', id: 1 })).toMatchObject({ type: 'files' })
    })

    it('hands the id over from a stale connection the client left behind (one that stopped answering pings)', async () => {
      await service.close()
      await start({ HEARTBEAT_MS: '1000' })
      const old = await RawClient.connect(url)
      clients.push(old)
      old.send({ type: 'hello', v: 1 })
      const welcome = await old.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
      old.socket.pause() // its pongs stop, as when the tab's network went away
      // While the old connection may still be alive, a resume gets a new id; once its ping goes unanswered, the id.
      await expect
        .poll(
          async () => {
            const fresh = await RawClient.connect(url)
            clients.push(fresh)
            fresh.send({ type: 'hello', v: 1, resume: { peerId: welcome.peerId, token: welcome.resumeToken } })
            return (await fresh.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')).peerId
          },
          { timeout: 5000 },
        )
        .toBe(welcome.peerId)
      old.socket.resume()
      expect(await old.closed).toBe(1006)
    })
  })

  describe('limits', () => {
    const other: Manifest = { ...manifest, name: 'other.txt' }
    const third: Manifest = { ...manifest, name: 'third.txt' }

    it('refuses messages over the rate with rate-limited, then disconnects a client that persists', async () => {
      await service.close()
      await start({ LIMIT_MESSAGES_PER_SECOND: '1', LIMIT_MESSAGE_BURST: '5', LIMIT_REFUSALS_BEFORE_DISCONNECT: '3' })
      const flood = await client()
      for (let id = 0; id < 20; id++) flood.send({ type: 'list', id })
      expect(await flood.next((m) => m.type === 'error')).toMatchObject({ code: 'rate-limited', message: 'too many messages: slow down' })
      expect(await flood.closed).toBe(1008)
      const calm = await client()
      expect(await calm.ask({ type: 'list', id: 1 })).toMatchObject({ type: 'files' })
    })

    it('caps the files one peer publishes', async () => {
      await service.close()
      await start({ LIMIT_FILES_PER_PEER: '2' })
      const alice = await client()
      await publish(alice)
      await publish(alice, other)
      expect(await alice.ask({ type: 'publish', id: 7, manifest: third })).toMatchObject({ type: 'error', id: 7, code: 'rate-limited' })
      expect(await alice.ask({ type: 'publish', id: 8, manifest })).toMatchObject({ type: 'published' }) // re-publishing is free
      expect((await alice.ask<ServerMessageOf<'files'>>({ type: 'list', id: 9 })).files.map((f) => f.name).sort()).toEqual([
        'notes.txt',
        'other.txt',
      ])
    })

    it('caps the manifest bytes one peer publishes', async () => {
      await service.close()
      await start({ LIMIT_MANIFEST_BYTES_PER_PEER: '1024' })
      const alice = await client()
      await publish(alice) // about 300 bytes
      const big: Manifest = {
        ...manifest,
        size: 20 * 262144,
        hashes: Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(64, '0')),
      }
      expect(await alice.ask({ type: 'publish', id: 2, manifest: big })).toMatchObject({
        type: 'error',
        code: 'rate-limited',
        message: 'a peer may publish at most 1024 bytes of manifests',
      })
    })

    it('caps the swarms one peer is in', async () => {
      await service.close()
      await start({ LIMIT_SWARMS_PER_PEER: '1' })
      const alice = await client()
      await publish(alice)
      const otherId = await publish(await client(), other)
      expect(await alice.ask({ type: 'locate', id: 3, fileId: otherId })).toMatchObject({ type: 'error', id: 3, code: 'rate-limited' })
    })

    it('refuses WebSocket upgrades from origins outside the allow-list', async () => {
      await service.close()
      await start({ ALLOWED_ORIGINS: 'http://class.example' })
      await expect(RawClient.connect(url, { origin: 'http://evil.example' })).rejects.toThrow(/403/)
      const allowed = await RawClient.greeted(url, { origin: 'http://class.example' })
      clients.push(allowed)
      expect(allowed.peerId).not.toBe('')
    })
  })
})

describe('HTTP side', () => {
  startEachOn('memory')

  it('serves the app with security headers, and a clear message when it is not built', async () => {
    const response = await fetch(`http://127.0.0.1:${service.port}/`)
    expect(response.status).toBe(503)
    expect(await response.text()).toContain('not built yet')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'")
  })
})
