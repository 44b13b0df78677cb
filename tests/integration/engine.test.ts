import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../src/protocol/encoding'
import { FrameType } from '../../src/protocol/wire'
import { contentLayout, fileIdOf } from '../../src/protocol/manifest'
import { describeFile } from '../../src/engine/describe-file'
import { unzipSync } from 'fflate'
import { bytesOf, namedBlob, randomBytes, useEngineHarness } from '../support/engine-harness'
import { MemoryChunkStore } from '../../src/store/memory-store'
import type { ClientSnapshot, TransferView } from '../../src/engine/views'
import { noticeSentence } from '../../src/ui/sentences'

/** Listed shares: these tests are about the swarm, where equal content has one file id (private links have their own tests). */
const LISTED = { listed: true }

const KiB = 1024
const harness = useEngineHarness()

/** The transfer's reason as the page words it. */
const sentenceOf = (view: TransferView) => (view.notice ? noticeSentence(view.notice) : '')

describe('the engine with a real tracker and in-memory links', () => {
  it('downloads a multi-chunk file from a sharer, verified and identical', async () => {
    const content = randomBytes(5 * 256 * KiB + 99)
    const alice = await harness.peer()
    const fileId = (await alice.client.share(namedBlob(content, 'data.bin'), LISTED))!
    expect(fileId).toMatch(/^[0-9a-f]{64}$/)

    const bob = await harness.peer()
    await bob.client.open(fileId)
    const done = await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    const view = done.transfers.get(fileId)!
    expect(view).toMatchObject({ have: 6, total: 6, bytesDone: content.length, size: content.length, name: 'data.bin' })
    const { blob, name } = await bob.client.fileForSaving(fileId)
    expect(name).toBe('data.bin')
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
    expect(view.peers.map((p) => p.bytesDown)).toEqual([content.length])
  })

  it('serves a shared file while it is still being copied into storage, then keeps the copy', async () => {
    const content = randomBytes(6 * 256 * KiB + 5, 21)
    // Alice's storage holds every write until the gate opens: nothing of the file is stored yet.
    let openGate!: () => void
    const gate = new Promise<void>((resolve) => (openGate = resolve))
    class SlowStore extends MemoryChunkStore {
      override async putChunk(id: string, index: number, data: Uint8Array<ArrayBuffer>): Promise<void> {
        await gate
        return super.putChunk(id, index, data)
      }
    }
    const alice = await harness.peer(new SlowStore())
    const fileId = (await alice.client.share(namedBlob(content, 'copying.bin'), LISTED))!
    expect(alice.client.snapshot().shares[0]).toMatchObject({ fileId, stored: 0, total: 7 })

    const bob = await harness.peer()
    await bob.client.open(fileId)
    await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    expect(await alice.store.storedChunks(fileId)).toEqual([])
    const { blob } = await bob.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))

    openGate()
    await alice.until((s) => s.shares[0]?.stored === 7)
    expect(await alice.store.storedChunks(fileId)).toEqual([0, 1, 2, 3, 4, 5, 6])
    const kept = await alice.store.fileBlob(fileId, contentLayout((await alice.store.loadManifest(fileId))!), '')
    expect(await sha256Hex(await bytesOf(kept))).toBe(await sha256Hex(content))
  })

  it('in a private window, a download above the hold size waits for the word before a byte is fetched; a smaller one starts', async () => {
    const big = randomBytes(4 * 256 * KiB, 31)
    const small = randomBytes(256 * KiB, 32)
    const alice = await harness.peer()
    const bigId = (await alice.client.share(namedBlob(big, 'big.bin'), LISTED))!
    const smallId = (await alice.client.share(namedBlob(small, 'small.bin'), LISTED))!
    const bob = await harness.peer(undefined, { privateWindow: { holdAboveBytes: 256 * KiB } })

    await bob.client.open(bigId)
    const held = (await bob.until((s) => s.transfers.get(bigId)?.state === 'paused')).transfers.get(bigId)!
    expect(held.notice).toEqual({ kind: 'private-window', size: big.length, holdAbove: 256 * KiB })
    expect(sentenceOf(held)).toMatch(/private window.*1\.0 MB \(over 262 KB\)/)
    expect(held.bytesDone).toBe(0)
    expect(held.peers).toEqual([])
    expect(await bob.store.storedChunks(bigId)).toEqual([])
    // Not connected to anyone, but the tracker said who holds the file: no chunk shows as held by nobody.
    expect(bob.client.pieceMap(bigId)!.cells.map((cell) => cell.availability)).toEqual([1, 1, 1, 1])

    await bob.client.open(smallId)
    await bob.until((s) => s.transfers.get(smallId)?.state === 'complete')

    await bob.client.resume(bigId)
    await bob.until((s) => s.transfers.get(bigId)?.state === 'complete')
    const { blob } = await bob.client.fileForSaving(bigId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(big))
  })

  it('removing a file while chunk writes are under way leaves nothing of it in storage', async () => {
    const content = randomBytes(6 * 256 * KiB, 11)
    const alice = await harness.peer()
    const fileId = (await alice.client.share(namedBlob(content, 'gone.bin'), LISTED))!
    // Bob's storage holds every chunk write until the gate opens.
    let openGate!: () => void
    const gate = new Promise<void>((resolve) => (openGate = resolve))
    let writeStarted!: () => void
    const firstWrite = new Promise<void>((resolve) => (writeStarted = resolve))
    class GatedStore extends MemoryChunkStore {
      override async putChunk(id: string, index: number, data: Uint8Array<ArrayBuffer>): Promise<void> {
        writeStarted()
        await gate
        return super.putChunk(id, index, data)
      }
    }
    const bob = await harness.peer(new GatedStore())
    await bob.client.open(fileId)
    await firstWrite
    const removed = bob.client.remove(fileId)
    openGate()
    await removed
    expect(await bob.store.storedChunks(fileId)).toEqual([])
    expect(await bob.store.loadManifest(fileId)).toBeUndefined()
    expect(bob.client.snapshot().transfers.has(fileId)).toBe(false)
  })

  it('resumes a partial download: only the missing chunks are fetched', async () => {
    const content = randomBytes(8 * 256 * KiB, 3)
    const alice = await harness.peer()
    const fileId = (await alice.client.share(namedBlob(content, 'resume.bin'), LISTED))!

    // Bob's storage already holds the manifest and chunks 0..4, as after a reload mid-download.
    const bob = await harness.peer()
    const manifest = (await alice.store.loadManifest(fileId))!
    await bob.store.saveManifest(fileId, manifest)
    for (let index = 0; index < 5; index++) await bob.store.putChunk(fileId, index, (await alice.store.readChunk(fileId, index))!)
    await bob.client.open(fileId)
    const done = await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    expect(done.transfers.get(fileId)!.peers[0]!.bytesDown).toBe(3 * 256 * KiB)
    const { blob } = await bob.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
  })

  it('discards corrupt chunks, fetches them from an honest peer and drops the faulty one', async () => {
    const content = randomBytes(24 * 256 * KiB, 5)
    const honest = await harness.peer()
    const faulty = await harness.peer()
    const fileId = (await honest.client.share(namedBlob(content, 'x.bin'), LISTED))!
    await faulty.client.share(namedBlob(content, 'x.bin'), LISTED)
    harness.network.tamper = (from, frame) => {
      if (from !== faulty.peerId || frame[0] !== FrameType.piece) return frame
      const bad = frame.slice()
      bad[bad.length - 1]! ^= 0xff
      return bad
    }
    const bob = await harness.peer()
    await bob.client.open(fileId)
    const done = await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    const { blob } = await bob.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
    const peers = done.transfers.get(fileId)!.peers
    expect(peers.find((p) => p.peerId === honest.peerId)?.status).toBe('connected')
    expect(peers.find((p) => p.peerId === faulty.peerId)).toMatchObject({ status: 'skipped', reason: 'sent corrupt data repeatedly' })
  })

  it('disconnects and avoids a peer that sends frames that do not decode', async () => {
    const content = randomBytes(6 * 256 * KiB, 31)
    const honest = await harness.peer()
    const garbler = await harness.peer()
    const fileId = (await honest.client.share(namedBlob(content, 'g.bin'), LISTED))!
    await garbler.client.share(namedBlob(content, 'g.bin'), LISTED)
    harness.network.tamper = (from, frame) => (from === garbler.peerId && frame[0] === FrameType.piece ? Uint8Array.of(99, 1, 2, 3) : frame)
    const bob = await harness.peer()
    await bob.client.open(fileId)
    const done = await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    expect(done.transfers.get(fileId)!.peers.find((p) => p.peerId === garbler.peerId)).toMatchObject({
      status: 'skipped',
      reason: 'sent an invalid message (unknown frame type 99)',
    })
    const { blob } = await bob.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
  })

  it('finishes from the remaining source when one source vanishes mid-transfer', { timeout: 20_000 }, async () => {
    const content = randomBytes(40 * 256 * KiB, 9)
    const first = await harness.peer()
    const second = await harness.peer()
    // Capped, so the transfer is still under way from both when the first goes.
    for (const source of [first, second]) source.client.setLimits({ up: 2_000_000, down: undefined })
    const fileId = (await first.client.share(namedBlob(content, 'big.bin'), LISTED))!
    await second.client.share(namedBlob(content, 'big.bin'), LISTED)
    const bob = await harness.peer()
    await bob.client.open(fileId)
    const fromFirst = (s: ClientSnapshot) => s.transfers.get(fileId)?.peers.find((p) => p.peerId === first.peerId)?.bytesDown ?? 0
    const before = await bob.until((s) => (s.transfers.get(fileId)?.have ?? 0) >= 4 && fromFirst(s) > 0)
    first.close()
    const haveAtClose = before.transfers.get(fileId)!.have
    expect(haveAtClose).toBeLessThan(40)
    // Under REQUEST_TIMEOUT_MS: what was asked of the first goes back to the pool when its link closes, not after a stall.
    const done = await bob.until((s) => s.transfers.get(fileId)?.state === 'complete', 12_000)
    const peers = done.transfers.get(fileId)!.peers
    expect(peers.some((p) => p.peerId === first.peerId && p.status === 'connected')).toBe(false)
    // Whatever was missing when the first source went came from the second.
    expect(peers.find((p) => p.peerId === second.peerId)!.bytesDown).toBeGreaterThanOrEqual((40 - haveAtClose) * 256 * KiB)
    const { blob } = await bob.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
  })

  it('a capped sharer sends each chunk about once: five downloaders fetch repeats from each other', { timeout: 30_000 }, async () => {
    const content = randomBytes(24 * 256 * KiB, 41)
    const alice = await harness.peer()
    alice.client.setLimits({ up: 1_000_000, down: undefined })
    const fileId = (await alice.client.share(namedBlob(content, 'class.bin'), LISTED))!
    const downloaders = await Promise.all(Array.from({ length: 5 }, () => harness.peer()))
    await Promise.all(downloaders.map((peer) => peer.client.open(fileId)))
    await Promise.all(downloaders.map((peer) => peer.until((s) => s.transfers.get(fileId)?.state === 'complete', 25_000)))
    // Measured here: 1.00-1.13× the file with initial seeding in most runs, up to 1.29× in about one
    // run of four (five to seven chunks sent again; not traced); 1.08-1.50× without initial seeding.
    expect(alice.client.snapshot().transfers.get(fileId)!.bytesUp).toBeLessThanOrEqual(1.35 * content.length)
    for (const peer of downloaders) {
      const { blob } = await peer.client.fileForSaving(fileId)
      expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
    }
  })

  it('drops a link within seconds when the tracker says its peer left and the link has gone silent', { timeout: 15_000 }, async () => {
    const content = randomBytes(40 * 256 * KiB, 29)
    const alice = await harness.peer()
    alice.client.setLimits({ up: 1_000_000, down: undefined })
    const fileId = (await alice.client.share(namedBlob(content, 'quiet.bin'), LISTED))!
    const bob = await harness.peer()
    await bob.client.open(fileId)
    await bob.until((s) => (s.transfers.get(fileId)?.have ?? 0) >= 1)
    // Alice's tab vanishes: her frames stop, her links never say goodbye, the tracker sees her go.
    harness.network.silenced.add(alice.peerId)
    alice.tracker.stop()
    const stalled = await bob.until((s) => s.transfers.get(fileId)?.state === 'stalled', 8_000)
    expect(stalled.transfers.get(fileId)!.peers).toEqual([])
  })

  it('goes to stalled, saying which chunks it waits for, when every source is gone', async () => {
    const content = randomBytes(40 * 256 * KiB, 11)
    const alice = await harness.peer()
    const fileId = (await alice.client.share(namedBlob(content, 'gone.bin'), LISTED))!
    const bob = await harness.peer()
    await bob.client.open(fileId)
    await bob.until((s) => (s.transfers.get(fileId)?.have ?? 0) >= 2)
    alice.close()
    const stalled = await bob.until((s) => s.transfers.get(fileId)?.state === 'stalled')
    const view = stalled.transfers.get(fileId)!
    expect(view.have).toBeLessThan(40)
    expect(sentenceOf(view)).toMatch(/^Waiting for a peer that has chunks \d+/)
    expect(sentenceOf(view)).toContain(`${40 - view.have} of 40 still needed`)
  })

  it(
    'a seeder whose stored chunk is damaged stops offering it, and the swarm repairs it from another source',
    { timeout: 20_000 },
    async () => {
      const content = randomBytes(4 * 256 * KiB, 23)
      const alice = await harness.peer()
      const fileId = (await alice.client.share(namedBlob(content, 'fragile.bin'), LISTED))!
      const firstVisit = await harness.peer()
      await firstVisit.client.open(fileId)
      await firstVisit.until((s) => s.transfers.get(fileId)?.state === 'complete')
      alice.close()
      firstVisit.close()
      // Damage at rest, then the tab is opened again on the same storage and seeds it.
      await firstVisit.store.putChunk(fileId, 2, new Uint8Array(256 * KiB).fill(7))
      const bob = await harness.peer(firstVisit.store)
      await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')

      const carol = await harness.peer()
      await carol.client.open(fileId)
      const stalled = await carol.until((s) => s.transfers.get(fileId)?.state === 'stalled' && s.transfers.get(fileId)?.have === 3)
      expect(sentenceOf(stalled.transfers.get(fileId)!)).toBe('Waiting for a peer that has chunks 3 (1 of 4 still needed).')
      const bobView = (await bob.until((s) => s.transfers.get(fileId)?.have === 3)).transfers.get(fileId)!
      expect(bobView.state).toBe('stalled')

      const dave = await harness.peer()
      await dave.client.share(namedBlob(content, 'fragile.bin'), LISTED)
      await carol.until((s) => s.transfers.get(fileId)?.state === 'complete')
      await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
      for (const peer of [carol, bob]) {
        const { blob } = await peer.client.fileForSaving(fileId)
        expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
      }
    },
  )

  it('a link opened before anyone shares the file starts by itself once someone does', async () => {
    const content = randomBytes(3 * 256 * KiB, 37)
    const alice = await harness.peer()
    const bob = await harness.peer()
    const fileId = await fileIdOf(await describeFile(namedBlob(content, 'soon.bin'), () => undefined))
    await bob.client.open(fileId)
    await bob.until((s) => s.transfers.get(fileId)?.state === 'error')
    await alice.client.share(namedBlob(content, 'soon.bin'), LISTED)
    await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
  })

  it('says no one is sharing a file the tracker does not know', async () => {
    const bob = await harness.peer()
    const fileId = 'cd'.repeat(32)
    await bob.client.open(fileId)
    const failed = await bob.until((s) => s.transfers.get(fileId)?.state === 'error')
    expect(sentenceOf(failed.transfers.get(fileId)!)).toContain('No one is sharing this file right now')
  })
})

