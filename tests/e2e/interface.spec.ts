import { randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import jsQR from 'jsqr'
import { PNG } from 'pngjs'
import { downloadedBytes, expect, peerIdOf, sha256, shareFile, test, transferOf, withQuery, fileIdOfLink, SHARE_LINK } from './fixtures'

/** Presses Tab until the element with this test id has focus; fails if it is never reached. */
async function tabTo(page: Page, testId: string, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate((id) => document.activeElement?.getAttribute('data-testid') === id, testId)) return
  }
  throw new Error(`Tab never reached ${testId}`)
}

test('the share card shows a QR code that decodes to the share link, with the name, size and chunk count', async ({ peers }) => {
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'poster.png', mimeType: 'image/png', buffer: randomBytes(1_300_000) })
  const card = sharer.locator('.share-card')
  await expect(card).toContainText('poster.png')
  await expect(card).toContainText('1.3 MB · 5 chunks')
  const png = PNG.sync.read(await sharer.getByTestId('share-qr').screenshot())
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)
  expect(decoded?.data).toBe(link)
})

test('the piece map has a cell per chunk and shows held, downloading and missing chunks as they change', async ({ peers }) => {
  // The sharer's upload cap keeps each chunk in flight for a while.
  const sharer = await peers.open('/?up=1MB')
  // Listed: 6 MiB is then exactly 24 chunks (a private link's chunks carry 17 bytes less of the file).
  const link = await shareFile(
    sharer,
    { name: 'talk.webm', mimeType: 'video/webm', buffer: randomBytes(6 * 1024 * 1024) },
    { listed: true },
  )
  const sharerMap = sharer.getByTestId('piece-map')
  await expect(sharerMap).toHaveAttribute('data-cells', '24')
  await expect(sharerMap).toHaveAttribute('data-cell-states', 'h'.repeat(24))

  const friend = await peers.open(link)
  const map = friend.getByTestId('piece-map')
  await expect(map).toHaveAttribute('data-cells', '24')
  await expect(map).toHaveAttribute('data-chunks-per-cell', '1')
  // Mid-transfer: some held, some in flight, some still missing (waited for as one state, since the
  // map redraws once per frame and a transfer can move on between two separate polls).
  await expect
    .poll(async () => (await map.getAttribute('data-cell-states')) ?? '', { intervals: [50] })
    .toMatch(/^(?=[hdm]*h)(?=[hdm]*d)(?=[hdm]*m)[hdm]{24}$/)
  const states = (await map.getAttribute('data-cell-states'))!
  expect(states).toMatch(/^[hdm]{24}$/)
  expect(await paintedMissing(friend)).toBeGreaterThan(0)
  await expect.poll(async () => Number(await map.getAttribute('data-downloading'))).toBeGreaterThan(0)
  await expect.poll(async () => Number(await map.getAttribute('data-have'))).toBeGreaterThan(0)
  await expect(friend.getByRole('img', { name: /^Chunks of talk\.webm: \d+ cells held/ })).toBeVisible()
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  await expect(map).toHaveAttribute('data-cell-states', 'h'.repeat(24))
  await expect(map).toHaveAttribute('data-downloading', '0')
  // The canvas itself follows (unchanged pictures are not redrawn): no cell is painted missing any more.
  await expect.poll(() => paintedMissing(friend)).toBe(0)
})

/** Pixels of the piece map canvas in the "missing" colour. */
function paintedMissing(page: Page): Promise<number> {
  return page.getByTestId('piece-map').evaluate((element) => {
    const canvas = element as HTMLCanvasElement
    const probe = document.createElement('canvas').getContext('2d')!
    probe.fillStyle = getComputedStyle(canvas).getPropertyValue('--piece-missing').trim()
    probe.fillRect(0, 0, 1, 1)
    const [r, g, b] = probe.getImageData(0, 0, 1, 1).data
    const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
    let count = 0
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] === r && pixels[i + 1] === g && pixels[i + 2] === b) count++
    return count
  })
}

