import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unzipSync } from 'fflate'
import type { Manifest } from '../../src/protocol/manifest'
import { RawClient } from '../support/raw-client'
import { downloadedBytes, expect, peerIdOf, save, sha256, shareFile, transferOf, withQuery, fileIdOfLink } from './fixtures'
import { firefoxAttribute, firefoxBytesFrom, firefoxPeerId, firefoxSave, firefoxShare, firefoxState, launchFirefox, test } from './firefox'

// The friend's browser: stock Firefox (over WebDriver BiDi) next to Chromium, real WebRTC between them.

const MiB = 1024 * 1024

test('Chromium → Firefox, Firefox → Firefox, then Firefox → Chromium: each file arrives byte for byte under its name', async ({
  peers,
  firefox,
}) => {
  const first = randomBytes(3 * MiB + 321)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'lecture notes.bin', mimeType: 'application/octet-stream', buffer: first })
  await test.step('Chromium → Firefox', async () => {
    const friend = await firefox.open(link)
    await firefoxState(friend, 'complete')
    expect(sha256(await firefoxSave(firefox, friend, 'lecture notes.bin', { size: first.length }))).toBe(sha256(first))
  })

  const second = randomBytes(3 * MiB + 5)
  const firefoxSharer = await firefox.open(sharer.url().split('#')[0]!)
  const secondLink = await firefoxShare(firefoxSharer, { name: 'from-firefox.dat', buffer: second })
  await test.step('Firefox → Firefox', async () => {
    const friend = await firefox.open(secondLink)
    await firefoxState(friend, 'complete')
    expect(sha256(await firefoxSave(firefox, friend, 'from-firefox.dat', { size: second.length }))).toBe(sha256(second))
  })
  await test.step('Firefox → Chromium (from both Firefox tabs)', async () => {
    const friend = await peers.open(secondLink)
    await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
    const download = await save(friend)
    expect(download.suggestedFilename()).toBe('from-firefox.dat')
    expect(sha256(await downloadedBytes(download))).toBe(sha256(second))
  })
})

test('a swarm of both engines: a Chromium and a Firefox downloader each get chunks from the other', async ({ peers, firefox }) => {
  const buffer = randomBytes(8 * MiB)
  // The sharer's upload is capped (low enough that neither finishes before the other can offer
  // it something, even on a loaded machine), so the two downloaders trade what they already have.
  const sharer = await peers.open('/?up=500KB')
  const link = await shareFile(sharer, { name: 'mixed.bin', mimeType: 'application/octet-stream', buffer })
  const [chromiumFriend, firefoxFriend] = await Promise.all([peers.open(link), firefox.open(link)])
  const [chromiumId, firefoxId] = [await peerIdOf(chromiumFriend), await firefoxPeerId(firefoxFriend)]
  await expect(transferOf(chromiumFriend)).toHaveAttribute('data-state', 'complete', { timeout: 60_000 })
  await firefoxState(firefoxFriend, 'complete')
  const fromFirefox = Number(
    await chromiumFriend.locator(`[data-testid="peer"][data-peer-id="${firefoxId}"]`).getAttribute('data-bytes-down'),
  )
  expect(fromFirefox).toBeGreaterThan(0)
  expect(await firefoxBytesFrom(firefoxFriend, chromiumId)).toBeGreaterThan(0)
  expect(sha256(await downloadedBytes(await save(chromiumFriend)))).toBe(sha256(buffer))
  expect(sha256(await firefoxSave(firefox, firefoxFriend, 'mixed.bin', { size: buffer.length }))).toBe(sha256(buffer))
})

test('a Firefox download resumes after a reload from the chunks it stored', async ({ peers, firefox }) => {
  const buffer = randomBytes(6 * MiB)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'resumed.bin', mimeType: 'application/octet-stream', buffer })
  const friend = await firefox.open(withQuery(link, 'down=1MB'))
  await friend.waitForFunction(() => Number(document.querySelector('[data-testid="transfer"]')?.getAttribute('data-have')) >= 3, {
    timeout: 60_000,
  })
  const before = Number(await firefoxAttribute(friend, '[data-testid="transfer"]', 'data-have'))
  await friend.reload()
  // Back from storage before any new chunk could arrive at 1 MB/s... and then on to the end.
  await friend.waitForFunction(
    (kept) => Number(document.querySelector('[data-testid="transfer"]')?.getAttribute('data-have')) >= kept,
    { timeout: 60_000 },
    before,
  )
  await firefoxState(friend, 'complete')
  expect(sha256(await firefoxSave(firefox, friend, 'resumed.bin', { size: buffer.length }))).toBe(sha256(buffer))
  // Firefox's worker kept the bytes in one OPFS file, through a sync access handle.
  const fileId = fileIdOfLink(link)
  const opfsBytes = await friend.evaluate(async (id) => {
    const folder = await (await navigator.storage.getDirectory()).getDirectoryHandle('tabswarm-chunks')
    return (await (await folder.getFileHandle(id)).getFile()).size
  }, fileId)
  expect(opfsBytes).toBe(buffer.length)
})

