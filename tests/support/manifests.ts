import { createHash } from 'node:crypto'
import type { PublicManifest } from '../../src/protocol/manifest'

/** The chunk size of the manifests made here. */
export const TEST_CHUNK = 256 * 1024

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** The manifest of `bytes` (a bundle when `files` is given), chunked at TEST_CHUNK. */
export function manifestOf(name: string, bytes: Buffer, files?: { path: string; size: number }[]): PublicManifest {
  const hashes: string[] = []
  for (let offset = 0; offset < bytes.length; offset += TEST_CHUNK) hashes.push(sha256(bytes.subarray(offset, offset + TEST_CHUNK)))
  return { v: 1, name, size: bytes.length, type: '', chunkSize: TEST_CHUNK, hashes, ...(files ? { files } : {}) }
}

/** A manifest of three made-up chunk hashes: enough for the tracker, which never sees the bytes. */
export function placeholderManifest(name: string): PublicManifest {
  return { v: 1, name, size: 600_000, type: '', chunkSize: TEST_CHUNK, hashes: ['0a', '0b', '0c'].map((h) => h.repeat(32)) }
}
