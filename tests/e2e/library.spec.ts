import { randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import { downloadedBytes, expect, save, sha256, shareFile, test, transferOf, untilStored, withQuery, fileIdOfLink } from './fixtures'

const CHUNK = 256 * 1024
const file = (name: string, chunks: number) => ({ name, mimeType: 'application/octet-stream', buffer: randomBytes(chunks * CHUNK) })
const libraryItem = (page: Page, fileId: string) => page.locator(`[data-testid="library-item"][data-file-id="${fileId}"]`)

test('a shared file is seeded again after the sharer reloads, and a new tab downloads it with no action from the sharer', async ({
  peers,
}) => {
  const shared = file('poster.png', 6)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared)
  const fileId = fileIdOfLink(link)
  await sharer.reload()
  await expect(libraryItem(sharer, fileId)).toHaveAttribute('data-state', 'seeding')
  await expect(libraryItem(sharer, fileId)).toContainText('poster.png')

  const friend = await peers.open(link)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(shared.buffer))
})

test('a download stopped halfway resumes when the app is opened again, fetching only the missing chunks', async ({ peers }) => {
  const shared = file('lecture-2.mp4', 16)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared, { listed: true }) // whole chunks: 16 of them
  const fileId = fileIdOfLink(link)
  const first = await peers.open(withQuery(link, 'down=1MB'))
  // The list of stored chunks trails the bytes by a moment, so a chunk or two stored just before the
  // tab went away may be fetched again.
  await expect.poll(async () => Number(await transferOf(first).getAttribute('data-have'))).toBeGreaterThanOrEqual(7)
  const context = first.context()
  await first.close()

  // With the sharer paused nothing can arrive, so what the reopened tab holds is exactly what it kept.
  await libraryItem(sharer, fileId).getByTestId('pause-button').click()
  await expect(libraryItem(sharer, fileId)).toHaveAttribute('data-state', 'paused')
  const reopened = await context.newPage()
  await reopened.goto(link.replace(/#.*$/, ''))
  const item = libraryItem(reopened, fileId)
  await expect(item).toHaveAttribute('data-state', 'stalled')
  const kept = Number(await item.getAttribute('data-have'))
  expect(kept).toBeGreaterThanOrEqual(5)
  expect(kept).toBeLessThan(16)

  await libraryItem(sharer, fileId).getByTestId('resume-button').click()
  await expect(item).toHaveAttribute('data-state', 'complete')
  await reopened.goto(link)
  const fetched = await reopened
    .getByTestId('peer')
    .evaluateAll((rows) => rows.reduce((sum, row) => sum + Number(row.getAttribute('data-bytes-down')), 0))
  expect(fetched).toBe((16 - kept) * CHUNK)
  expect(sha256(await downloadedBytes(await save(reopened)))).toBe(sha256(shared.buffer))
})

test('pausing a download holds it, resuming finishes it', async ({ peers }) => {
  const shared = file('archive.tar', 12)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared)
  const fileId = fileIdOfLink(link)
  const friend = await peers.open(withQuery(link, 'down=1MB'))
  await expect.poll(async () => Number(await transferOf(friend).getAttribute('data-have'))).toBeGreaterThanOrEqual(2)
  await friend.goto(withQuery(link, 'down=1MB').replace(/#.*$/, ''))
  const item = libraryItem(friend, fileId)
  await item.getByTestId('pause-button').click()
  await expect(item).toHaveAttribute('data-state', 'paused')
  await friend.reload()
  await expect(item).toHaveAttribute('data-state', 'paused') // kept across reloads
  await item.getByTestId('resume-button').click()
  await expect(item).toHaveAttribute('data-state', 'complete', { timeout: 30_000 })
})

test('removing a file deletes its chunks and frees the space', async ({ peers }) => {
  const shared = file('big-dataset.bin', 40)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared)
  const fileId = fileIdOfLink(link)
  await untilStored(sharer)
  const usage = async () => {
    await sharer.reload()
    return Number(await sharer.getByTestId('storage').getAttribute('data-usage'))
  }
  const before = await usage()
  expect(before).toBeGreaterThanOrEqual(shared.buffer.length)
  await libraryItem(sharer, fileId).getByTestId('remove-button').click()
  await libraryItem(sharer, fileId).getByTestId('remove-confirm').click()
  await expect(libraryItem(sharer, fileId)).toHaveCount(0)
  await expect.poll(usage, { timeout: 30_000 }).toBeLessThan(before - shared.buffer.length / 2)
  await expect(libraryItem(sharer, fileId)).toHaveCount(0) // gone after a reload too
})

test('a download that cannot fit in the storage the browser allows is refused with a clear message', async ({ peers }) => {
  const shared = file('movie.mkv', 12)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared)
  // The browser says this site may store 1 MB more.
  const smallQuota = 'navigator.storage.estimate = async () => ({ quota: 1000000, usage: 0 })'
  const friend = await peers.open(link, { workerScript: smallQuota })
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'error')
  await expect(friend.getByTestId('transfer-message')).toContainText(
    '“movie.mkv” needs 3.1 MB, but this browser lets the site store only 1.0 MB more. Remove files from your library or free disk space',
  )
  await expect(transferOf(friend)).toHaveAttribute('data-have', '0')
})

