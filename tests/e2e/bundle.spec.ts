import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unzipSync } from 'fflate'
import { downloadedBytes, expect, sha256, test, transferOf, SHARE_LINK } from './fixtures'

test('a folder of three files, one in a nested folder, arrives under one link with the right paths and bytes', async ({ peers }) => {
  const root = join(mkdtempSync(join(tmpdir(), 'tabswarm-')), 'field-trip')
  const files = {
    'field-trip/plan.txt': randomBytes(2000),
    'field-trip/photos/lake.jpg': randomBytes(600 * 1024 + 7),
    'field-trip/photos/raw/lake.dng': randomBytes(300 * 1024),
  }
  mkdirSync(join(root, 'photos', 'raw'), { recursive: true })
  for (const [path, bytes] of Object.entries(files)) writeFileSync(join(root, '..', path), bytes)

  const sharer = await peers.open()
  await sharer.getByTestId('folder-input').setInputFiles(root)
  const link = sharer.getByTestId('share-link').first()
  await expect(link).toHaveAttribute('href', SHARE_LINK)
  await expect(transferOf(sharer)).toHaveAttribute('data-state', 'seeding')

  const friend = await peers.open((await link.getAttribute('href'))!)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  const rows = friend.getByTestId('bundle-file')
  await expect(rows).toHaveCount(3)
  expect((await rows.evaluateAll((r) => r.map((row) => row.getAttribute('data-path')))).sort()).toEqual(Object.keys(files).sort())

  for (const [path, bytes] of Object.entries(files)) {
    const [download] = await Promise.all([
      friend.waitForEvent('download'),
      friend.locator(`[data-testid="bundle-file"][data-path="${path}"]`).getByTestId('save-file-button').click(),
    ])
    expect(download.suggestedFilename()).toBe(path.split('/').pop())
    expect(sha256(await downloadedBytes(download))).toBe(sha256(bytes))
  }

  const [zip] = await Promise.all([friend.waitForEvent('download'), friend.getByTestId('save-button').click()])
  expect(zip.suggestedFilename()).toBe('field-trip.zip')
  const unpacked = unzipSync(new Uint8Array(await downloadedBytes(zip)))
  expect(Object.keys(unpacked).sort()).toEqual(Object.keys(files).sort())
  for (const [path, bytes] of Object.entries(files)) expect(sha256(unpacked[path]!)).toBe(sha256(bytes))
})
