import { chromium } from '@playwright/test'
import { CHROMIUM_ARGS } from '../../playwright.config'
import { expect, test } from './fixtures'

const FILE_ID = 'ab'.repeat(32)

test('a browser without WebRTC is told what it lacks and what to do, not that no one is sharing', async ({ browser, service }) => {
  const context = await browser.newContext()
  // As in a browser built without WebRTC (WebKitGTK here) or with it switched off.
  await context.addInitScript(`{
    delete window.RTCPeerConnection
    delete window.webkitRTCPeerConnection
  }`)
  const page = await context.newPage()
  await page.goto(`${service.url}/#/f/${FILE_ID}`)
  const unsupported = page.getByTestId('unsupported')
  await expect(unsupported).toHaveAttribute('data-missing', 'webrtc')
  await expect(unsupported).toContainText('cannot open WebRTC data channels')
  await expect(unsupported).toContainText('Open the link in a current Firefox, Chrome, Edge or Safari')
  await expect(page.getByText('No one is sharing')).toHaveCount(0)
  await expect(page.getByTestId('transfer')).toHaveCount(0)
  await context.close()
})

test('a page opened over plain http from another machine says to use https', async ({ service }) => {
  // A name that is not localhost makes an http page an insecure context, as on a LAN address.
  const insecure = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP insecure.test 127.0.0.1'],
  })
  try {
    const page = await insecure.newPage()
    await page.goto(`http://insecure.test:${new URL(service.url).port}/#/f/${FILE_ID}`)
    expect(await page.evaluate(() => isSecureContext)).toBe(false)
    const unsupported = page.getByTestId('unsupported')
    await expect(unsupported).toHaveAttribute('data-missing', 'secure-context')
    await expect(unsupported).toContainText('Open it over https')
  } finally {
    await insecure.close()
  }
})