describe('swarm', { timeout: 30_000 }, () => {
  it('downloaders become sources: with the sharer’s upload capped, they fetch from each other', async () => {
    const content = randomBytes(24 * 256 * KiB, 13)
    const sharer = await harness.peer()
    sharer.client.setLimits({ up: 2_000_000, down: undefined })
    const fileId = (await sharer.client.share(namedBlob(content, 'class.bin'), LISTED))!
    const downloaders = await Promise.all([harness.peer(), harness.peer(), harness.peer()])
    // Every peer each downloader received bytes from, over the whole download (a finished peer's
    // table drops links that closed, so the last snapshot alone would not tell).
    const sources = downloaders.map(() => new Set<string>())
    const stops = downloaders.map((d, i) =>
      d.client.subscribe(() => {
        for (const peer of d.client.snapshot().transfers.get(fileId)?.peers ?? []) if (peer.bytesDown > 0) sources[i]!.add(peer.peerId)
      }),
    )
    await Promise.all(downloaders.map((d) => d.client.open(fileId)))
    const finals = await Promise.all(downloaders.map((d) => d.until((s) => s.transfers.get(fileId)?.state === 'complete', 30_000)))
    stops.forEach((stop) => stop())
    for (const downloader of downloaders) {
      const { blob } = await downloader.client.fileForSaving(fileId)
      expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
    }
    // The first to get a chunk may get most of them from the sharer; the others get theirs from it too.
    expect(sources.filter((peers) => peers.size >= 2).length).toBeGreaterThanOrEqual(2)
    const uploadedByDownloaders = finals.reduce((sum, s) => sum + s.transfers.get(fileId)!.bytesUp, 0)
    expect(uploadedByDownloaders).toBeGreaterThan(content.length / 2)
  })

  it('a peer that joins after the sharer left gets the whole file from the others', async () => {
    const content = randomBytes(10 * 256 * KiB, 17)
    const sharer = await harness.peer()
    const fileId = (await sharer.client.share(namedBlob(content, 'late.bin'), LISTED))!
    const early = await harness.peer()
    await early.client.open(fileId)
    await early.until((s) => s.transfers.get(fileId)?.state === 'complete')
    sharer.close()
    const late = await harness.peer()
    await late.client.open(fileId)
    const done = await late.until((s) => s.transfers.get(fileId)?.state === 'complete')
    expect(done.transfers.get(fileId)!.peers.map((p) => [p.peerId, p.bytesDown])).toEqual([[early.peerId, content.length]])
  })

  it('resumes by itself when a new source announces the file while it is stalled', async () => {
    const content = randomBytes(16 * 256 * KiB, 19)
    const sharer = await harness.peer()
    sharer.client.setLimits({ up: 1_000_000, down: undefined })
    const fileId = (await sharer.client.share(namedBlob(content, 'later.bin'), LISTED))!
    const carol = await harness.peer()
    await carol.client.open(fileId)
    await carol.until((s) => (s.transfers.get(fileId)?.have ?? 0) >= 1)
    sharer.close()
    await carol.until((s) => s.transfers.get(fileId)?.state === 'stalled')
    const dave = await harness.peer()
    await dave.client.share(namedBlob(content, 'later.bin'), LISTED)
    const done = await carol.until((s) => s.transfers.get(fileId)?.state === 'complete')
    expect(done.transfers.get(fileId)!.peers.find((p) => p.peerId === dave.peerId)?.bytesDown).toBeGreaterThan(0)
    const { blob } = await carol.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
  })
})

