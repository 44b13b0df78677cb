// Byte encodings shared by the browser and the server. No DOM or Node APIs.

const HEX = '0123456789abcdef'

export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += HEX[b >> 4]! + HEX[b & 15]!
  return out
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) throw new Error('not lowercase hex')
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_LOOKUP = new Map([...B64].map((c, i) => [c, i]))

export function toBase64(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0)
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '='
    out += i + 2 < bytes.length ? B64[n & 63]! : '='
  }
  return out
}

export const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export function fromBase64(text: string): Uint8Array {
  if (!BASE64_PATTERN.test(text)) throw new Error('not base64')
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0
  const out = new Uint8Array((text.length / 4) * 3 - padding)
  let o = 0
  for (let i = 0; i < text.length; i += 4) {
    const n =
      (B64_LOOKUP.get(text[i]!)! << 18) |
      (B64_LOOKUP.get(text[i + 1]!)! << 12) |
      ((B64_LOOKUP.get(text[i + 2]!) ?? 0) << 6) |
      (B64_LOOKUP.get(text[i + 3]!) ?? 0)
    if (o < out.length) out[o++] = (n >> 16) & 255
    if (o < out.length) out[o++] = (n >> 8) & 255
    if (o < out.length) out[o++] = n & 255
  }
  return out
}

/** Base64 with the URL alphabet and no padding (RFC 4648 §5), as links carry it. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
}

/** The bytes of unpadded base64url text; undefined when it is not that (or not its canonical spelling). */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4)
  const bytes = fromBase64(padded) as Uint8Array<ArrayBuffer>
  // Unused low bits must be zero, so that each byte string has one spelling (one key, one link).
  return toBase64Url(bytes) === text ? bytes : undefined
}

const utf8 = new TextEncoder()

export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text)
}

/**
 * Whether `text` takes more than `limit` bytes as UTF-8. A UTF-16 unit is one to three bytes, so
 * the length alone settles it unless it falls between limit/3 and limit; only then are bytes counted.
 */
export function utf8Exceeds(text: string, limit: number): boolean {
  if (text.length > limit) return true
  if (text.length * 3 <= limit) return false
  return utf8Length(text) > limit
}

/** Bytes `text` takes as UTF-8, without encoding it (frame caps count bytes, not UTF-16 units). */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

/** SHA-256 through WebCrypto, which browsers and Node (globalThis.crypto) both provide. */
export async function sha256(bytes: Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  const input = bytes instanceof Uint8Array ? (bytes as Uint8Array<ArrayBuffer>) : bytes
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', input))
}

export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  return toHex(await sha256(bytes))
}
