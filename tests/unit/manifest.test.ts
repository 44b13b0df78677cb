import { createHash } from 'node:crypto'
import { parseLibraryEntry } from '../../src/store/library-entry'
import { describe, expect, it } from 'vitest'
import {
  bundleOffsets,
  canonicalManifestJson,
  chooseChunkSize,
  chunkCount,
  chunkLength,
  fileIdOf,
  MAX_CHUNK_SIZE,
  MIN_CHUNK_SIZE,
  parseManifest,
  TARGET_MAX_CHUNKS,
  type Manifest,
} from '../../src/protocol/manifest'

const hash = (n: number) => n.toString(16).padStart(2, '0').repeat(32)
const manifest: Manifest = {
  v: 1,
  name: 'report.pdf',
  size: 600_000,
  type: 'application/pdf',
  chunkSize: 262144,
  hashes: [hash(1), hash(2), hash(3)],
}

describe('manifest', () => {
  it('has one canonical encoding whatever the key order', async () => {
    const shuffled = {
      hashes: manifest.hashes,
      chunkSize: 262144,
      type: 'application/pdf',
      size: 600_000,
      name: 'report.pdf',
      v: 1,
    } as Manifest
    expect(canonicalManifestJson(shuffled)).toBe(canonicalManifestJson(manifest))
    expect(await fileIdOf(shuffled)).toBe(await fileIdOf(manifest))
  })

  it('derives the file id as SHA-256 of the canonical JSON', async () => {
    const expected = createHash('sha256')
      .update(
        `{"v":1,"name":"report.pdf","size":600000,"type":"application/pdf","chunkSize":262144,"hashes":["${hash(1)}","${hash(2)}","${hash(3)}"]}`,
      )
      .digest('hex')
    expect(await fileIdOf(manifest)).toBe(expected)
  })

  it('gives a different id when anything changes', async () => {
    const id = await fileIdOf(manifest)
    expect(await fileIdOf({ ...manifest, name: 'report2.pdf' })).not.toBe(id)
    expect(await fileIdOf({ ...manifest, hashes: [hash(1), hash(2), hash(4)] })).not.toBe(id)
  })

  it('grows the chunk size with the file so chunk counts stay bounded', () => {
    expect(chooseChunkSize(0)).toBe(MIN_CHUNK_SIZE)
    expect(chooseChunkSize(MIN_CHUNK_SIZE * TARGET_MAX_CHUNKS)).toBe(MIN_CHUNK_SIZE)
    expect(chooseChunkSize(MIN_CHUNK_SIZE * TARGET_MAX_CHUNKS + 1)).toBe(MIN_CHUNK_SIZE * 2)
    for (const size of [1, 10 ** 6, 10 ** 9, 5 * 2 ** 30, 100 * 2 ** 30]) {
      const chunkSize = chooseChunkSize(size)
      expect(chunkCount(size, chunkSize)).toBeLessThanOrEqual(TARGET_MAX_CHUNKS)
      expect(chunkSize).toBeLessThanOrEqual(MAX_CHUNK_SIZE)
    }
  })

  it('knows the length of every chunk, including a short last one', () => {
    expect([0, 1, 2].map((i) => chunkLength(manifest, i))).toEqual([262144, 262144, 600_000 - 2 * 262144])
    expect(chunkLength(manifest, 3)).toBe(0)
  })

  it('accepts a valid manifest, including an empty file', () => {
    expect(parseManifest(manifest).ok).toBe(true)
    expect(parseManifest({ ...manifest, size: 0, hashes: [] }).ok).toBe(true)
  })

  it.each([
    ['a hash count that does not match the size', { ...manifest, hashes: [hash(1)] }],
    ['a chunk size that is not a power of two', { ...manifest, chunkSize: 300_000, hashes: [hash(1), hash(2)] }],
    ['a chunk size below the minimum', { ...manifest, chunkSize: 1024 }],
    ['a control character in the name', { ...manifest, name: 'evil\u0000.exe' }],
    ['an empty name', { ...manifest, name: '' }],
    ['an extra field', { ...manifest, extra: 1 }],
    ['a negative size', { ...manifest, size: -1 }],
    ['an upper-case hash', { ...manifest, hashes: [hash(0xab).toUpperCase(), hash(2), hash(3)] }],
    ['an absurd size', { ...manifest, size: 2 ** 52 }],
    ['another version', { ...manifest, v: 2 }],
  ])('rejects %s', (_title, candidate) => {
    const result = parseManifest(candidate)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.message).toMatch(/^invalid manifest: /)
  })
})

describe('bundles', () => {
  const bundle: Manifest = {
    ...manifest,
    files: [
      { path: 'trip/a.txt', size: 100_000 },
      { path: 'trip/photos/b.jpg', size: 500_000 },
    ],
  }

  it('accepts a bundle whose file sizes add up, and knows where each file starts', () => {
    expect(parseManifest(bundle).ok).toBe(true)
    expect(bundleOffsets(bundle.files!)).toEqual([
      { path: 'trip/a.txt', size: 100_000, offset: 0 },
      { path: 'trip/photos/b.jpg', size: 500_000, offset: 100_000 },
    ])
  })

  it('includes the files in the canonical encoding, so the id pins them; a single file keeps its id', async () => {
    expect(canonicalManifestJson(bundle)).toContain('"files":[{"path":"trip/a.txt","size":100000}')
    expect(await fileIdOf(bundle)).not.toBe(await fileIdOf(manifest))
    expect(canonicalManifestJson(manifest)).not.toContain('files')
  })

  it.each([
    ['a path that climbs out', '../etc/passwd'],
    ['an absolute path', '/etc/passwd'],
    ['a backslash', 'a\\b.txt'],
    ['an empty part', 'a//b.txt'],
    ['a "." part', './a.txt'],
    ['a control character', 'a\u0000.txt'],
  ])('rejects %s', (_title, path) => {
    expect(parseManifest({ ...bundle, files: [{ path, size: 100_000 }, bundle.files![1]!] }).ok).toBe(false)
  })

  it('rejects sizes that do not add up and duplicate paths', () => {
    expect(parseManifest({ ...bundle, files: [{ path: 'a', size: 1 }] }).ok).toBe(false)
    expect(
      parseManifest({
        ...bundle,
        files: [
          { path: 'a', size: 300_000 },
          { path: 'a', size: 300_000 },
        ],
      }).ok,
    ).toBe(false)
  })
})

describe('library entries read back from storage', () => {
  const entry = { fileId: 'a'.repeat(64), name: 'n.bin', size: 10, role: 'shared', addedAt: 1, updatedAt: 2 }

  it('pass when well formed, with paused kept and unknown fields dropped', () => {
    expect(parseLibraryEntry(entry)).toEqual({ ok: true, entry })
    expect(parseLibraryEntry({ ...entry, paused: true, extra: 1 })).toEqual({ ok: true, entry: { ...entry, paused: true } })
  })

  it.each([
    ['a bad file id', { ...entry, fileId: 'xyz' }, 'fileId'],
    ['an unknown role', { ...entry, role: 'stolen' }, 'role'],
    ['a negative size', { ...entry, size: -1 }, 'size'],
    ['a missing time', { ...entry, addedAt: undefined }, 'addedAt'],
    ['not an object', 'entry', 'entry'],
  ])('are refused with %s', (_what, record, where) => {
    const parsed = parseLibraryEntry(record)
    expect(parsed.ok).toBe(false)
    if (!parsed.ok) expect(parsed.message.startsWith(where)).toBe(true)
  })
})
