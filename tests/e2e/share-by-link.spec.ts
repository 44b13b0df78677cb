import { randomBytes } from 'node:crypto'
import { downloadedBytes, expect, fileIdOfLink, save, sha256, shareFile, test } from './fixtures'

const KiB = 1024
/** Each encrypted chunk of a private link carries its delimiter byte and tag, 17 bytes, in 256 KiB. */
const PRIVATE_CHUNK = 256 * KiB - 17
const cases = [
  { name: 'empty.bin', size: 0, listed: false },
  { name: 'one.bin', size: 1, listed: false },
  { name: 'odd-size.bin', size: 600 * KiB + 123, listed: false },
  { name: 'Résumé — café, «v2» (final) 日本語 & co!.txt', size: 5000, listed: false },
  { name: 'several-chunks.dat', size: 3 * 1024 * KiB + 7, listed: false },
  { name: 'listed.dat', size: 600 * KiB + 123, listed: true },
  { name: 'listed-empty.bin', size: 0, listed: true },
]

// One sharer shares every kind; one friend opens the links one after another in the same tab.
test('a friend downloads an empty, a one-byte, an odd-sized, a Unicode-named, a several-MiB and listed files from the sharer and saves identical copies', async ({
  peers,
}) => {
  const sharer = await peers.open()
  const shared = []
  for (const { name, size, listed } of cases) {
    const buffer = randomBytes(size)
    const link = await shareFile(sharer, { name, mimeType: 'application/octet-stream', buffer }, { listed })
    await expect(sharer.getByTestId('share-privacy').first()).toHaveAttribute('data-private', String(!listed))
    shared.push({ name, size, listed, buffer, link })
  }

  const friend = await peers.open(shared[0]!.link)
  for (const { name, size, listed, buffer, link } of shared) {
    await test.step(name, async () => {
      if (friend.url() !== link) await friend.goto(link)
      const transfer = friend.getByTestId('transfer')
      await expect(transfer).toHaveAttribute('data-file-id', fileIdOfLink(link))
      await expect(transfer).toHaveAttribute('data-state', 'complete')
      const total = Number(await transfer.getAttribute('data-total'))
      // A private file always has a chunk (the last one's flag and tag), even when empty.
      expect(total).toBe(listed ? Math.ceil(size / (256 * KiB)) : Math.max(1, Math.ceil(size / PRIVATE_CHUNK)))
      await expect(transfer).toHaveAttribute('data-have', String(total))

      const download = await save(friend)
      expect(download.suggestedFilename()).toBe(name)
      const bytes = await downloadedBytes(download)
      expect(bytes.length).toBe(size)
      expect(sha256(bytes)).toBe(sha256(buffer))
    })
  }
})

test('the chunks arrive over WebRTC from the sharer, and the sharer sees who fetched them', async ({ peers }) => {
  const buffer = randomBytes(1024 * KiB)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'counted.bin', mimeType: 'application/octet-stream', buffer })
  const friend = await peers.open(link)
  await expect(friend.getByTestId('transfer')).toHaveAttribute('data-state', 'complete')

  const fromSharer = friend.getByTestId('peer')
  await expect(fromSharer).toHaveCount(1)
  // What moved is the encrypted file: each chunk 17 bytes longer than its part of the file.
  const onTheWire = buffer.length + 17 * Math.ceil(buffer.length / PRIVATE_CHUNK)
  expect(Number(await fromSharer.getAttribute('data-bytes-down'))).toBe(onTheWire)
  // Measured (a number, not the empty string of a row whose round trip is unknown).
  await expect(fromSharer).toHaveAttribute('data-rtt-ms', /^\d+$/)
  const toFriend = sharer.getByTestId('peer')
  await expect(toFriend).toHaveAttribute('data-bytes-up', String(onTheWire))
})

test('sharing the same file twice gives the same link, listed or private; another file of the same name and size gets its own', async ({
  peers,
}) => {
  const buffer = randomBytes(300 * KiB)
  const sharer = await peers.open()
  const first = await shareFile(sharer, { name: 'twice.bin', mimeType: 'application/octet-stream', buffer }, { listed: true })
  await sharer.getByTestId('file-input').setInputFiles({ name: 'twice.bin', mimeType: 'application/octet-stream', buffer })
  await expect(sharer.getByTestId('share-link')).toHaveCount(2)
  const links = await sharer.getByTestId('share-link').evaluateAll((anchors) => anchors.map((a) => (a as HTMLAnchorElement).href))
  expect(links).toEqual([first, first])

  // Private: the same file keeps its link (its key too), and the share card says so.
  const privately = await peers.open()
  const one = await shareFile(privately, { name: 'twice.bin', mimeType: 'application/octet-stream', buffer })
  await privately.getByTestId('file-input').setInputFiles({ name: 'twice.bin', mimeType: 'application/octet-stream', buffer })
  await expect(privately.getByTestId('share-link')).toHaveCount(2)
  await expect(privately.getByTestId('share-link').first()).toHaveAttribute('href', one)
  await expect(privately.getByTestId('share-reused')).toHaveCount(1)
  // A changed file under the same name and size is another file: a new link with a new key.
  const changed = Buffer.from(buffer)
  changed[0] = changed[0]! ^ 0xff
  await privately.getByTestId('file-input').setInputFiles({ name: 'twice.bin', mimeType: 'application/octet-stream', buffer: changed })
  await expect(privately.getByTestId('share-link')).toHaveCount(3)
  const three = await privately.getByTestId('share-link').first().getAttribute('href')
  expect(fileIdOfLink(three!)).not.toBe(fileIdOfLink(one))
  expect(three!.split('/').at(-1)).not.toBe(one.split('/').at(-1))
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

test('a private link opens only whole: without its key it says it is incomplete, with another key that it does not open; the tracker lists nothing', async ({
  peers,
}) => {
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'payslip-march.pdf', mimeType: 'application/pdf', buffer: randomBytes(400 * KiB) })
  const fileId = fileIdOfLink(link)
  const origin = new URL(link).origin

  const cut = await peers.open(`${origin}/#/f/${fileId}`)
  await expect(cut.getByTestId('transfer')).toHaveAttribute('data-notice', 'incomplete-link')
  await expect(cut.getByTestId('transfer-message')).toContainText('This link is incomplete')
  await expect(cut.getByTestId('save-button')).toHaveCount(0)

  const otherKey = link.slice(0, -22) + (link.endsWith('AAAAAAAAAAAAAAAAAAAAAA') ? 'AQAAAAAAAAAAAAAAAAAAAA' : 'AAAAAAAAAAAAAAAAAAAAAA')
  const wrong = await peers.open(otherKey)
  await expect(wrong.getByTestId('transfer')).toHaveAttribute('data-notice', 'wrong-key')
  await expect(wrong.getByTestId('transfer-message')).toContainText('does not open this file')

  // The same tab, given the whole link, gets the file; nobody else sees its name on the tracker.
  await cut.goto(link)
  await expect(cut.getByTestId('transfer')).toHaveAttribute('data-state', 'complete')
  await expect(cut.getByTestId('transfer')).toContainText('payslip-march.pdf')
  await cut.goto(`${origin}/#/`)
  await expect(cut.getByTestId('tracker-files-empty')).toBeVisible()
})
