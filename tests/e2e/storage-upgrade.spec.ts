// Two tabs of two versions on one browser profile: a newer version upgrades the library's
// database. The version is bumped in the new tab's engine worker only (it opens the database one
// version up, as the next release would).
import { randomBytes } from 'node:crypto'
import { addWorkerScript, expect, shareFile, test } from './fixtures'

const NEXT_VERSION = `{
  const open = indexedDB.open.bind(indexedDB)
  indexedDB.open = (name, version) => open(name, name === 'tabswarm' && version ? version + 1 : version)
}`

test('a tab holding the library lets a newer version upgrade it at once, and says to reload', async ({ peers }) => {
  const older = await peers.open('/', { workerScript: '// the next version comes in a page of its own' })
  await shareFile(older, { name: 'kept.bin', mimeType: 'application/octet-stream', buffer: randomBytes(300_000) })
  await addWorkerScript(older.context(), NEXT_VERSION)
  const newer = await older.context().newPage()
  await newer.goto(older.url().split('#')[0]!)
  await expect(newer.getByTestId('tracker-status')).toHaveAttribute('data-status', 'online')
  // The newer tab opened the upgraded library: the file shared in the older one is in it.
  await expect(newer.getByTestId('library-item')).toHaveCount(1)
  await expect(newer.getByTestId('storage-blocked')).toHaveCount(0)
  await expect(older.getByTestId('storage-superseded')).toBeVisible()
})

test('a tab of an older version that keeps the library open makes a new tab wait, saying why, until it closes', async ({ peers }) => {
  const older = await peers.open('/', { workerScript: '// the next version comes in a page of its own' })
  // What a tab of a version that did not let go looks like: a connection that ignores upgrades.
  await older.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.open('tabswarm')
        request.onsuccess = () => {
          ;(window as unknown as { held: IDBDatabase }).held = request.result
          resolve()
        }
        request.onerror = () => reject(request.error)
      }),
  )
  await addWorkerScript(older.context(), NEXT_VERSION)
  const newer = await older.context().newPage()
  await newer.goto(older.url().split('#')[0]!)
  await expect(newer.getByTestId('storage-blocked')).toBeVisible()
  await older.close()
  await expect(newer.getByTestId('storage-blocked')).toHaveCount(0)
  await expect(newer.getByTestId('tracker-status')).toHaveAttribute('data-status', 'online')
})
