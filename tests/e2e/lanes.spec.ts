// Lanes: on a path with a real round trip, one peer is reached over several peer connections.
// The path is Chromium's own network emulation on the sharer's page (the sending side), set
// before the friend opens the link, so every connection the sharer makes for it is shaped.
import { randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import { shapeSender } from '../support/network-shape'
import { downloadedBytes, expect, save, sha256, shareFile, test, transferOf, untilStored, withQuery } from './fixtures'

const MiB = 1024 * 1024
/** The added round trip: a friend across a country. */
const RTT_MS = 40

const shape = (page: Page, rttMs: number) => shapeSender(page, { rttMs, loss: 0 })

/** The most lanes the friend's peer row shows from now until the transfer completes. */
async function mostLanesUntilComplete(friend: Page): Promise<number> {
  let most = 0
  await expect
    .poll(async () => {
      const lanes = Number((await friend.getByTestId('peer').first().getAttribute('data-lanes')) ?? 0)
      most = Math.max(most, lanes)
      return transferOf(friend).getAttribute('data-state')
    })
    .toBe('complete')
  return most
}

/** The friend's page keeps every RTCPeerConnection it makes, so the test can cut one. */
const KEEP_CONNECTIONS = `{
  const Original = RTCPeerConnection
  window.__connections = []
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__connections.push(this) }
  }
}`

test('over a +40 ms path a download opens several lanes to the sharer; one cut mid-transfer gives its requests to the others at once, little is fetched twice, and the file arrives whole', async ({
  peers,
}) => {
  const bytes = randomBytes(24 * MiB)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'cut.bin', mimeType: 'application/octet-stream', buffer: bytes })
  await untilStored(sharer)
  await shape(sharer, RTT_MS)
  // Held to four lanes, so none opens between the count and the cut.
  const friend = await peers.open(withQuery(link, 'lanes=4'), { initScript: KEEP_CONNECTIONS })
  const row = friend.getByTestId('peer').first()
  await expect.poll(async () => Number((await row.getAttribute('data-lanes')) ?? 0)).toBe(4)
  // One peer with its round trip measured, whatever the number of lanes, on both sides.
  expect(Number(await row.getAttribute('data-rtt-ms'))).toBeGreaterThanOrEqual(RTT_MS)
  await expect(friend.getByTestId('peer')).toHaveCount(1)
  await expect(sharer.getByTestId('peer')).toHaveCount(1)
  const total = Number(await transferOf(friend).getAttribute('data-total'))
  expect(Number(await transferOf(friend).getAttribute('data-have'))).toBeLessThan(total / 2)
  const lanesBefore = 4
  // Cut the newest connection that is carrying the wire (its remote end sees it close too).
  await friend.evaluate(() => {
    const open = (window as unknown as { __connections: RTCPeerConnection[] }).__connections.filter(
      (pc) => pc.connectionState === 'connected',
    )
    open.at(-1)!.close()
  })
  await expect.poll(async () => Number((await row.getAttribute('data-lanes')) ?? 0)).toBeLessThan(lanesBefore)
  const cutAt = Date.now()
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  // Its requests were placed again at once, not after the 15 s a request may stall.
  expect(Date.now() - cutAt).toBeLessThan(15_000)
  // Bytes received beyond the file: at most what the cut lane had in flight (and endgame's few duplicates).
  const received = Number(await transferOf(friend).getAttribute('data-bytes-down'))
  const chunk = bytes.length / total
  expect(received - bytes.length).toBeLessThanOrEqual(8 * chunk)
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
})

test('a friend with lanes turned off (?lanes=1) downloads over one connection, and a sharer with them off gets none', async ({ peers }) => {
  // Large enough that lanes would open: with the first requests in flight, what is left would take
  // one lane over LANES_WORTH_SECONDS at +40 ms.
  const bytes = randomBytes(5 * MiB)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'one.bin', mimeType: 'application/octet-stream', buffer: bytes })
  await untilStored(sharer)
  await shape(sharer, RTT_MS)
  const friend = await peers.open(withQuery(link, 'lanes=1'))
  expect(await mostLanesUntilComplete(friend)).toBe(1)
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))

  const plainSharer = await peers.open('/?lanes=1')
  const plainLink = await shareFile(plainSharer, { name: 'two.bin', mimeType: 'application/octet-stream', buffer: bytes })
  await untilStored(plainSharer)
  await shape(plainSharer, RTT_MS)
  const other = await peers.open(plainLink)
  expect(await mostLanesUntilComplete(other)).toBe(1)
})

test('a sharer that caps its upload below what one lane carries says so, and the friend opens no extra lane to it', async ({ peers }) => {
  // As large as the test above, where lanes open; 800 KB/s is half of what one lane moves at +40 ms.
  const bytes = randomBytes(5 * MiB)
  const sharer = await peers.open('/?up=800KB')
  const link = await shareFile(sharer, { name: 'capped.bin', mimeType: 'application/octet-stream', buffer: bytes })
  await untilStored(sharer)
  await shape(sharer, RTT_MS)
  const friend = await peers.open(link)
  const row = friend.getByTestId('peer').first()
  await expect(row).toHaveAttribute('data-upload-cap', /^\d+$/)
  expect(Math.abs(Number(await row.getAttribute('data-upload-cap')) / 800_000 - 1)).toBeLessThan(0.05)
  await expect(row).toContainText('upload capped at about')
  expect(await mostLanesUntilComplete(friend)).toBe(1)
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
})

test('a sharer on a lossy, distant path from before its page loads stays online, and a friend downloads', async ({ peers }) => {
  const bytes = randomBytes(2 * MiB)
  const sharer = await peers.open('/', { waitForApp: false })
  // Shaped before the page loads: its WebRTC connections, and the page's own requests as far as
  // Chromium's emulation reaches them, have the loss and delay.
  await shapeSender(sharer, { rttMs: RTT_MS, loss: 0.01 })
  await sharer.reload()
  await expect(sharer.getByTestId('tracker-status')).toHaveAttribute('data-status', 'online')
  const link = await shareFile(sharer, { name: 'lossy.bin', mimeType: 'application/octet-stream', buffer: bytes })
  const friend = await peers.open(link)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete', { timeout: 60_000 })
  expect(Number(await friend.getByTestId('peer').first().getAttribute('data-rtt-ms'))).toBeGreaterThanOrEqual(RTT_MS)
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
  await expect(sharer.getByTestId('tracker-status')).toHaveAttribute('data-status', 'online')
})