test('running out of storage mid-download pauses it with the reason, keeps what it has, and goes on by itself once there is room and the page is back', async ({
  peers,
}) => {
  const shared = file('season.mkv', 40)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared)
  const friend = await peers.open()
  const cdp = await friend.context().newCDPSession(friend)
  const origin = new URL(link).origin
  // Room for a part of its forty chunks.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 6 * 1024 * 1024 })
  await friend.goto(link)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'paused')
  await expect(friend.getByTestId('transfer-message')).toContainText('no more storage space')
  // OPFS keeps one file per item, so a chunk far into the file needs room for everything before
  // it: how many chunks fit depends on the order they came in (none, when the first was far in).
  const kept = Number(await transferOf(friend).getAttribute('data-have'))
  expect(kept).toBeLessThan(40)

  // Room again (the user freed space elsewhere) and back to the page: no click needed.
  await cdp.send('Storage.overrideQuotaForOrigin', { origin })
  await friend.evaluate(() => window.dispatchEvent(new Event('focus')))
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(shared.buffer))
})

test('a tab that helps keep files available holds a private file opened to keepers, unread, and is its only source after the sharer left', async ({
  peers,
}) => {
  const shared = file('field-notes.txt', 6)
  const carol = await peers.open()
  const link = await shareFile(carol, shared, { keepers: true })
  const fileId = fileIdOfLink(link)
  await untilStored(carol)

  const keeper = await peers.open()
  await keeper.getByTestId('keeping').locator('summary').click()
  await keeper.getByTestId('keeping-space').fill('lots')
  await keeper.getByTestId('keeping-start').click()
  await expect(keeper.getByTestId('keeping').getByRole('alert')).toContainText('“lots” is not a size')
  await expect(keeper.getByTestId('keeping')).toHaveAttribute('data-on', 'false')
  await keeper.getByTestId('keeping-space').fill('3MB')
  await keeper.getByTestId('keeping-start').click()
  await expect(keeper.getByTestId('keeping')).toHaveAttribute('data-on', 'true')
  const kept = libraryItem(keeper, fileId)
  await expect(kept).toHaveAttribute('data-state', 'complete')
  await expect(kept).toHaveAttribute('data-kept', 'true')
  await expect(kept).not.toContainText('field-notes')
  await expect(keeper.getByTestId('keeping')).toContainText('1 file')

  // Reopened, the tab keeps helping and still holds the file.
  await keeper.reload()
  await expect(keeper.getByTestId('keeping')).toHaveAttribute('data-on', 'true')
  await expect(kept).toHaveAttribute('data-state', 'complete')

  await carol.close()
  const friend = await peers.open(link)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(shared.buffer))
  await expect(friend.getByTestId('peer')).toHaveCount(1)
})
