import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { manifestOf, TEST_CHUNK } from '../support/manifests'
import { DownloadStore, SeedStore } from '../../src/cli/disk-store'
import { bundleOffsets, fileIdOf } from '../../src/protocol/manifest'
import { StoreError } from '../../src/core/ports'
import { main } from '../../src/cli/main'

const CHUNK = TEST_CHUNK

const bytesOf = async (bytes: Uint8Array | undefined) => Buffer.from(bytes!)

describe('seed store', () => {
  it('reads chunks across the files of a bundle with positioned reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seed-'))
    const a = randomBytes(CHUNK + 1000)
    const b = randomBytes(CHUNK)
    await writeFile(join(dir, 'a.bin'), a)
    await writeFile(join(dir, 'b.bin'), b)
    const all = Buffer.concat([a, b])
    const manifest = manifestOf('pair', all, [
      { path: 'a.bin', size: a.length },
      { path: 'b.bin', size: b.length },
    ])
    const parts = bundleOffsets(manifest.files!).map((file, i) => ({ ...file, path: join(dir, i === 0 ? 'a.bin' : 'b.bin') }))
    const store = new SeedStore()
    const fileId = await fileIdOf(manifest)
    const stamps = await Promise.all(
      parts.map(async (part) => {
        const { size, mtimeMs } = await stat(part.path)
        return { size, mtimeMs }
      }),
    )
    store.add(fileId, manifest, parts, stamps)
    expect(await store.storedChunks(fileId)).toEqual([0, 1, 2])
    expect(await bytesOf(await store.readChunk(fileId, 1))).toEqual(all.subarray(CHUNK, 2 * CHUNK))
    expect(await bytesOf(await store.readChunk(fileId, 2))).toEqual(all.subarray(2 * CHUNK))
    expect(await store.changedFile(fileId)).toBeUndefined()
  })

  it('notices a file that changed on disk and refuses to serve stale chunks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seed-'))
    const path = join(dir, 'f.bin')
    const bytes = randomBytes(2 * CHUNK)
    await writeFile(path, bytes)
    const manifest = manifestOf('f.bin', bytes)
    const fileId = await fileIdOf(manifest)
    const store = new SeedStore(0)
    const info = await stat(path)
    store.add(fileId, manifest, [{ path, offset: 0, size: bytes.length }], [{ size: info.size, mtimeMs: info.mtimeMs }])
    await writeFile(path, randomBytes(2 * CHUNK))
    await utimes(path, new Date(), new Date(Date.now() + 5000))
    expect(await store.changedFile(fileId)).toBe(path)
    await expect(store.readChunk(fileId, 0)).rejects.toThrow(StoreError)
    await expect(store.readChunk(fileId, 0)).rejects.toThrow(/changed on disk since it was shared/)
  })
})

describe('download store', () => {
  it(
    'writes chunks in any order into part files, resumes from verified ones, then moves them into place',
    { timeout: 20_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'get-'))
      const a = randomBytes(CHUNK / 2)
      const b = randomBytes(2 * CHUNK)
      const all = Buffer.concat([a, b])
      const manifest = manifestOf('album', all, [
        { path: 'one/a.bin', size: a.length },
        { path: 'b.bin', size: b.length },
        { path: 'empty.txt', size: 0 },
      ])
      const fileId = await fileIdOf(manifest)
      const store = new DownloadStore(dir)
      await store.saveManifest(fileId, manifest)
      const chunk = (i: number) => new Uint8Array(all.subarray(i * CHUNK, (i + 1) * CHUNK))
      await store.putChunk(fileId, 2, chunk(2))
      await store.putChunk(fileId, 0, chunk(0))

      // A new run (a new store on the same folder) finds the manifest and the two verified chunks.
      const again = new DownloadStore(dir)
      expect(await again.loadManifest(fileId)).toEqual(manifest)
      expect((await again.storedChunks(fileId)).sort()).toEqual([0, 2])
      expect(await bytesOf(await again.readChunk(fileId, 2))).toEqual(all.subarray(2 * CHUNK))
      expect(await again.readChunk(fileId, 1)).toBeUndefined()
      await again.putChunk(fileId, 1, chunk(1))
      const written = await again.finish(fileId)
      expect(written).toEqual([join(dir, 'album', 'one', 'a.bin'), join(dir, 'album', 'b.bin'), join(dir, 'album', 'empty.txt')])
      expect(await readFile(written[0]!)).toEqual(a)
      expect(await readFile(written[1]!)).toEqual(b)
      expect((await readFile(written[2]!)).length).toBe(0)
      expect((await readdir(dir)).sort()).toEqual(['album'])
    },
  )

  it('refuses a manifest file that does not match its file id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'get-'))
    const store = new DownloadStore(dir)
    const manifest = manifestOf('x', randomBytes(10))
    const fileId = await fileIdOf(manifest)
    await store.saveManifest(fileId, { ...manifest, name: 'y' })
    await expect(store.loadManifest(fileId)).rejects.toThrow(/is damaged; delete it/)
  })
})

describe('command line', () => {
  it('explains bad input instead of failing obscurely', async () => {
    const errors: string[] = []
    const original = console.error
    console.error = (text: string) => errors.push(text)
    try {
      expect(await main(['get', 'not a link'])).toBe(2)
      expect(await main(['get', 'http://localhost:8080/#/f/1234'])).toBe(2)
      expect(await main(['seed', '/nonexistent/file.bin'])).toBe(2)
      expect(await main(['seed', 'a', '--tracker', 'http://x'])).toBe(2)
      expect(await main(['fetch', 'x'])).toBe(2)
      expect(await main(['keep', '--space', 'lots'])).toBe(2)
      expect(await main(['keep', 'http://localhost:8080/#/f/' + 'a'.repeat(64), '--space', '1GB'])).toBe(2)
      expect(await main(['seed', 'a', '--public', '--keepers'])).toBe(2)
      expect(await main(['get', 'http://localhost:8080/#/f/' + 'a'.repeat(64), '--timeout', 'soon'])).toBe(2)
      expect(await main(['seed', 'a', '--timeout', '5m'])).toBe(2)
    } finally {
      console.error = original
    }
    expect(errors.map((e) => e.split('\n')[0])).toEqual([
      'not a link is not a link. A TabSwarm link looks like http://host:8080/#/f/<64 hex characters>.',
      'That link does not end in a file id (#/f/<64 hex characters>). Copy the whole link again.',
      '/nonexistent/file.bin does not exist.',
      '--tracker must be a ws:// or wss:// address, e.g. ws://localhost:8080/ws',
      'Unknown command “fetch”.',
      '--space takes a size, e.g. --space 20GB (not “lots”).',
      '`tabswarm keep --space` takes no link: the tracker says what to keep.',
      '--keepers is for private files; a --public one is open to keepers already.',
      '--timeout takes a duration, e.g. --timeout 90s or --timeout 5m (not “soon”).',
      '--timeout is for `tabswarm get`.',
    ])
  })
})
