import { describe, expect, it } from 'vitest'
import { deriveKeys, RECORD_OVERHEAD, Seal, SealBroken } from '../../src/protocol/sealed'
import { fromBase64Url, toHex } from '../../src/protocol/encoding'
import { contentLayout, fileIdOf, parseManifest } from '../../src/protocol/manifest'
import { describeFile } from '../../src/engine/describe-file'
import { openContent } from '../../src/engine/file-content'
import { namedBlob, randomBytes } from '../support/engine-harness'

const SECRET = 'AAECAwQFBgcICQoLDA0ODw' // bytes 0..15
const SALT = 'EBESExQVFhcYGRobHB0eHw' // bytes 16..31
const PLAIN = Uint8Array.from({ length: 40 }, (_, i) => i)
const bytes = (text: string) => new TextEncoder().encode(text) as Uint8Array<ArrayBuffer>

describe('the private-link key schedule and chunk framing (fixed vectors)', () => {
  it('encrypts a record exactly as RFC 8188 §3.1 does (its example, "I am the walrus")', async () => {
    const example = fromBase64Url('I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB1PD-ly8Thjg')!
    // The example's header: salt (16), record size (4), key id length (1); then the one record.
    const seal = await Seal.open('yqdlZ-tYemfogSmv7Ws5PQ', 'I1BsxtFttlv3u_Oo94xnmw')
    expect(toHex(await seal.encryptChunk(0, bytes('I am the walrus'), true))).toBe(toHex(example.subarray(21)))
  })

  it('derives these keys from a fixed secret and salt', async () => {
    const keys = await deriveKeys(SECRET, SALT)
    expect(Object.fromEntries(Object.entries(keys).map(([name, value]) => [name, toHex(value)]))).toEqual({
      contentKey: '18cc1dbdfa0bcca42a4d4762346896ba',
      nonceBase: '78a8c6d54b387acb5de51277',
      metaKey: '5c0bc6b36c82d7c6dea2f28e9eb6fec4',
      metaNonce: '461acf72814fa50a666388f4',
    })
  })

  it('frames chunks with their index and last-chunk flag, and the metadata, as these vectors say', async () => {
    const seal = await Seal.open(SECRET, SALT)
    const first = await seal.encryptChunk(0, PLAIN, false)
    expect(first.length).toBe(PLAIN.length + RECORD_OVERHEAD)
    expect(toHex(first)).toBe(
      'd5092d832f4714cf0b9833afcbab006c46112936824b759691cba01ca121946d6ef71955dec8aa2db73975181dbc5c1edacd9683588f0cb505',
    )
    expect(toHex(await seal.encryptChunk(1, PLAIN.subarray(0, 7), true))).toBe('e1b92e56620016ff0d808532aa94f8ce982ef38a640d28ab')
    // The index's high 32 bits go into the nonce too.
    expect(toHex(await seal.encryptChunk(2 ** 32 + 5, PLAIN.subarray(0, 3), false))).toBe('a70b928ec7d8512653f5a7e92ee9bd9fb1e1d134')
    expect(await seal.encryptMeta('{"name":"a.txt","type":"text/plain","size":47}')).toBe(
      'Sqq2fBTJfnwP9-MBbpttgegKLTalv3DrEsw9ZincrAv4veEUqr-jY8xkA45AaB6PZOaST3pBYSmRw3XLAck',
    )
  })

  it('opens only the chunk it sealed: another index, flag, salt, key or one changed byte is refused', async () => {
    const seal = await Seal.open(SECRET, SALT)
    const sealed = await seal.encryptChunk(3, PLAIN, false)
    expect(await seal.decryptChunk(3, sealed, false)).toEqual(PLAIN)
    await expect(seal.decryptChunk(4, sealed, false)).rejects.toThrow(SealBroken)
    await expect(seal.decryptChunk(3, sealed, true)).rejects.toThrow(/not marked as the last/)
    await expect((await Seal.open(SECRET, 'FBESExQVFhcYGRobHB0eHw')).decryptChunk(3, sealed, false)).rejects.toThrow(SealBroken)
    await expect((await Seal.open('BAECAwQFBgcICQoLDA0ODw', SALT)).decryptChunk(3, sealed, false)).rejects.toThrow(SealBroken)
    const changed = sealed.slice()
    changed[5]! ^= 1
    await expect(seal.decryptChunk(3, changed, false)).rejects.toThrow(SealBroken)
    await expect(seal.decryptChunk(3, sealed.subarray(0, 16), false)).rejects.toThrow(/too short/)
    // A key spelt with stray low bits is not a key (one key, one spelling).
    await expect(Seal.open('AAECAwQFBgcICQoLDA0ODx', SALT)).rejects.toThrow(/base64url/)
    await expect((await Seal.open('BAECAwQFBgcICQoLDA0ODw', SALT)).decryptMeta(await seal.encryptMeta('{}'))).rejects.toThrow(SealBroken)
  })
})

describe('a sealed manifest', () => {
  it('hashes the encrypted chunks, names nothing, checks as valid and opens only with its secret', async () => {
    const content = randomBytes(2 * 256 * 1024 + 10, 71)
    const manifest = await describeFile(namedBlob(content, 'plan.pdf', 'application/pdf'), () => undefined, SECRET)
    expect(manifest.v).toBe(2)
    expect(parseManifest(manifest).ok).toBe(true)
    expect(JSON.stringify(manifest)).not.toMatch(/plan|pdf/)
    // 256 KiB encrypted chunks carry 256 KiB - 17 of the file each: three of them here.
    expect(manifest.chunkSize).toBe(256 * 1024)
    expect(manifest.hashes).toHaveLength(3)
    expect(manifest.size).toBe(content.length + 3 * RECORD_OVERHEAD)
    expect(contentLayout(manifest)).toEqual({ size: content.length, chunkSize: 256 * 1024 - RECORD_OVERHEAD, count: 3 })

    const opened = await openContent(manifest, { secret: SECRET })
    if (typeof opened === 'string') throw new Error(opened)
    expect(opened.meta).toEqual({ name: 'plan.pdf', type: 'application/pdf', size: content.length })
    expect(await openContent(manifest, {})).toBe('incomplete-link')
    expect(await openContent(manifest, { secret: 'BAECAwQFBgcICQoLDA0ODw' })).toBe('wrong-key')
    // Two shares of the same file are two files: a fresh salt each time.
    const again = await describeFile(namedBlob(content, 'plan.pdf', 'application/pdf'), () => undefined, SECRET)
    expect(await fileIdOf(again)).not.toBe(await fileIdOf(manifest))
  })

  it('refuses a sealed manifest whose sizes do not add up', () => {
    const base = { v: 2, size: 300, chunkSize: 256 * 1024, hashes: ['0'.repeat(64)], salt: SALT, meta: 'AAAA' }
    expect(parseManifest(base).ok).toBe(true)
    expect(parseManifest({ ...base, size: 10 })).toMatchObject({ ok: false, message: expect.stringMatching(/too short/) })
    expect(parseManifest({ ...base, hashes: [] }).ok).toBe(false)
    expect(parseManifest({ ...base, salt: 'short' }).ok).toBe(false)
    expect(parseManifest({ ...base, name: 'x' }).ok).toBe(false)
  })
})
