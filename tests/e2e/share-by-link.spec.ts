import { randomBytes } from 'node:crypto'
import { downloadedBytes, expect, save, sha256, shareFile, test } from './fixtures'

const KiB = 1024
const cases = [
  { title: 'an empty file', name: 'empty.bin', size: 0 },
  { title: 'a one-byte file', name: 'one.bin', size: 1 },
  { title: 'a size that is not a multiple of the chunk size', name: 'odd-size.bin', size: 600 * KiB + 123 },
  { title: 'a Unicode name with spaces and punctuation', name: 'Résumé — café, «v2» (final) 日本語 & co!.txt', size: 5000 },
  { title: 'a multi-chunk file of several MiB', name: 'several-chunks.dat', size: 3 * 1024 * KiB + 7 },
]

for (const { title, name, size } of cases) {
  test(`a friend downloads ${title} from the sharer's tab and saves an identical copy`, async ({ peers }) => {
    const buffer = randomBytes(size)
    const sharer = await peers.open()
    const link = await shareFile(sharer, { name, mimeType: 'application/octet-stream', buffer })

    const friend = await peers.open(link)
    const transfer = friend.getByTestId('transfer')
    await expect(transfer).toHaveAttribute('data-state', 'complete')
    const total = Number(await transfer.getAttribute('data-total'))
    expect(total).toBe(Math.ceil(size / (256 * KiB)))
    await expect(transfer).toHaveAttribute('data-have', String(total))
    await expect(transfer).toHaveAttribute('data-file-id', link.split('/').pop()!)

    const download = await save(friend)
    expect(download.suggestedFilename()).toBe(name)
    const bytes = await downloadedBytes(download)
    expect(bytes.length).toBe(size)
    expect(sha256(bytes)).toBe(sha256(buffer))
  })
}

test('the chunks arrive over WebRTC from the sharer, and the sharer sees who fetched them', async ({ peers }) => {
  const buffer = randomBytes(1024 * KiB)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'counted.bin', mimeType: 'application/octet-stream', buffer })
  const friend = await peers.open(link)
  await expect(friend.getByTestId('transfer')).toHaveAttribute('data-state', 'complete')

  const fromSharer = friend.getByTestId('peer')
  await expect(fromSharer).toHaveCount(1)
  expect(Number(await fromSharer.getAttribute('data-bytes-down'))).toBe(buffer.length)
  expect(Number(await fromSharer.getAttribute('data-rtt-ms'))).toBeGreaterThanOrEqual(0)
  const toFriend = sharer.getByTestId('peer')
  await expect(toFriend).toHaveAttribute('data-bytes-up', String(buffer.length))
})

test('sharing the same file twice gives the same link', async ({ peers }) => {
  const buffer = randomBytes(300 * KiB)
  const sharer = await peers.open()
  const first = await shareFile(sharer, { name: 'twice.bin', mimeType: 'application/octet-stream', buffer })
  await sharer.getByTestId('file-input').setInputFiles({ name: 'twice.bin', mimeType: 'application/octet-stream', buffer })
  await expect(sharer.getByTestId('share-link')).toHaveCount(2)
  const links = await sharer.getByTestId('share-link').evaluateAll((anchors) => anchors.map((a) => (a as HTMLAnchorElement).href))
  expect(links).toEqual([first, first])
})

test('a link to a file no one shares says so instead of spinning', async ({ peers }) => {
  const page = await peers.open(`/#/f/${'ab'.repeat(32)}`)
  const transfer = page.getByTestId('transfer')
  await expect(transfer).toHaveAttribute('data-state', 'error')
  await expect(page.getByTestId('transfer-message')).toContainText('No one is sharing this file')
  await expect(page.getByRole('button', { name: 'Try again' })).toBeVisible()
  await expect(page.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '0')
  await expect(page.getByRole('heading', { name: 'File not available' })).toBeVisible()
})

test('a malformed link says the link is not valid', async ({ peers }) => {
  const page = await peers.open('/#/f/not-a-file-id')
  await expect(page.getByTestId('transfer')).toHaveAttribute('data-state', 'error')
  await expect(page.getByRole('alert')).toContainText('64-character file id')
})
