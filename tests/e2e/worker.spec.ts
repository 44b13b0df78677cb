import { randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import { downloadedBytes, expect, fileIdOfLink, save, sha256, shareFile, test, transferOf, withQuery } from './fixtures'

// The engine in its worker: what happens when the worker dies, and where a browser cannot hand a
// data channel to a worker.

const CHUNK = 256 * 1024
const file = (name: string, chunks: number) => ({ name, mimeType: 'application/octet-stream', buffer: randomBytes(chunks * CHUNK + 77) })

// A browser without transferable data channels: handing one to a worker fails as it would there.
const NO_CHANNEL_TRANSFER = `{
  window.__refusedTransfers = 0
  const post = Worker.prototype.postMessage
  Worker.prototype.postMessage = function (message, transfer) {
    if (Array.isArray(transfer) && transfer.some((item) => item instanceof RTCDataChannel)) {
      window.__refusedTransfers++
      throw new DOMException('RTCDataChannel is not transferable here', 'DataCloneError')
    }
    return post.call(this, message, transfer)
  }
}`

/**
 * How many chunks of a file the page's storage lists as stored: what a new engine resumes from.
 * (The list is saved a moment after the chunks, more under load, so the page's own count runs ahead.)
 */
function storedChunkCount(page: Page, fileId: string): Promise<number> {
  return page.evaluate(async (id) => {
    const done = <T>(request: IDBRequest<T>) =>
      new Promise<T>((resolve, reject) => {
        request.onsuccess = () => resolve(request.result)
        request.onerror = () => reject(request.error)
      })
    const db = await done(indexedDB.open('tabswarm'))
    try {
      const record = (await done(db.transaction('opfsHave').objectStore('opfsHave').get(id))) as { have: Uint8Array } | undefined
      return [...(record?.have ?? [])].reduce((count, byte) => count + byte.toString(2).replace(/0/g, '').length, 0)
    } finally {
      db.close()
    }
  }, fileId)
}

test('a worker killed mid-download is replaced, and the download finishes from what was stored', async ({ peers }) => {
  const shared = file('lecture.webm', 24)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared)
  const friend = await peers.open(withQuery(link, 'down=1MB'))
  // The storage is open (and its database made) by the time a chunk arrives.
  await expect.poll(async () => Number(await transferOf(friend).getAttribute('data-have'))).toBeGreaterThanOrEqual(1)
  await expect.poll(() => storedChunkCount(friend, fileIdOfLink(link))).toBeGreaterThanOrEqual(6)
  const [engine] = friend.workers()
  const replaced = friend.waitForEvent('worker')
  await engine!.evaluate(() => self.close()).catch(() => undefined) // the worker ends at once
  const next = await replaced
  expect(next).not.toBe(engine)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete', { timeout: 60_000 })
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(shared.buffer))
  // After the restart only what was not stored was fetched again: the six or more chunks listed as
  // stored were kept (a private link's chunks travel 17 bytes longer each: five chunks' margin).
  const fetched = await friend
    .getByTestId('peer')
    .evaluateAll((rows) => rows.reduce((sum, row) => sum + Number(row.getAttribute('data-bytes-down')), 0))
  expect(fetched).toBeLessThanOrEqual(shared.buffer.length - 5 * CHUNK)
})

test('where a data channel cannot move to the worker, the page forwards its messages and both directions work', async ({ peers }) => {
  const shared = file('slides.pdf', 40)
  const sharer = await peers.open('/', { initScript: NO_CHANNEL_TRANSFER })
  const link = await shareFile(sharer, shared)
  const friend = await peers.open(link, { initScript: NO_CHANNEL_TRANSFER })
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(shared.buffer))
  for (const page of [sharer, friend])
    expect(await page.evaluate(() => (window as unknown as { __refusedTransfers: number }).__refusedTransfers)).toBeGreaterThan(0)
  // And a tab that can transfer fetches from the one that forwards.
  const third = await peers.open(link)
  await sharer.context().close()
  await expect(transferOf(third)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(third)))).toBe(sha256(shared.buffer))
})
