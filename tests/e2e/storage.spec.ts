import { randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import { fileIdOf } from '../../src/protocol/manifest'
import { manifestOf } from '../support/manifests'
import { downloadedBytes, expect, save, sha256, shareFile, test, transferOf, untilStored, fileIdOfLink } from './fixtures'

// Where the bytes of a file end up: an OPFS file per item written by the engine's worker, or
// IndexedDB where sync access handles are missing, or left in place from an older version.

const CHUNK = 256 * 1024
const file = (name: string, chunks: number) => ({ name, mimeType: 'application/octet-stream', buffer: randomBytes(chunks * CHUNK + 77) })
const libraryItem = (page: Page, fileId: string) => page.locator(`[data-testid="library-item"][data-file-id="${fileId}"]`)
const NO_SYNC_HANDLES = 'delete FileSystemFileHandle.prototype.createSyncAccessHandle'

/** What this browser holds of a file: the size of its OPFS file (if any) and its chunks in IndexedDB. */
async function storedIn(page: Page, fileId: string): Promise<{ opfsBytes: number | undefined; idbChunks: number }> {
  return page.evaluate(async (id) => {
    const folder = await navigator.storage
      .getDirectory()
      .then((root) => root.getDirectoryHandle('tabswarm-chunks'))
      .catch(() => undefined)
    const handle = await folder?.getFileHandle(id).catch(() => undefined)
    const opfsBytes = handle ? (await handle.getFile()).size : undefined
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('tabswarm')
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
    const idbChunks = await new Promise<number>((resolve, reject) => {
      const request = db.transaction('chunks').objectStore('chunks').index('byFile').count(id)
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
    db.close()
    return { opfsBytes, idbChunks }
  }, fileId)
}

/** Closes the sharer, opens the app again in `holder` and checks a new tab downloads the file from it alone. */
async function reseedsAfterReload(
  peers: { open: (path?: string) => Promise<Page> },
  sharer: Page,
  holder: Page,
  link: string,
  bytes: Buffer,
) {
  const fileId = fileIdOfLink(link)
  await sharer.context().close()
  await holder.goto(link.replace(/#.*$/, '')) // the app opened again, on its home page
  await expect(libraryItem(holder, fileId)).toHaveAttribute('data-state', 'complete')
  const friend = await peers.open(link)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
}

test('a download is written into one OPFS file by the worker, and the tab seeds it again after a reload', async ({ peers }) => {
  const shared = file('survey.csv', 9)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared)
  const fileId = fileIdOfLink(link)
  const friend = await peers.open(link)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(await storedIn(friend, fileId)).toEqual({ opfsBytes: shared.buffer.length, idbChunks: 0 })
  await untilStored(sharer)
  expect(await storedIn(sharer, fileId)).toEqual({ opfsBytes: shared.buffer.length, idbChunks: 0 })
  await reseedsAfterReload(peers, sharer, friend, link, shared.buffer)
})

test('where sync access handles are missing, chunks go to IndexedDB and the tab still downloads and seeds', async ({ peers }) => {
  const shared = file('notes.pdf', 6)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared)
  const fileId = fileIdOfLink(link)
  const friend = await peers.open(link, { workerScript: NO_SYNC_HANDLES })
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(shared.buffer))
  expect(await storedIn(friend, fileId)).toEqual({ opfsBytes: undefined, idbChunks: 7 })
  await reseedsAfterReload(peers, sharer, friend, link, shared.buffer)
})

test('where OPFS has no room for a file (as off the record for a big one), its chunks go to IndexedDB instead', async ({ peers }) => {
  const shared = file('recording.webm', 8)
  const sharer = await peers.open()
  const link = await shareFile(sharer, shared)
  const fileId = fileIdOfLink(link)
  const noRoom = "FileSystemSyncAccessHandle.prototype.write = () => { throw new DOMException('no room', 'QuotaExceededError') }"
  const friend = await peers.open(link, { workerScript: noRoom })
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(shared.buffer))
  expect(await storedIn(friend, fileId)).toEqual({ opfsBytes: undefined, idbChunks: 9 })
})

test('a library written by the version before OPFS (chunks as IndexedDB Blobs, schema 1) opens and is seeded', async ({
  peers,
  service,
}) => {
  const bytes = randomBytes(5 * CHUNK + 3)
  const manifest = manifestOf('old-photo.jpg', bytes)
  const fileId = await fileIdOf(manifest)
  // As base64: a megabyte as an array of numbers takes Playwright seconds to carry.
  const chunks = Array.from({ length: manifest.hashes.length }, (_, index) =>
    bytes.subarray(index * CHUNK, (index + 1) * CHUNK).toString('base64'),
  )
  // A page of the same origin that is not the app writes the old library first.
  const old = await peers.open(`/manifest.webmanifest`, { waitForApp: false })
  await old.evaluate(
    async ({ fileId, manifest, chunks }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open('tabswarm', 1)
        request.onupgradeneeded = () => {
          request.result.createObjectStore('manifests', { keyPath: 'fileId' })
          request.result.createObjectStore('chunks', { keyPath: ['fileId', 'index'] }).createIndex('byFile', 'fileId')
          request.result.createObjectStore('library', { keyPath: 'fileId' })
        }
        request.onsuccess = () => resolve(request.result)
        request.onerror = () => reject(request.error)
      })
      const tx = db.transaction(['manifests', 'chunks', 'library'], 'readwrite')
      tx.objectStore('manifests').put({ fileId, manifest })
      chunks.forEach((chunk, index) => {
        const data = Uint8Array.from(atob(chunk), (char) => char.charCodeAt(0))
        tx.objectStore('chunks').put({ fileId, index, data: new Blob([data]) })
      })
      const now = Date.now()
      tx.objectStore('library').put({ fileId, name: manifest.name, size: manifest.size, role: 'shared', addedAt: now, updatedAt: now })
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve()
        tx.onerror = () => reject(tx.error)
      })
      db.close()
    },
    { fileId, manifest, chunks },
  )
  await old.goto(service.url)
  await expect(libraryItem(old, fileId)).toHaveAttribute('data-state', 'seeding')
  await expect(libraryItem(old, fileId)).toContainText('old-photo.jpg')
  const friend = await peers.open(`/#/f/${fileId}`)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
  expect(await storedIn(old, fileId)).toEqual({ opfsBytes: undefined, idbChunks: 6 }) // read in place
})
