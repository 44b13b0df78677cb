import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { manifestOf, TEST_CHUNK } from '../support/manifests'
import { DownloadStore } from '../../src/cli/disk-store'
import { fileIdOf, type Manifest } from '../../src/protocol/manifest'
import { bundlePathHazard, safeFileName, visibleName } from '../../src/core/file-name'

const CHUNK = TEST_CHUNK

/** Downloads `bytes` under `manifest` into `dir` with the store, chunk by chunk, and finishes. */
async function download(dir: string, manifest: Manifest, bytes: Buffer): Promise<string[]> {
  const store = new DownloadStore(dir)
  const fileId = await fileIdOf(manifest)
  await store.saveManifest(fileId, manifest)
  for (let i = 0; i < manifest.hashes.length; i++)
    await store.putChunk(fileId, i, new Uint8Array(bytes.subarray(i * CHUNK, (i + 1) * CHUNK)))
  return store.finish(fileId)
}

describe('tabswarm get never destroys a file', () => {
  it('saves beside an existing file of the same name, as name (1).ext, and leaves it alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'get-safe-'))
    await writeFile(join(dir, 'report.pdf'), 'mine')
    await writeFile(join(dir, 'report (1).pdf'), 'mine too')
    const bytes = randomBytes(CHUNK + 10)
    const written = await download(dir, manifestOf('report.pdf', bytes), bytes)
    expect(written).toEqual([join(dir, 'report (2).pdf')])
    expect(await readFile(join(dir, 'report.pdf'), 'utf8')).toBe('mine')
    expect(await readFile(join(dir, 'report (1).pdf'), 'utf8')).toBe('mine too')
    expect(await readFile(written[0]!)).toEqual(bytes)
  })

  it('puts a bundle named like an existing folder beside it, not into it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'get-safe-'))
    await mkdir(join(dir, 'project'))
    await writeFile(join(dir, 'project', 'Makefile'), 'all: mine')
    const bytes = randomBytes(100)
    const manifest = manifestOf('project', bytes, [{ path: 'Makefile', size: 100 }])
    expect(await download(dir, manifest, bytes)).toEqual([join(dir, 'project (1)', 'Makefile')])
    expect(await readFile(join(dir, 'project', 'Makefile'), 'utf8')).toBe('all: mine')
    expect(await readFile(join(dir, 'project (1)', 'Makefile'))).toEqual(bytes)
  })

  it('refuses to write through a link planted at the part file, the part folder or the manifest folder', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'outside-'))
    await writeFile(join(outside, 'victim'), 'untouched')
    const bytes = randomBytes(100)
    for (const planted of ['notes.txt.part', 'album.part', '.tabswarm']) {
      const dir = await mkdtemp(join(tmpdir(), 'get-safe-'))
      await symlink(planted === 'notes.txt.part' ? join(outside, 'victim') : outside, join(dir, planted))
      const manifest =
        planted === 'album.part' ? manifestOf('album', bytes, [{ path: 'victim', size: 100 }]) : manifestOf('notes.txt', bytes)
      await expect(download(dir, manifest, bytes)).rejects.toThrow(/is a link; move it away/)
      expect(await readFile(join(outside, 'victim'), 'utf8')).toBe('untouched')
      expect((await readdir(outside)).sort()).toEqual(['victim'])
    }
  })

  it.each([
    [['C:/boot.ini'], /names a drive/],
    [['docs/CON.txt'], /reserved name “CON.txt”/],
    [['lpt1'], /reserved name/],
    [['notes. '], /ending in a dot or space/],
    [['a/b./c'], /ending in a dot or space/],
    [['what?.txt'], /character that Windows refuses/],
    [['README.md', 'readme.md'], /differ only in case/],
    [['photo\u202egpj.exe'], /invisible or direction-changing/],
  ])('refuses a bundle with %j', async (paths, reason) => {
    expect(bundlePathHazard(paths)).toMatch(reason)
    const dir = await mkdtemp(join(tmpdir(), 'get-safe-'))
    const bytes = randomBytes(paths.length)
    const manifest = manifestOf(
      'b',
      bytes,
      paths.map((path) => ({ path, size: 1 })),
    )
    await expect(download(dir, manifest, bytes)).rejects.toThrow(/cannot be saved safely/)
    expect(await readdir(dir)).toEqual([])
  })

  it('lets ordinary bundle paths through', () => {
    expect(bundlePathHazard(['src/main.ts', 'src/Main.test.ts', 'docs/a b/ü.md', 'console.log.txt'])).toBeUndefined()
  })
})

describe('names that hide what they are', () => {
  it('are shown with their invisible characters spelt out', () => {
    expect(visibleName('invoice\u202efdp.exe')).toBe('invoice⟨U+202E⟩fdp.exe')
    expect(visibleName('a\u200bb\ufeff')).toBe('a⟨U+200B⟩b⟨U+FEFF⟩')
    expect(visibleName('plain.txt')).toBe('plain.txt')
  })

  it('are saved without them', async () => {
    expect(safeFileName('invoice\u202efdp.exe')).toBe('invoicefdp.exe')
    const dir = await mkdtemp(join(tmpdir(), 'get-safe-'))
    const bytes = randomBytes(10)
    expect(await download(dir, manifestOf('song\u2066\u200d.mp3', bytes), bytes)).toEqual([join(dir, 'song.mp3')])
  })
})