test('the swarm view shows every peer of a four-tab swarm, what each holds, and the links carrying data', async ({ peers }) => {
  const sharer = await peers.open('/?up=1MB')
  // Listed: 6 MiB is then exactly 24 chunks.
  const link = await shareFile(
    sharer,
    { name: 'dataset.csv', mimeType: 'text/csv', buffer: randomBytes(6 * 1024 * 1024) },
    { listed: true },
  )
  const fileId = fileIdOfLink(link)
  // The view is open before the download starts: the sharer uploads each chunk about once, so its
  // links carry data only for the first seconds.
  const viewer = await peers.open(`/#/f/${fileId}/swarm`)
  const sharerId = await peerIdOf(sharer)
  // Watched from the start, in one look each frame: a link of the sharer's lives only while it
  // sends (the first seconds), and may be gone by the time the checks below are done.
  const sharerLink = viewer.waitForFunction(
    (from) => {
      const link = document.querySelector(`[data-testid="swarm-link"][data-from="${from}"]`)
      return link && Number(link.getAttribute('data-rate')) > 0 ? link.getAttribute('data-to') : null
    },
    sharerId,
    { timeout: 60_000 },
  )
  const downloaders = [await peers.open(link), await peers.open(link), await peers.open(link)]
  const ids = await Promise.all([sharer, ...downloaders].map(peerIdOf))

  const view = viewer.getByTestId('swarm-view')
  await expect(view).toHaveAttribute('data-peer-count', '4')
  await expect(viewer.getByRole('heading', { level: 1 })).toHaveText('dataset.csv')
  const nodes = viewer.getByTestId('swarm-peer')
  await expect(nodes).toHaveCount(4)
  expect((await nodes.evaluateAll((all) => all.map((node) => node.getAttribute('data-peer-id')))).sort()).toEqual([...ids].sort())
  await expect(viewer.locator(`[data-testid="swarm-peer"][data-peer-id="${ids[0]}"]`)).toHaveAttribute('data-have', '24')
  // Live links: the sharer uploads to someone, at a rate above zero, while the download runs.
  expect(ids).toContain(await (await sharerLink).jsonValue())
  // As the downloads finish, every node ends up holding every chunk.
  for (const downloader of downloaders) await expect(transferOf(downloader)).toHaveAttribute('data-state', 'complete', { timeout: 60_000 })
  for (const id of ids) await expect(viewer.locator(`[data-testid="swarm-peer"][data-peer-id="${id}"]`)).toHaveAttribute('data-have', '24')
  // A tab that leaves drops out of the view.
  await downloaders[2]!.context().close()
  await expect(nodes).toHaveCount(3)
  await expect(view).toHaveAttribute('data-peer-count', '3')
})

test('the home page lists the files shared on the tracker with their size, peers and availability', async ({ peers }) => {
  const visitor = await peers.open()
  await expect(visitor.getByTestId('tracker-files-empty')).toBeVisible()
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'notes.txt', mimeType: 'text/plain', buffer: randomBytes(700_000) }, { listed: true })
  const entry = visitor.locator(`[data-testid="tracker-file"][data-file-id="${fileIdOfLink(link)}"]`)
  await expect(entry).toHaveAttribute('data-peers', '1')
  await expect(entry).toHaveAttribute('data-availability', '1')
  await expect(entry).toContainText('notes.txt')
  await expect(entry).toContainText('700 KB · 1 peer (1 with every chunk) · 100% available')
  await entry.getByRole('link', { name: 'notes.txt' }).click()
  await expect(transferOf(visitor)).toHaveAttribute('data-state', 'complete')
})

