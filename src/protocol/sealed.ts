// Private links: the key schedule and the framing of encrypted chunks, with WebCrypto only.
//
// Content follows RFC 8188 (the "aes128gcm" content coding, the one Send uses), one record per
// chunk: the link's 16-byte secret and the manifest's random 16-byte salt give, through
// HKDF-SHA-256, a 128-bit content key and a 96-bit nonce base. Chunk i is AES-128-GCM-encrypted
// under nonce base XOR i (big-endian), its plaintext followed by one delimiter byte, 0x02 for the
// last chunk and 0x01 for every other, so chunks cannot be reordered, moved between files (another
// salt gives other keys) or cut short. The record size is the manifest's chunk size: every chunk
// but the last carries chunkSize - 17 bytes of the file. The metadata (name, type, size, bundle
// paths) is one AES-128-GCM message under keys of its own from the same HKDF.
import { fromBase64Url, toBase64Url, utf8Bytes } from './encoding'

export const SECRET_BYTES = 16
export const SALT_BYTES = 16
/** The delimiter byte and the AES-GCM tag each chunk adds. */
export const RECORD_OVERHEAD = 17
const TAG_BYTES = 16
const LAST = 2
const NOT_LAST = 1
export const SECRET_PATTERN = /^[A-Za-z0-9_-]{22}$/

const CONTENT_KEY_INFO = 'Content-Encoding: aes128gcm\0'
const CONTENT_NONCE_INFO = 'Content-Encoding: nonce\0'
const META_KEY_INFO = 'TabSwarm: metadata key\0'
const META_NONCE_INFO = 'TabSwarm: metadata nonce\0'

/** A chunk or the metadata did not decrypt: another key, or bytes changed. */
export class SealBroken extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SealBroken'
  }
}

/** `count` random bytes in base64url. */
function randomBase64Url(count: number): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(count)))
}

/** A new private link's key. */
export const newSecret = () => randomBase64Url(SECRET_BYTES)

/** A new sealed manifest's salt. */
export const newSalt = () => randomBase64Url(SALT_BYTES)

/** Whether `text` is a link's secret (22 base64url characters, 128 bits). */
export function isSecret(text: string): boolean {
  return SECRET_PATTERN.test(text) && fromBase64Url(text)?.length === SECRET_BYTES
}

async function hkdf(
  secret: Uint8Array<ArrayBuffer>,
  salt: Uint8Array<ArrayBuffer>,
  info: string,
  bytes: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt, info: utf8Bytes(info) as Uint8Array<ArrayBuffer> },
    ikm,
    bytes * 8,
  )
  return new Uint8Array(bits)
}

async function aesKey(raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
}

/** The raw derived values, for test vectors. */
export async function deriveKeys(secret: string, salt: string) {
  const ikm = decode(secret, SECRET_BYTES, 'secret')
  const saltBytes = decode(salt, SALT_BYTES, 'salt')
  return {
    contentKey: await hkdf(ikm, saltBytes, CONTENT_KEY_INFO, 16),
    nonceBase: await hkdf(ikm, saltBytes, CONTENT_NONCE_INFO, 12),
    metaKey: await hkdf(ikm, saltBytes, META_KEY_INFO, 16),
    metaNonce: await hkdf(ikm, saltBytes, META_NONCE_INFO, 12),
  }
}

function decode(text: string, length: number, what: string): Uint8Array<ArrayBuffer> {
  const bytes = fromBase64Url(text)
  if (!bytes || bytes.length !== length) throw new Error(`a ${what} is ${length} bytes in base64url`)
  return bytes
}

/** The keys of one private file: encrypts and decrypts its chunks and its metadata. */
export class Seal {
  private constructor(
    private readonly contentKey: CryptoKey,
    private readonly nonceBase: Uint8Array<ArrayBuffer>,
    private readonly metaKey: CryptoKey,
    private readonly metaNonce: Uint8Array<ArrayBuffer>,
  ) {}

  static async open(secret: string, salt: string): Promise<Seal> {
    const keys = await deriveKeys(secret, salt)
    return new Seal(await aesKey(keys.contentKey), keys.nonceBase, await aesKey(keys.metaKey), keys.metaNonce)
  }

  /** Chunk `index` of the file as it travels and is hashed: the plaintext, its delimiter, the tag. */
  async encryptChunk(index: number, plain: Uint8Array<ArrayBuffer>, last: boolean): Promise<Uint8Array<ArrayBuffer>> {
    const record = new Uint8Array(plain.length + 1)
    record.set(plain)
    record[plain.length] = last ? LAST : NOT_LAST
    const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: this.nonceOf(index) }, this.contentKey, record)
    return new Uint8Array(sealed)
  }

  /** The plaintext of chunk `index`; throws SealBroken when it does not open or is not where it claims. */
  async decryptChunk(index: number, sealed: Uint8Array<ArrayBuffer>, last: boolean): Promise<Uint8Array<ArrayBuffer>> {
    if (sealed.length < RECORD_OVERHEAD) throw new SealBroken('an encrypted chunk is too short')
    let record: Uint8Array<ArrayBuffer>
    try {
      record = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: this.nonceOf(index) }, this.contentKey, sealed))
    } catch {
      throw new SealBroken(`chunk ${index} does not open with this key`)
    }
    if (record[record.length - 1] !== (last ? LAST : NOT_LAST))
      throw new SealBroken(`chunk ${index} is not marked as ${last ? 'the last' : 'inside the file'}`)
    return record.subarray(0, record.length - 1)
  }

  async encryptMeta(json: string): Promise<string> {
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: this.metaNonce },
      this.metaKey,
      utf8Bytes(json) as Uint8Array<ArrayBuffer>,
    )
    return toBase64Url(new Uint8Array(sealed))
  }

  /** The metadata's JSON text; throws SealBroken when this key does not open it. */
  async decryptMeta(sealed: string): Promise<string> {
    const bytes = fromBase64Url(sealed)
    if (!bytes || bytes.length < TAG_BYTES) throw new SealBroken('the metadata is not encrypted data')
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(
        await crypto.subtle.decrypt({ name: 'AES-GCM', iv: this.metaNonce }, this.metaKey, bytes),
      )
    } catch {
      throw new SealBroken('the metadata does not open with this key')
    }
  }

  /** RFC 8188: the nonce base XOR the record's sequence number as a 96-bit big-endian integer. */
  private nonceOf(index: number): Uint8Array<ArrayBuffer> {
    const nonce = new Uint8Array(this.nonceBase)
    const view = new DataView(nonce.buffer)
    view.setUint32(8, view.getUint32(8) ^ (index >>> 0))
    view.setUint32(4, view.getUint32(4) ^ Math.floor(index / 2 ** 32))
    return nonce
  }
}
