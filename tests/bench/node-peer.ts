// The Node side of the throughput benchmark: the command-line seeder sending to a browser tab,
// and its raw limit, a plain data channel from Node (@roamhq/wrtc) to Chromium.
import type { Browser } from '@playwright/test'
import { Cli } from '../support/cli'

interface WrtcPeerConnection {
  createDataChannel(label: string, options: object): WrtcChannel
  createOffer(): Promise<object>
  setLocalDescription(description: object): Promise<void>
  setRemoteDescription(description: object): Promise<void>
  localDescription: { type: string; sdp: string }
  iceGatheringState: string
  close(): void
}
interface WrtcChannel {
  readyState: string
  bufferedAmount: number
  bufferedAmountLowThreshold: number
  onopen: (() => void) | null
  send(data: Uint8Array): void
}

/** Raw Node→Chromium: 64 KiB messages with bufferedAmount backpressure, timed from connection start. */
export async function rawNodeToChromium(browser: Browser, pageUrl: string, bytes: number): Promise<number> {
  const { default: wrtc } = (await import('@roamhq/wrtc')) as { default: { RTCPeerConnection: new (config: object) => WrtcPeerConnection } }
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
  const page = await context.newPage()
  await page.goto(pageUrl)
  const started = performance.now()
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] })
  const channel = pc.createDataChannel('pump', { ordered: true })
  await pc.setLocalDescription(await pc.createOffer())
  // wrtc does not fire icegatheringstatechange: poll.
  while (pc.iceGatheringState !== 'complete') await new Promise((resolve) => setTimeout(resolve, 20))
  const answer = await page.evaluate(
    async ({ offer, total }) => {
      const remote = new RTCPeerConnection({ iceServers: [] })
      ;(window as unknown as { received: Promise<number> }).received = new Promise((resolve) => {
        remote.ondatachannel = ({ channel }) => {
          let got = 0
          channel.onmessage = (event) => {
            got += (event.data as ArrayBuffer).byteLength ?? (event.data as Blob).size
            if (got >= total) resolve(got)
          }
        }
      })
      await remote.setRemoteDescription(offer as RTCSessionDescriptionInit)
      await remote.setLocalDescription(await remote.createAnswer())
      await new Promise<void>((resolve) => {
        if (remote.iceGatheringState === 'complete') resolve()
        else remote.onicegatheringstatechange = () => remote.iceGatheringState === 'complete' && resolve()
      })
      return remote.localDescription!.toJSON()
    },
    { offer: { type: pc.localDescription.type, sdp: pc.localDescription.sdp }, total: bytes },
  )
  await pc.setRemoteDescription(answer)
  await new Promise<void>((resolve) => (channel.readyState === 'open' ? resolve() : (channel.onopen = () => resolve())))
  const message = new Uint8Array(64 * 1024)
  channel.bufferedAmountLowThreshold = 1024 * 1024
  for (let sent = 0; sent < bytes;) {
    while (channel.bufferedAmount < 4 * 1024 * 1024 && sent < bytes) {
      channel.send(message)
      sent += message.length
    }
    // wrtc does not fire bufferedamountlow either: poll.
    while (sent < bytes && channel.bufferedAmount > channel.bufferedAmountLowThreshold)
      await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await page.evaluate(() => (window as unknown as { received: Promise<number> }).received)
  const seconds = (performance.now() - started) / 1000
  pc.close()
  await context.close()
  return seconds
}

/** The command-line seeder shares `path` (hashing not timed); a tab opens the link until `complete`. */
export async function nodeSeederToTab(browser: Browser, trackerHttpUrl: string, path: string): Promise<number> {
  const seeder = new Cli(['seed', path, '--tracker', `${trackerHttpUrl.replace('http', 'ws')}/ws`])
  try {
    const link = (await seeder.event<{ event: string; link: string }>('sharing', () => true, 600_000)).link
    const context = await browser.newContext({ permissions: ['camera', 'microphone'] })
    const page = await context.newPage()
    const started = performance.now()
    await page.goto(link)
    await page.waitForSelector('[data-testid="transfer"][data-state="complete"]', { timeout: 600_000 })
    const seconds = (performance.now() - started) / 1000
    await context.close()
    return seconds
  } finally {
    await seeder.stop()
  }
}