test('keyboard alone shares a file, copies its link and saves it on the other side', async ({ peers }) => {
  const buffer = randomBytes(900_000)
  const sharer = await peers.open('/', { permissions: ['clipboard-read', 'clipboard-write'] })
  await tabTo(sharer, 'file-input')
  const [chooser] = await Promise.all([sharer.waitForEvent('filechooser'), sharer.keyboard.press('Space')])
  await chooser.setFiles({ name: 'essay.txt', mimeType: 'text/plain', buffer })
  const linkElement = sharer.getByTestId('share-link')
  await expect(linkElement).toHaveAttribute('href', SHARE_LINK)
  const link = (await linkElement.getAttribute('href'))!
  await tabTo(sharer, 'copy-link')
  await sharer.keyboard.press('Enter')
  await expect(sharer.getByTestId('copy-link')).toHaveText('Copied')
  expect(await sharer.evaluate(() => navigator.clipboard.readText())).toBe(link)

  const friend = await peers.open(link)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  await expect(friend.getByRole('progressbar', { name: 'essay.txt: 100%' })).toHaveAttribute('aria-valuenow', '100')
  await tabTo(friend, 'save-button')
  // A visible focus ring on the focused control.
  expect(await friend.getByTestId('save-button').evaluate((element) => getComputedStyle(element).outlineStyle)).toBe('solid')
  const [download] = await Promise.all([friend.waitForEvent('download'), friend.keyboard.press('Enter')])
  expect(sha256(await downloadedBytes(download))).toBe(sha256(buffer))
})

test('the home, transfer and swarm pages fit a 375 px phone screen without sideways scrolling', async ({ peers }) => {
  const sharer = await peers.open()
  const file = (buffer: Buffer) => ({ name: 'a-rather-long-file-name-for-a-small-screen.pdf', mimeType: 'application/pdf', buffer })
  await shareFile(sharer, file(randomBytes(2_000_000)), { listed: true })
  const link = await shareFile(sharer, file(randomBytes(2_000_000)))
  const phone = await peers.open('/', { viewport: { width: 375, height: 740 } })
  const width = () => phone.evaluate(() => document.documentElement.scrollWidth)
  await test.step('home', async () => {
    await expect(phone.getByTestId('tracker-file')).toHaveCount(1)
    expect(await width()).toBeLessThanOrEqual(375)
  })
  await test.step('swarm', async () => {
    await phone.goto(`${new URL(link).origin}/#/f/${fileIdOfLink(link)}/swarm`)
    await expect(phone.getByTestId('swarm-peer')).toHaveCount(1)
    expect(await width()).toBeLessThanOrEqual(375)
  })
  await test.step('transfer', async () => {
    await phone.goto(link)
    await expect(transferOf(phone)).toHaveAttribute('data-state', 'complete')
    expect(await width()).toBeLessThanOrEqual(375)
  })
})

test('light and dark themes follow the system setting', async ({ peers }) => {
  const background = (page: Page) => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor)
  const light = await peers.open('/', { colorScheme: 'light' })
  const dark = await peers.open('/', { colorScheme: 'dark' })
  const [lightBg, darkBg] = [await background(light), await background(dark)]
  const luminance = (rgb: string) =>
    rgb
      .match(/\d+/g)!
      .slice(0, 3)
      .reduce((sum, n) => sum + Number(n), 0)
  expect(luminance(lightBg)).toBeGreaterThan(600)
  expect(luminance(darkBg)).toBeLessThan(120)
})

test('the app can be installed: a web manifest with icons, linked from the page', async ({ peers, service }) => {
  const page = await peers.open()
  const href = await page.locator('link[rel="manifest"]').getAttribute('href')
  const response = await page.request.get(new URL(href!, service.url).href)
  expect(response.ok()).toBe(true)
  const manifest = (await response.json()) as { name: string; start_url: string; display: string; icons: { src: string; sizes: string }[] }
  expect(manifest).toMatchObject({ name: 'TabSwarm', start_url: '/', display: 'standalone' })
  expect(manifest.icons.map((icon) => icon.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']))
  for (const icon of manifest.icons) {
    const image = await page.request.get(new URL(icon.src, service.url).href)
    expect(image.ok(), icon.src).toBe(true)
  }
  await expect(page.locator('link[rel="icon"]')).toHaveAttribute('href', '/favicon.svg')
})
