import { randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import { downloadedBytes, expect, save, sha256, shareFile, test } from './fixtures'

const MiB = 1024 * 1024

async function peerRows(page: Page) {
  return page.getByTestId('peer').evaluateAll((rows) =>
    rows.map((row) => ({
      id: row.getAttribute('data-peer-id')!,
      down: Number(row.getAttribute('data-bytes-down')),
      up: Number(row.getAttribute('data-bytes-up')),
    })),
  )
}

test('three downloaders opening the link at once all get the file, from each other as well as the sharer', async ({ peers }) => {
  const buffer = randomBytes(6 * MiB)
  const sharer = await peers.open('/?up=1.5MB')
  await expect(sharer.getByTestId('limits')).toContainText('up 1.5 MB/s')
  const link = await shareFile(sharer, { name: 'lecture.mp4', mimeType: 'video/mp4', buffer })

  const downloaders = await Promise.all([peers.open(link), peers.open(link), peers.open(link)])
  let uploadedByDownloaders = 0
  const rowsOf: Awaited<ReturnType<typeof peerRows>>[] = []
  for (const page of downloaders) {
    await expect(page.getByTestId('transfer')).toHaveAttribute('data-state', 'complete', { timeout: 60_000 })
    const rows = await peerRows(page)
    rowsOf.push(rows)
    uploadedByDownloaders += rows.reduce((sum, row) => sum + row.up, 0)
    const bytes = await downloadedBytes(await save(page))
    expect(sha256(bytes)).toBe(sha256(buffer))
  }
  // Every tab but the first to connect (which on a loaded machine may finish from the sharer before
  // the others have anything) fetched from more than one peer.
  const fromSeveral = rowsOf.filter((rows) => rows.filter((row) => row.down > 0).length >= 2)
  expect(fromSeveral.length, JSON.stringify(rowsOf)).toBeGreaterThanOrEqual(2)
  // The sharer sent at most its cap allows; the downloaders carried a real share between them.
  expect(uploadedByDownloaders).toBeGreaterThan(buffer.length / 2)
})

test('a tab that joins after the sharer closed downloads the whole file from the others', async ({ peers }) => {
  const buffer = randomBytes(2 * MiB + 12345)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'handout.pdf', mimeType: 'application/pdf', buffer })
  const first = await peers.open(link)
  await expect(first.getByTestId('transfer')).toHaveAttribute('data-state', 'complete')
  await sharer.context().close()

  const late = await peers.open(link)
  await expect(late.getByTestId('transfer')).toHaveAttribute('data-state', 'complete')
  const rows = await peerRows(late)
  // The encrypted file moved: each chunk of a private link carries 17 bytes more than its part of the file.
  const onTheWire = buffer.length + 17 * Math.ceil(buffer.length / (256 * 1024 - 17))
  expect(rows).toEqual([{ id: expect.any(String), down: onTheWire, up: 0 }])
  const bytes = await downloadedBytes(await save(late))
  expect(sha256(bytes)).toBe(sha256(buffer))
})
