// Which chunks a peer holds: one bit per chunk, most significant bit first (as in BitTorrent).
// It lives in protocol because both the wire handshake and the tracker carry it.
import { BASE64_PATTERN, fromBase64 } from './encoding'

export type DecodedBitfield = { ok: true; bitfield: Bitfield } | { ok: false; message: string }

/** The one decoder of a base64 bitfield from the tracker protocol: its length must fit `chunkCount`. */
export function decodeBitfield(base64: string, chunkCount: number): DecodedBitfield {
  const size = Bitfield.byteLength(chunkCount)
  if (!BASE64_PATTERN.test(base64)) return { ok: false, message: 'a bitfield must be base64' }
  const bytes = fromBase64(base64)
  if (bytes.length !== size) return { ok: false, message: `a bitfield of ${chunkCount} chunks is ${size} bytes` }
  return { ok: true, bitfield: new Bitfield(chunkCount, bytes) }
}

export class Bitfield {
  readonly bytes: Uint8Array

  constructor(
    readonly length: number,
    bytes?: Uint8Array,
  ) {
    const size = Bitfield.byteLength(length)
    if (bytes && bytes.length !== size) throw new Error(`bitfield of ${length} bits needs ${size} bytes`)
    this.bytes = bytes ? bytes.slice() : new Uint8Array(size)
    // Spare bits past `length` must stay clear so counts and equality hold.
    if (bytes && length % 8 !== 0 && size > 0) this.bytes[size - 1]! &= 0xff << (8 - (length % 8))
  }

  static byteLength(bits: number): number {
    return Math.ceil(bits / 8)
  }

  static full(length: number): Bitfield {
    const field = new Bitfield(length)
    for (let i = 0; i < length; i++) field.set(i)
    return field
  }

  get(index: number): boolean {
    if (index < 0 || index >= this.length) return false
    return (this.bytes[index >> 3]! & (0x80 >> (index & 7))) !== 0
  }

  set(index: number, value = true): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`chunk index ${index} outside 0..${this.length - 1}`)
    }
    if (value) this.bytes[index >> 3]! |= 0x80 >> (index & 7)
    else this.bytes[index >> 3]! &= ~(0x80 >> (index & 7))
  }

  count(): number {
    let n = 0
    for (const byte of this.bytes) {
      let b = byte
      while (b) {
        b &= b - 1
        n++
      }
    }
    return n
  }

  isComplete(): boolean {
    return this.count() === this.length
  }

  indexes(): number[] {
    const out: number[] = []
    for (let i = 0; i < this.length; i++) if (this.get(i)) out.push(i)
    return out
  }

  missing(): number[] {
    const out: number[] = []
    for (let i = 0; i < this.length; i++) if (!this.get(i)) out.push(i)
    return out
  }
}