describe('bundles', () => {
  it('shares several files under one link; the downloader saves each by path, or all as a zip', async () => {
    const files = [
      { path: 'trip/notes.txt', bytes: randomBytes(1000, 41) },
      { path: 'trip/photos/beach.jpg', bytes: randomBytes(400 * KiB + 5, 43) },
      { path: 'trip/photos/raw/beach.dng', bytes: randomBytes(300 * KiB, 47) },
    ]
    const alice = await harness.peer()
    const entries = files.map(({ path, bytes }) => ({ path, file: new Blob([bytes as Uint8Array<ArrayBuffer>]) }))
    // Private (the default): the paths travel encrypted, and the link's key opens them.
    const fileId = (await alice.client.shareBundle('trip', entries))!
    const secret = alice.client.snapshot().shares[0]!.secret
    expect(secret).toMatch(/^[A-Za-z0-9_-]{22}$/)
    const bob = await harness.peer()
    await bob.client.open(fileId, secret)
    const done = await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    expect(done.transfers.get(fileId)!.files).toEqual(files.map(({ path, bytes }) => ({ path, size: bytes.length })))
    for (const { path, bytes } of files) {
      const saved = await bob.client.fileForSaving(fileId, path)
      expect(saved.name).toBe(path.split('/').pop())
      expect(await sha256Hex(await bytesOf(saved.blob))).toBe(await sha256Hex(bytes))
    }
    const zip = await bob.client.zipForSaving(fileId)
    expect(zip.name).toBe('trip.zip')
    const unpacked = unzipSync(await bytesOf(await zip.zip.blob()))
    expect(Object.keys(unpacked).sort()).toEqual(files.map((f) => f.path).sort())
    for (const { path, bytes } of files) expect(await sha256Hex(unpacked[path]!)).toBe(await sha256Hex(bytes))
  })

  it('gives repeated paths in a bundle distinct names', async () => {
    const alice = await harness.peer()
    const fileId = (await alice.client.shareBundle('twins', [
      { path: 'a.txt', file: new Blob(['one']) },
      { path: 'a.txt', file: new Blob(['two']) },
    ]))!
    expect(
      alice.client
        .snapshot()
        .transfers.get(fileId)!
        .files!.map((f) => f.path),
    ).toEqual(['a.txt', 'a (2).txt'])
  })
})
