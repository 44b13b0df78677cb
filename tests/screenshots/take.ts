// Drives a real multi-tab session (one sharer presenting, three downloaders, one swarm view) against the
// built app and the real tracker, and writes PNG screenshots at desktop and phone sizes; then swarm
// views of a class of 10, 30 and 60 members fed to the tracker by plain WebSocket clients.
import { randomBytes } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from '@playwright/test'
import { distDir, startTestService } from '../support/service'
import { feedSwarm } from '../support/swarm-feed'
import { CHROMIUM_ARGS } from '../../playwright.config'
import { testVideo } from '../support/media'

const outDir = fileURLToPath(new URL('../../public/screenshots', import.meta.url))
const SIZES = { desktop: { width: 1280, height: 720 }, phone: { width: 375, height: 812 } }
/** Caps that keep the transfer in progress while the shots are taken. */
const SHARER_UP = 2_000_000
const DOWNLOADER_UP = 1_000_000
const TIMEOUT = 60_000

async function open(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'], viewport: SIZES.desktop, deviceScaleFactor: 1 })
  const page = await context.newPage()
  await page.goto(url)
  await page.getByTestId('tracker-status').and(page.locator('[data-status="online"]')).waitFor({ timeout: TIMEOUT })
  return page
}

async function shoot(page: Page, name: string, ready: () => Promise<void> = async () => undefined): Promise<void> {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport)
    await ready()
    // Two frames, so the canvases have redrawn at the new width.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))))
    const path = `${outDir}/${name}-${size}.png`
    await page.screenshot({ path, fullPage: size === 'phone' })
    console.log(`wrote ${path}`)
  }
  await page.setViewportSize(SIZES.desktop)
}

async function main(): Promise<void> {
  await mkdir(outDir, { recursive: true })
  const service = await startTestService({}, distDir)
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH, args: CHROMIUM_ARGS })
  try {
    const sharer = await open(browser, `${service.url}/?up=${SHARER_UP}`)
    await shoot(sharer, 'home-empty')
    await sharer
      .getByTestId('file-input')
      .setInputFiles({ name: 'lecture-recording.webm', mimeType: 'video/webm', buffer: testVideo(90, 4) })
    const linkElement = sharer.getByTestId('share-link').first()
    await linkElement.waitFor({ timeout: TIMEOUT })
    const link = (await linkElement.getAttribute('href'))!
    await sharer.locator('[data-testid="transfer"][data-state="seeding"]').first().waitFor({ timeout: TIMEOUT })

    const downloaders: Page[] = []
    for (let i = 0; i < 3; i++) downloaders.push(await open(browser, link.replace('/#/', `/?up=${DOWNLOADER_UP}#/`)))
    const transfer = downloaders[0]!.getByTestId('transfer').first()
    await downloaders[0]!.waitForFunction(
      () => {
        const element = document.querySelector('[data-testid="transfer"]')
        return element !== null && Number(element.getAttribute('data-have')) > Number(element.getAttribute('data-total')) * 0.3
      },
      undefined,
      { timeout: TIMEOUT },
    )
    await transfer.waitFor()
    // The lecture plays while it arrives.
    const player = downloaders[0]!.getByTestId('player')
    await player.evaluate((element: HTMLVideoElement) => {
      element.muted = true
      return element.play()
    })
    await downloaders[0]!.waitForFunction(
      () => (document.querySelector('[data-testid="player"]') as HTMLVideoElement).currentTime > 2,
      undefined,
      {
        timeout: TIMEOUT,
      },
    )
    await shoot(downloaders[0]!, 'transfer')
    await shoot(sharer, 'share-card')

    const fileId = link.split('/f/')[1]!.slice(0, 64)
    await sharer.evaluate((id) => (location.hash = `#/f/${id}/present`), fileId)
    await sharer.locator('[data-testid="present"]:not([data-code=""])').waitFor({ timeout: TIMEOUT })
    await sharer.locator('[data-testid="present-joined"]', { hasText: '3' }).waitFor({ timeout: TIMEOUT })
    await shoot(sharer, 'present')
    await sharer.evaluate(() => (location.hash = '#/'))

    const viewer = await open(browser, `${service.url}/#/f/${link.split('/f/')[1]!.slice(0, 64)}/swarm`)
    await viewer.locator('[data-testid="swarm-peer"]').nth(3).waitFor({ timeout: TIMEOUT })
    await viewer.locator('[data-testid="swarm-link"]').nth(2).waitFor({ timeout: TIMEOUT })
    await shoot(viewer, 'swarm')

    // A class on the projector: members fed to the tracker by plain WebSocket clients.
    for (const count of [10, 30, 60]) {
      const swarm = await feedSwarm(`ws://127.0.0.1:${service.port}/ws`, count)
      const projector = await open(browser, `${service.url}/#/f/${swarm.fileId}/swarm`)
      await projector
        .locator('[data-testid="swarm-peer"]')
        .nth(count - 1)
        .waitFor({ timeout: TIMEOUT })
      swarm.reportRates()
      await projector.locator('[data-testid="swarm-link"]').first().waitFor({ timeout: TIMEOUT })
      const path = `${outDir}/swarm-class-${count}-desktop.png`
      await projector.screenshot({ path })
      console.log(`wrote ${path}`)
      await projector.context().close()
      swarm.close()
    }

    // The lecture is a private link (the default): the tracker's public list shows a handout shared listed.
    await sharer.getByTestId('list-publicly').check()
    await sharer
      .getByTestId('file-input')
      .setInputFiles({ name: 'class-handout.pdf', mimeType: 'application/pdf', buffer: randomBytes(3 * 1024 * 1024) })
    const visitor = await open(browser, service.url)
    await visitor.getByTestId('tracker-file').first().waitFor({ timeout: TIMEOUT })
    await shoot(visitor, 'home')
    await visitor.goto(`${service.url}/#/c/ABCDEF`)
    await visitor.locator('[data-testid="join-page"][data-state="failed"]').waitFor({ timeout: TIMEOUT })
    await shoot(visitor, 'join-wrong-code')
  } finally {
    await browser.close()
    await service.close()
  }
}

await main()
