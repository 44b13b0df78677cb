import { randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import { unzipSync } from 'fflate'
import { downloadedBytes, expect, sha256, shareFile, test, transferOf, withQuery, SHARE_LINK } from './fixtures'

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
  const friend = await peers.open(withQuery(link, 'down=1MB'), { initScript: RECORD_WAKE_LOCKS })
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

// A stand-in for the browser's save dialog: a real WritableStream (as FileSystemWritableFileStream
// is) that collects what the app writes, whether a Blob at once or a piped stream.
const RECORD_SAVE_PICKER = `{
  window.__saved = { name: '', parts: [] }
  window.showSaveFilePicker = async ({ suggestedName }) => {
    window.__saved.name = suggestedName
    return {
      createWritable: async () => {
        const stream = new WritableStream({
          write(chunk) { window.__saved.parts.push(new Uint8Array(chunk)) },
          close() { window.__saved.closed = true },
        })
        stream.write = async (data) => { window.__saved.parts.push(new Uint8Array(await data.arrayBuffer())) }
        return stream
      },
    }
  }
}`

/** Waits until the app closed the picked file, then returns its name and bytes. */
async function savedByPicker(page: Page): Promise<{ name: string; bytes: Buffer }> {
  await expect.poll(() => page.evaluate(() => (window as unknown as { __saved: { closed?: boolean } }).__saved.closed)).toBe(true)
  const saved = await page.evaluate(() => {
    const { name, parts } = (window as unknown as { __saved: { name: string; parts: Uint8Array[] } }).__saved
    return { name, bytes: parts.flatMap((part) => Array.from(part)) }
  })
  return { name: saved.name, bytes: Buffer.from(saved.bytes) }
}

test('"Save to folder…" writes the file through the File System Access API where the browser has it', async ({ peers }) => {
  const buffer = randomBytes(700 * 1024)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'thesis.pdf', mimeType: 'application/pdf', buffer })
  const friend = await peers.open(link, { initScript: RECORD_SAVE_PICKER })
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  await friend.getByTestId('save-to-folder-button').click()
  const saved = await savedByPicker(friend)
  expect(saved.name).toBe('thesis.pdf')
  expect(sha256(saved.bytes)).toBe(sha256(buffer))
})

test('"Save to folder…" streams a bundle as a zip into the picked file', async ({ peers }) => {
  const files = { 'kit/readme.txt': randomBytes(3000), 'kit/data/values.csv': randomBytes(400 * 1024) }
  const sharer = await peers.open()
  await sharer
    .getByTestId('file-input')
    .setInputFiles(Object.entries(files).map(([path, buffer]) => ({ name: path.split('/').pop()!, mimeType: 'text/plain', buffer })))
  const link = sharer.getByTestId('share-link').first()
  await expect(link).toHaveAttribute('href', SHARE_LINK)
  const friend = await peers.open((await link.getAttribute('href'))!, { initScript: RECORD_SAVE_PICKER })
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  await friend.getByTestId('save-to-folder-button').click()
  const saved = await savedByPicker(friend)
  expect(saved.name).toBe('readme.txt and 1 more.zip')
  const unpacked = unzipSync(new Uint8Array(saved.bytes))
  expect(Object.keys(unpacked).sort()).toEqual(['readme.txt', 'values.csv'])
  expect(sha256(unpacked['values.csv']!)).toBe(sha256(files['kit/data/values.csv']))
})

test('the page runs under its Content-Security-Policy without one violation (no eval, not even a probe)', async ({ browser, service }) => {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  await context.addInitScript(`{
    window.__violations = []
    document.addEventListener('securitypolicyviolation', (event) => window.__violations.push(event.violatedDirective + ' ' + event.blockedURI))
  }`)
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error' || /content security policy|unsafe-eval|eval/i.test(message.text())) problems.push(message.text())
  })
  page.on('pageerror', (error) => problems.push(error.message))
  await page.goto(service.url)
  await expect(page.getByTestId('tracker-status')).toHaveAttribute('data-status', 'online')
  // Sharing decodes tracker replies and validates a manifest: every schema runs at least once.
  await shareFile(page, { name: 'csp.txt', mimeType: 'text/plain', buffer: randomBytes(1000) })
  expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([])
  expect(problems).toEqual([])
  await context.close()
})

// Lets the test hide and show the page as a locked phone screen would.
const CONTROL_VISIBILITY = `{
  let state = 'visible'
  Object.defineProperty(document, 'visibilityState', { get: () => state, configurable: true })
  Object.defineProperty(document, 'hidden', { get: () => state === 'hidden', configurable: true })
  window.__setVisibility = (next) => {
    state = next
    document.dispatchEvent(new Event('visibilitychange'))
  }
}`

test('back from a locked screen with the tracker gone meanwhile, the page says it is resuming, reconnects and finishes', async ({
  peers,
  service,
}) => {
  const buffer = randomBytes(4 * 1024 * 1024)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'lecture.webm', mimeType: 'video/webm', buffer })
  const friend = await peers.open(withQuery(link, 'down=500KB'), { initScript: CONTROL_VISIBILITY })
  await expect.poll(async () => Number(await transferOf(friend).getAttribute('data-have'))).toBeGreaterThanOrEqual(1)
  const setVisibility = (state: string) =>
    friend.evaluate((next) => (window as unknown as { __setVisibility: (s: string) => void }).__setVisibility(next), state)
  await setVisibility('hidden')
  await service.stop()
  await expect(friend.getByTestId('tracker-status')).toHaveAttribute('data-status', 'offline')
  // Back on screen while the tracker is still away: it says so, and keeps trying.
  await setVisibility('visible')
  await expect(friend.getByTestId('resuming')).toBeVisible()
  await service.start()
  await expect(friend.getByTestId('tracker-status')).toHaveAttribute('data-status', 'online')
  await expect(friend.getByTestId('resuming')).toHaveCount(0)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  const [download] = await Promise.all([friend.waitForEvent('download'), friend.getByTestId('save-button').click()])
  expect(sha256(await downloadedBytes(download))).toBe(sha256(buffer))
})