test('a bundle saved as a zip in Firefox holds every file with its path', async ({ peers, firefox }) => {
  const root = join(mkdtempSync(join(tmpdir(), 'tabswarm-')), 'class-pack')
  const files = { 'class-pack/readme.txt': randomBytes(1500), 'class-pack/data/set.csv': randomBytes(400 * 1024 + 3) }
  mkdirSync(join(root, 'data'), { recursive: true })
  for (const [path, bytes] of Object.entries(files)) writeFileSync(join(root, '..', path), bytes)
  const sharer = await peers.open()
  await sharer.getByTestId('folder-input').setInputFiles(root)
  await expect(transferOf(sharer)).toHaveAttribute('data-state', 'seeding')
  const link = (await sharer.getByTestId('share-link').first().getAttribute('href'))!
  const friend = await firefox.open(link)
  await firefoxState(friend, 'complete')
  // A zip is whole once its central directory, at the end, reads.
  const whole = (bytes: Buffer) => {
    try {
      return Object.keys(unzipSync(new Uint8Array(bytes))).length > 0
    } catch {
      return false
    }
  }
  const unpacked = unzipSync(new Uint8Array(await firefoxSave(firefox, friend, 'class-pack.zip', { complete: whole })))
  expect(Object.keys(unpacked).sort()).toEqual(Object.keys(files).sort())
  for (const [path, bytes] of Object.entries(files)) expect(sha256(unpacked[path]!)).toBe(sha256(bytes))
})

test('a large download in a Firefox private window waits for the word before it starts; a normal window starts at once', async ({
  peers,
  firefox,
}) => {
  // 1.5 GiB on the tracker, published by a plain client: only the manifest matters here, no byte moves.
  const origin = (await peers.open()).url().split('#')[0]!
  const publisher = await RawClient.greeted(`${origin.replace('http', 'ws')}ws`)
  const size = 1536 * MiB
  const manifest: Manifest = {
    v: 1,
    name: 'lecture.mkv',
    size,
    type: '',
    chunkSize: 4 * MiB,
    hashes: Array.from({ length: size / (4 * MiB) }, (_, i) => sha256(Buffer.from(String(i)))),
  }
  const published = await publisher.ask<{ type: 'published'; id: number; fileId: string }>({ type: 'publish', id: 1, manifest })
  const link = `${origin}#/f/${published.fileId}`
  const privateFirefox = await launchFirefox({ privateWindows: true })
  try {
    const held = await privateFirefox.open(link)
    await held.waitForSelector('[data-testid="transfer"][data-state="paused"][data-notice="private-window"]', { timeout: 30_000 })
    expect(await firefoxAttribute(held, '[data-testid="transfer"]', 'data-have')).toBe('0')
    const message = await held.$eval('[data-testid="transfer-message"]', (element) => element.textContent ?? '')
    expect(message).toContain('private window')
    expect(message).toContain('1.6 GB')
    const button = (await held.waitForSelector('[data-testid="resume-button"]'))!
    expect(await button.evaluate((element) => element.textContent)).toBe('Download anyway')
    await button.click()
    await held.waitForSelector('[data-testid="transfer"]:not([data-state="paused"])[data-total="384"]', { timeout: 30_000 })
    const normal = await firefox.open(link)
    await normal.waitForSelector('[data-testid="transfer"][data-total="384"]', { timeout: 30_000 })
    expect(await firefoxAttribute(normal, '[data-testid="transfer"]', 'data-notice')).not.toBe('private-window')
    expect(await firefoxAttribute(normal, '[data-testid="transfer"]', 'data-state')).not.toBe('paused')
  } finally {
    await privateFirefox.close()
    publisher.close()
  }
})
