import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../src/protocol/encoding'
import { FrameType } from '../../src/protocol/wire'
import { contentLayout } from '../../src/protocol/manifest'
import { newSecret } from '../../src/protocol/sealed'
import { bytesOf, namedBlob, randomBytes, useEngineHarness } from '../support/engine-harness'
import { noticeSentence } from '../../src/ui/sentences'

const KiB = 1024
const harness = useEngineHarness()

/** A private share by a new peer: its file id and the key its link carries. */
async function sharePrivately(content: Uint8Array, name: string) {
  const sharer = await harness.peer()
  const fileId = (await sharer.client.share(namedBlob(content, name)))!
  const secret = sharer.client.snapshot().shares[0]!.secret!
  return { sharer, fileId, secret }
}

describe('private links', () => {
  it('a private share downloads identical with the key; the tracker holds neither its name nor its bytes, and does not list it', async () => {
    const content = randomBytes(3 * 256 * KiB + 5, 61)
    const { sharer, fileId, secret } = await sharePrivately(content, 'diary-2026.txt')
    expect(secret).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(sharer.client.snapshot().transfers.get(fileId)).toMatchObject({ name: 'diary-2026.txt', size: content.length, secret })

    const bob = await harness.peer()
    await bob.client.open(fileId, secret)
    const done = await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    expect(done.transfers.get(fileId)).toMatchObject({ name: 'diary-2026.txt', size: content.length, bytesDone: content.length, total: 4 })
    const { blob, name } = await bob.client.fileForSaving(fileId)
    expect(name).toBe('diary-2026.txt')
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))

    // What the tracker holds is what a third party without the key gets from it.
    const manifest = (await bob.store.loadManifest(fileId))!
    const json = JSON.stringify(manifest)
    expect(manifest.v).toBe(2)
    expect(json).not.toContain('diary')
    expect(json).not.toContain('text/plain')
    // The chunks on the wire are not the file's: no stored plaintext chunk hashes to the manifest's hash.
    const firstPlain = await bob.store.readChunk(fileId, 0)
    expect(firstPlain).toEqual(content.subarray(0, contentLayout(manifest).chunkSize))
    expect(await sha256Hex(firstPlain!)).not.toBe(manifest.hashes[0])
    const listed = await bob.client.listFiles()
    expect(listed.files.map((file) => file.fileId)).not.toContain(fileId)
  })

  it('a presented private file’s join code opens it with its key; removing the file ends the code', async () => {
    const { sharer, fileId, secret } = await sharePrivately(randomBytes(256 * KiB, 63), 'handout.pdf')
    const { code } = await sharer.client.presentCode(fileId)
    const student = await harness.peer()
    expect(await student.client.lookupCode(code)).toEqual({ ok: true, fileId, secret })
    await sharer.client.remove(fileId)
    // Removing sends the end on its way; looked up until the tracker has it (a lookup is rate-limited, so not too often).
    await expect
      .poll(() => student.client.lookupCode(code), { interval: 1000, timeout: 8000 })
      .toEqual({ ok: false, reason: 'expired', message: 'the sharer ended that code' })
  })

  it('a link without its key says it is incomplete, one with another key says so; the whole link then downloads', async () => {
    const content = randomBytes(2 * 256 * KiB, 62)
    const { fileId, secret } = await sharePrivately(content, 'secret.bin')

    const noKey = await harness.peer()
    await noKey.client.open(fileId)
    const incomplete = await noKey.until((s) => s.transfers.get(fileId)?.state === 'error')
    expect(incomplete.transfers.get(fileId)!.notice).toEqual({ kind: 'incomplete-link' })
    expect(noticeSentence(incomplete.transfers.get(fileId)!.notice!)).toMatch(/^This link is incomplete/)
    expect(await noKey.store.storedChunks(fileId)).toEqual([])

    const wrongKey = await harness.peer()
    await wrongKey.client.open(fileId, newSecret())
    const refused = await wrongKey.until((s) => s.transfers.get(fileId)?.state === 'error')
    expect(refused.transfers.get(fileId)!.notice).toEqual({ kind: 'wrong-key' })
    expect(await wrongKey.store.storedChunks(fileId)).toEqual([])

    // The same tab, given the whole link, starts again.
    await noKey.client.open(fileId, secret)
    await noKey.until((s) => s.transfers.get(fileId)?.state === 'complete')
    const { blob } = await noKey.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
  })

  it('a peer serving tampered ciphertext is banned and the download completes from the sharer', { timeout: 30_000 }, async () => {
    const content = randomBytes(16 * 256 * KiB, 63)
    const { sharer, fileId, secret } = await sharePrivately(content, 'x.bin')
    const faulty = await harness.peer()
    await faulty.client.open(fileId, secret)
    await faulty.until((s) => s.transfers.get(fileId)?.state === 'complete')
    // The sharer slowed down, so the newcomer asks the faster faulty peer too.
    sharer.client.setLimits({ up: 1_000_000, down: undefined })
    harness.network.tamper = (from, frame) => {
      if (from !== faulty.peerId || frame[0] !== FrameType.piece) return frame
      const bad = frame.slice()
      bad[bad.length - 1]! ^= 0xff
      return bad
    }
    const carol = await harness.peer()
    await carol.client.open(fileId, secret)
    const done = await carol.until((s) => s.transfers.get(fileId)?.state === 'complete', 20_000)
    const { blob } = await carol.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
    const fromFaulty = done.transfers.get(fileId)!.peers.find((p) => p.peerId === faulty.peerId)
    expect(fromFaulty).toMatchObject({ status: 'skipped', reason: 'sent corrupt data repeatedly' })
  })

  it('a keeper without the key holds the chunks encrypted and is the only source a newcomer needs once the sharer left', async () => {
    const content = randomBytes(2 * 256 * KiB + 9, 65)
    const { sharer, fileId, secret } = await sharePrivately(content, 'kept-secret.bin')
    const keeper = await harness.peer()
    await keeper.client.keep(fileId)
    const kept = await keeper.until((s) => s.transfers.get(fileId)?.state === 'complete')
    expect(kept.transfers.get(fileId)).toMatchObject({ name: 'an encrypted file', secret: undefined })
    // It stores what travels: each chunk hashes to the manifest, and none is the file's own bytes.
    const manifest = (await keeper.store.loadManifest(fileId))!
    for (let index = 0; index < manifest.hashes.length; index++) {
      const chunk = (await keeper.store.readChunk(fileId, index))!
      expect(await sha256Hex(chunk)).toBe(manifest.hashes[index])
      expect(Buffer.from(chunk).includes(Buffer.from(content.subarray(index * (256 * KiB - 17), index * (256 * KiB - 17) + 32)))).toBe(
        false,
      )
    }
    sharer.close()
    // Reopened (a reload), it keeps seeding what it cannot read.
    expect((await keeper.store.listEntries()).find((e) => e.fileId === fileId)).toMatchObject({ kept: true, name: 'an encrypted file' })
    keeper.close()
    const reopened = await harness.peer(keeper.store)
    await reopened.until((s) => s.transfers.get(fileId)?.complete === true)
    const bob = await harness.peer()
    await bob.client.open(fileId, secret)
    const done = await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    expect(done.transfers.get(fileId)!.peers.map((p) => p.peerId)).toEqual([reopened.peerId])
    const { blob } = await bob.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
  })

  it('a reload keeps the key: the library reopens and seeds a private file it holds', async () => {
    const content = randomBytes(256 * KiB + 1, 64)
    const { sharer, fileId, secret } = await sharePrivately(content, 'kept.bin')
    await sharer.until((s) => s.shares[0]?.stored === 2)
    const entry = (await sharer.store.listEntries()).find((e) => e.fileId === fileId)
    expect(entry).toMatchObject({ name: 'kept.bin', secret })
    sharer.close()
    const reopened = await harness.peer(sharer.store)
    await reopened.until((s) => s.transfers.get(fileId)?.state === 'seeding')
    const bob = await harness.peer()
    await bob.client.open(fileId, secret)
    await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    const { blob } = await bob.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
  })
})
