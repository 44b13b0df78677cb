import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { fromBase64, fromHex, sha256Hex, toBase64, toHex, utf8Exceeds, utf8Length } from '../../src/protocol/encoding'
import { Bitfield } from '../../src/protocol/bitfield'

describe('hex and base64', () => {
  it('round-trip every length up to 40 bytes and match Node’s encoders', () => {
    for (let length = 0; length <= 40; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 255)
      expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'))
      expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'))
      expect(fromHex(toHex(bytes))).toEqual(bytes)
      expect(fromBase64(toBase64(bytes))).toEqual(bytes)
    }
  })

  it('refuse malformed text', () => {
    expect(() => fromHex('abc')).toThrow()
    expect(() => fromHex('ABCD')).toThrow()
    expect(() => fromBase64('abc')).toThrow()
    expect(() => fromBase64('a*==')).toThrow()
  })

  it('hashes with WebCrypto exactly as Node does', async () => {
    const bytes = new TextEncoder().encode('tabswarm')
    expect(await sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'))
  })
})

describe('Bitfield', () => {
  it('stores bits most significant first', () => {
    const field = new Bitfield(10)
    field.set(0)
    field.set(9)
    expect([...field.bytes]).toEqual([0b1000_0000, 0b0100_0000])
    expect(field.indexes()).toEqual([0, 9])
    expect(field.count()).toBe(2)
    expect(field.missing()).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('clears spare bits from untrusted bytes so counts stay honest', () => {
    const field = new Bitfield(3, Uint8Array.of(0xff))
    expect(field.count()).toBe(3)
    expect(field.isComplete()).toBe(true)
  })

  it('refuses indexes outside the field and bytes of the wrong size', () => {
    const field = new Bitfield(4)
    expect(() => field.set(4)).toThrow(RangeError)
    expect(() => field.set(-1)).toThrow(RangeError)
    expect(field.get(99)).toBe(false)
    expect(() => new Bitfield(9, new Uint8Array(1))).toThrow()
  })

  it('full() holds every chunk, including a zero-chunk file', () => {
    expect(Bitfield.full(13).isComplete()).toBe(true)
    expect(Bitfield.full(0).isComplete()).toBe(true)
  })
})

describe('UTF-8 byte counts', () => {
  const samples = ['', 'plain ascii', 'é'.repeat(50), '漢字'.repeat(40), '🙂'.repeat(30), 'a\ud800b', `mixed é漢🙂${'x'.repeat(20)}`]

  it('count bytes as UTF-8 does, lone surrogates included', () => {
    for (const text of samples) expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'))
  })

  it('tell whether a text is over a limit, at and around every edge the length shortcut uses', () => {
    for (const text of samples) {
      const bytes = Buffer.byteLength(text, 'utf8')
      for (const limit of [
        0,
        1,
        text.length - 1,
        text.length,
        Math.ceil(text.length * 3) - 1,
        text.length * 3,
        bytes - 1,
        bytes,
        bytes + 1,
      ]) {
        if (limit < 0) continue
        expect(utf8Exceeds(text, limit)).toBe(bytes > limit)
      }
    }
  })
})
