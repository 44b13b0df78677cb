// A path with a round trip and loss, as Chromium emulates it for one page's sockets. Faithful when
// applied to the sending page (on the receiving page it distorts the receive path).
import type { Page } from '@playwright/test'

/** Shapes every WebRTC socket `page` creates from now on: `rttMs` more round trip, `loss` of packets dropped. */
export async function shapeSender(page: Page, { rttMs, loss }: { rttMs: number; loss: number }): Promise<void> {
  if (rttMs === 0 && loss === 0) return
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: rttMs / 2,
    downloadThroughput: -1,
    uploadThroughput: -1,
    packetLoss: loss * 100,
  })
}
