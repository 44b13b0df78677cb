import { randomBytes } from 'node:crypto'
import { expect, sha256, shareFile, test, transferOf } from './fixtures'

// Records wake-lock requests and releases; the real API is used underneath where it works.
const RECORD_WAKE_LOCKS = `{
  window.__wakeLocks = { requested: 0, released: 0 }
  const fake = () => ({ release: async () => { window.__wakeLocks.released++ } })
  Object.defineProperty(navigator, 'wakeLock', {
    value: { request: async () => { window.__wakeLocks.requested++; return fake() } },
  })
}`

test('the page title shows download progress and a wake lock is held while the transfer runs', async ({ peers }) => {
  const buffer = randomBytes(3 * 1024 * 1024)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'keynote.key', mimeType: 'application/octet-stream', buffer })
  const friend = await peers.open(link.replace('/#/', '/?down=1MB#/'), { initScript: RECORD_WAKE_LOCKS })
  await expect(friend).toHaveTitle(/^\d{1,2}% · keynote\.key — TabSwarm$/)
  await expect
    .poll(() => friend.evaluate(() => (window as unknown as { __wakeLocks: { requested: number } }).__wakeLocks.requested))
    .toBeGreaterThan(0)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  await expect(friend).toHaveTitle('TabSwarm')
  await expect
    .poll(() => friend.evaluate(() => (window as unknown as { __wakeLocks: { released: number } }).__wakeLocks.released))
    .toBeGreaterThan(0)
})

// A stand-in for the browser's save dialog: collects what the app writes.
const RECORD_SAVE_PICKER = `{
  window.__saved = { name: '', parts: [] }
  window.showSaveFilePicker = async ({ suggestedName }) => {
    window.__saved.name = suggestedName
    return {
      createWritable: async () => ({
        write: async (data) => { window.__saved.parts.push(new Uint8Array(await data.arrayBuffer())) },
        close: async () => { window.__saved.closed = true },
        abort: async () => {},
      }),
    }
  }
}`

test('"Save to folder…" writes the file through the File System Access API where the browser has it', async ({ peers }) => {
  const buffer = randomBytes(700 * 1024)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'thesis.pdf', mimeType: 'application/pdf', buffer })
  const friend = await peers.open(link, { initScript: RECORD_SAVE_PICKER })
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  await friend.getByTestId('save-to-folder-button').click()
  await expect.poll(() => friend.evaluate(() => (window as unknown as { __saved: { closed?: boolean } }).__saved.closed)).toBe(true)
  const saved = await friend.evaluate(() => {
    const { name, parts } = (window as unknown as { __saved: { name: string; parts: Uint8Array[] } }).__saved
    return { name, bytes: parts.flatMap((part) => Array.from(part)) }
  })
  expect(saved.name).toBe('thesis.pdf')
  expect(sha256(Buffer.from(saved.bytes))).toBe(sha256(buffer))
})
