// The tracker over raw WebSocket clients: greeting, publishing, listing, locating, signals.
import { describe, expect, it } from 'vitest'
import { fileIdOf, type Manifest } from '../../src/protocol/manifest'
import { MAX_TRACKER_FRAME_BYTES, type ServerMessageOf } from '../../src/protocol/tracker'
import { RawClient } from '../support/raw-client'
import { manifest, service, url, clients, client, start, publish, startEachOn, useTrackerService } from '../support/tracker-suite'

useTrackerService()

describe.each(['memory', 'redis'] as const)('on %s', (kind) => {
  startEachOn(kind)

  describe('tracker', () => {
    it('welcomes each connection with its own server-assigned peer id and the ICE servers', async () => {
      const a = await client()
      const b = await client()
      expect(a.peerId).toMatch(/^[A-Za-z0-9_-]{16}$/)
      expect(a.peerId).not.toBe(b.peerId)
    })

    it('sends the configured ICE servers and heartbeat in welcome', async () => {
      const c = await RawClient.connect(url)
      clients.push(c)
      c.send({ type: 'hello', v: 1 })
      const welcome = await c.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
      expect(welcome).toMatchObject({ v: 1, heartbeatMs: 30_000, iceServers: [{ urls: 'stun:127.0.0.1:3478' }] })
    })

    it('refuses requests before hello and an unsupported protocol version', async () => {
      const c = await RawClient.connect(url)
      clients.push(c)
      expect(await c.ask({ type: 'list', id: 5 })).toMatchObject({ type: 'error', id: 5, code: 'malformed', message: 'send hello first' })
      c.send({ type: 'hello', v: 99 })
      expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'unsupported-version' })
    })

    it('refuses a hello with a field it does not know as malformed, and welcomes a plain one on the same connection', async () => {
      // What a newer client meets at a tracker of the version before (and greets again without).
      const c = await RawClient.connect(url)
      clients.push(c)
      c.send({ type: 'hello', v: 1, later: true })
      expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'malformed' })
      c.send({ type: 'hello', v: 1 })
      expect(await c.next((m) => m.type === 'welcome')).toMatchObject({ type: 'welcome' })
    })

    it('publishes a manifest under its content id and lists it', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      expect(fileId).toBe(await fileIdOf(manifest))
      const files = await alice.ask<ServerMessageOf<'files'>>({ type: 'list', id: 2 })
      expect(files.files).toEqual([{ fileId, name: 'notes.txt', size: 600_000, chunkCount: 3, peers: 1, seeders: 1, availability: 1 }])
    })

    it('answers a keeper with the files that most need a copy, fewest copies first, then most fetching, at most 32', async () => {
      const named = (i: number): Manifest => ({ ...manifest, name: `handout-${i}.pdf` })
      const sharers = await Promise.all(Array.from({ length: 35 }, () => client()))
      const ids = await Promise.all(sharers.map((c, i) => publish(c, named(i))))
      // File 0 gets a second complete copy; file 1 a member still fetching it.
      const second = await client()
      await second.ask({ type: 'publish', id: 2, manifest: named(0) })
      const fetching = await client()
      await fetching.ask({ type: 'locate', id: 3, fileId: ids[1]! })
      const keeper = await client()
      const reply = await keeper.ask<ServerMessageOf<'wanted'>>({ type: 'wanted', id: 4 })
      expect(reply.files).toHaveLength(32)
      expect(reply.files[0]).toEqual({ fileId: ids[1], size: 600_000, copies: 1, downloaders: 1 })
      expect(reply.files.every((file, i) => i === 0 || file.copies >= reply.files[i - 1]!.copies)).toBe(true)
      expect(reply.files.map((file) => file.fileId)).not.toContain(ids[0])
    })

    it('locates a file: manifest and who holds which chunks; the swarm hears of the newcomer', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      const location = await bob.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 3, fileId })
      expect(location.manifest).toEqual(manifest)
      expect(location.peers).toEqual([{ peerId: alice.peerId, have: Buffer.from([0b1110_0000]).toString('base64') }])
      const joined = await alice.next<ServerMessageOf<'peer-joined'>>((m) => m.type === 'peer-joined')
      expect(joined).toEqual({ type: 'peer-joined', fileId, peer: { peerId: bob.peerId, have: 'AA==' } })
    })

    it('relays chunk announcements to the swarm and counts them in the listing', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      bob.send({ type: 'have', fileId, indexes: [1] })
      expect(await alice.next((m) => m.type === 'peer-have')).toEqual({ type: 'peer-have', fileId, peerId: bob.peerId, indexes: [1] })
      const carol = await client()
      const location = await carol.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 4, fileId })
      expect(location.peers.find((p) => p.peerId === bob.peerId)?.have).toBe(Buffer.from([0b0100_0000]).toString('base64'))
      const files = await carol.ask<ServerMessageOf<'files'>>({ type: 'list', id: 5 })
      expect(files.files[0]).toMatchObject({ peers: 3, seeders: 1 })
    })

    it('gathers chunk news for a client that takes it: one swarm-news of each chunk’s latest state, sent before the peer leaves', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const news = await RawClient.greeted(url, {}, { news: true })
      clients.push(news)
      await news.ask({ type: 'locate', id: 3, fileId })
      const bob = await client()
      await bob.ask({ type: 'locate', id: 4, fileId })
      await news.next((m) => m.type === 'peer-joined')
      bob.send({ type: 'have', fileId, indexes: [0] })
      bob.send({ type: 'have', fileId, indexes: [1, 2] })
      bob.send({ type: 'lost', fileId, indexes: [0] })
      // A client that did not say `news` hears each announcement as it was made.
      const each = () => alice.next((m) => m.type === 'peer-have' || m.type === 'peer-lost')
      expect([await each(), await each(), await each()]).toEqual([
        { type: 'peer-have', fileId, peerId: bob.peerId, indexes: [0] },
        { type: 'peer-have', fileId, peerId: bob.peerId, indexes: [1, 2] },
        { type: 'peer-lost', fileId, peerId: bob.peerId, indexes: [0] },
      ])
      expect(await news.next((m) => m.type === 'swarm-news')).toEqual({
        type: 'swarm-news',
        fileId,
        changes: [{ peerId: bob.peerId, have: [1, 2], lost: [0] }],
      })
      expect(news.received.filter((m) => m.type === 'peer-have' || m.type === 'peer-lost')).toEqual([])
      // News still gathering when the peer leaves is sent before the word that it left.
      bob.send({ type: 'have', fileId, indexes: [0] })
      await alice.next((m) => m.type === 'peer-have')
      bob.close()
      await news.next((m) => m.type === 'peer-left' && m.peerId === bob.peerId)
      expect(news.received).toContainEqual({ type: 'swarm-news', fileId, changes: [{ peerId: bob.peerId, have: [0] }] })
    })

    it('lets a partial holder register a file with what it holds (as after a tracker restart)', async () => {
      const bob = await client()
      const partial = Buffer.from([0b0100_0000]).toString('base64')
      const reply = await bob.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest, have: partial })
      const carol = await client()
      const location = await carol.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 2, fileId: reply.fileId })
      expect(location.peers).toEqual([{ peerId: bob.peerId, have: partial }])
      expect((await carol.ask<ServerMessageOf<'files'>>({ type: 'list', id: 3 })).files[0]).toMatchObject({
        seeders: 0,
        availability: 1 / 3,
      })
      expect(await bob.ask({ type: 'publish', id: 4, manifest, have: 'AAAA' })).toMatchObject({
        type: 'error',
        id: 4,
        code: 'malformed',
        message: 'have: a bitfield of 3 chunks is 1 bytes',
      })
    })

    it('withdraws chunks a peer reports lost and tells the swarm', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      alice.send({ type: 'lost', fileId, indexes: [0] })
      expect(await bob.next((m) => m.type === 'peer-lost')).toEqual({ type: 'peer-lost', fileId, peerId: alice.peerId, indexes: [0] })
      const location = await bob.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 4, fileId })
      expect(location.peers.find((p) => p.peerId === alice.peerId)?.have).toBe(Buffer.from([0b0110_0000]).toString('base64'))
      const mallory = await client()
      mallory.send({ type: 'lost', fileId, indexes: [1] })
      expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
    })

    it('relays signals with the sender’s real id stamped as from', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      bob.send({ type: 'signal', to: alice.peerId, fileId, link: 'L1', data: { type: 'offer', sdp: 'v=0' } })
      expect(await alice.next((m) => m.type === 'signal')).toEqual({
        type: 'signal',
        from: bob.peerId,
        fileId,
        link: 'L1',
        data: { type: 'offer', sdp: 'v=0' },
      })
    })

    it('drops a closed connection’s chunk locations and tells the swarm', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      alice.close()
      expect(await bob.next((m) => m.type === 'peer-left')).toEqual({ type: 'peer-left', fileId, peerId: alice.peerId })
      const location = await bob.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 4, fileId })
      expect(location.peers).toEqual([])
    })

    it('forgets a file when its swarm is empty; locating it then says not found', async () => {
      const alice = await client()
      const fileId = await publish(alice)
      alice.close()
      const bob = await client()
      await expect.poll(async () => (await bob.ask<ServerMessageOf<'files'>>({ type: 'list', id: 9 })).files).toEqual([])
      expect(await bob.ask({ type: 'locate', id: 7, fileId })).toEqual({
        type: 'error',
        id: 7,
        code: 'not-found',
        message: 'no one is sharing that file',
      })
    })

    it('tells a peer that looked for an unknown file when someone publishes it', async () => {
      const bob = await client()
      const fileId = await fileIdOf(manifest)
      expect(await bob.ask({ type: 'locate', id: 1, fileId })).toMatchObject({ code: 'not-found' })
      const alice = await client()
      await publish(alice)
      expect(await bob.next((m) => m.type === 'file-available')).toEqual({ type: 'file-available', fileId })
    })

    it('drops a peer that stops answering pings, with its chunk locations', async () => {
      await service.close()
      await start({ HEARTBEAT_MS: '1000' })
      const alice = await client({ autoPong: false })
      const fileId = await publish(alice)
      const bob = await client()
      await bob.ask({ type: 'locate', id: 3, fileId })
      expect(await bob.next((m) => m.type === 'peer-left', 4000)).toEqual({ type: 'peer-left', fileId, peerId: alice.peerId })
      expect(await alice.closed).toBe(1006)
    })

    describe('hostile input gets a typed error and changes nothing', () => {
      async function listing(c: RawClient) {
        return (await c.ask<ServerMessageOf<'files'>>({ type: 'list', id: 1000 })).files
      }

      it.each([
        ['non-JSON text', '{{{', 'malformed'],
        ['an unknown type', JSON.stringify({ type: 'drop-tables' }), 'malformed'],
        ['a missing field', JSON.stringify({ type: 'publish', id: 1 }), 'malformed'],
        ['a wrong field type', JSON.stringify({ type: 'locate', id: 1, fileId: 12 }), 'malformed'],
        ['an absurd manifest', JSON.stringify({ type: 'publish', id: 1, manifest: { ...manifest, size: 1e15, hashes: [] } }), 'malformed'],
        ['a frame over the size cap', JSON.stringify({ type: 'list', id: 1, pad: 'x'.repeat(MAX_TRACKER_FRAME_BYTES) }), 'too-large'],
      ])('%s', async (_title, frame, code) => {
        const alice = await client()
        await publish(alice)
        const before = await listing(alice)
        alice.sendRaw(frame)
        expect(await alice.next((m) => m.type === 'error')).toMatchObject({ type: 'error', code })
        expect(await listing(alice)).toEqual(before)
      })

      it('a binary frame', async () => {
        const alice = await client()
        alice.sendRaw(Buffer.from([0, 1, 2, 3]))
        expect(await alice.next((m) => m.type === 'error')).toMatchObject({
          code: 'malformed',
          message: 'frames must be JSON text, not binary',
        })
      })

      it('have for a file the peer never located or published, or past its chunk count', async () => {
        const alice = await client()
        const fileId = await publish(alice)
        const mallory = await client()
        mallory.send({ type: 'have', fileId, indexes: [0] })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
        await mallory.ask({ type: 'locate', id: 2, fileId })
        mallory.send({ type: 'have', fileId, indexes: [3] })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
        const location = await mallory.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 3, fileId })
        expect(location.peers).toEqual([{ peerId: alice.peerId, have: Buffer.from([0b1110_0000]).toString('base64') }])
      })

      it('signal to an unknown peer, to itself, or outside a shared swarm', async () => {
        const alice = await client()
        const fileId = await publish(alice)
        const mallory = await client()
        mallory.send({ type: 'signal', to: 'nobody-here-123', fileId, link: 'L1', data: { type: 'offer', sdp: '' } })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'unknown-peer' })
        mallory.send({ type: 'signal', to: mallory.peerId, fileId, link: 'L1', data: { type: 'offer', sdp: '' } })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'unknown-peer' })
        mallory.send({ type: 'signal', to: alice.peerId, fileId, link: 'L1', data: { type: 'offer', sdp: '' } })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
        // A round trip on alice's own socket first: anything relayed to her would have come before its reply.
        await alice.ask({ type: 'list', id: 9 })
        expect(alice.received.filter((m) => m.type === 'signal')).toEqual([])
      })

      it('unpublish of a file the peer is not sharing', async () => {
        const alice = await client()
        const fileId = await publish(alice)
        const mallory = await client()
        mallory.send({ type: 'unpublish', fileId })
        expect(await mallory.next((m) => m.type === 'error')).toMatchObject({ code: 'not-in-swarm' })
        expect((await listing(mallory))[0]).toMatchObject({ fileId, peers: 1 })
      })
    })
  })
})
