import { expect, it } from 'vitest'
import { sha256Hex } from '../../src/protocol/encoding'
import { MAX_PENDING_INCOMING_LINKS } from '../../src/engine/swarm-limits'
import { namedBlob, randomBytes, useEngineHarness } from '../support/engine-harness'
import { RawClient } from '../support/raw-client'
import type { ServerMessage } from '../../src/protocol/tracker'

/** Listed shares: these tests are about the swarm, where equal content has one file id (private links have their own tests). */
const LISTED = { listed: true }

const KiB = 1024
const harness = useEngineHarness()

it(
  'peers that flood a seeder with offers they never complete hold few of its links, are backed off, and an honest download goes on',
  { timeout: 20_000 },
  async () => {
    const content = randomBytes(24 * 256 * KiB, 41)
    const alice = await harness.peer(undefined, { connectTimeoutMs: 300 })
    const fileId = (await alice.client.share(namedBlob(content, 'flooded.bin'), LISTED))!
    let mostConnecting = 0
    const stopWatching = alice.client.subscribe(() => {
      const peers = alice.client.snapshot().transfers.get(fileId)?.peers ?? []
      mostConnecting = Math.max(mostConnecting, peers.filter((p) => p.status === 'connecting').length)
    })
    const url = `ws://127.0.0.1:${harness.service.port}/ws`
    const fakes = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const fake = await RawClient.greeted(url)
        await fake.ask({ type: 'locate', id: 1, fileId })
        return fake
      }),
    )
    let offers = 0
    const flood = setInterval(() => {
      for (const fake of fakes)
        fake.send({ type: 'signal', to: alice.peerId, fileId, link: `x${offers}`, data: { type: 'offer', sdp: 'memory' } })
      offers++
    }, 100)
    try {
      const bob = await harness.peer()
      await bob.client.open(fileId)
      await bob.until((s) => s.transfers.get(fileId)?.state === 'complete', 15_000)
      const { blob } = await bob.client.fileForSaving(fileId)
      expect(await sha256Hex(new Uint8Array(await blob.arrayBuffer()))).toBe(await sha256Hex(content))
      await alice.until(() => offers >= 40, 10_000)
    } finally {
      clearInterval(flood)
      stopWatching()
      for (const fake of fakes) fake.close()
    }
    expect(mostConnecting).toBeLessThanOrEqual(MAX_PENDING_INCOMING_LINKS)
    // Of 40 offers from each fake over four seconds, alice tried only the first few: failures back off.
    const attempts = fakes.map(
      (fake) => harness.network.created.filter(([self, remote]) => self === alice.peerId && remote === fake.peerId).length,
    )
    expect(attempts.reduce((a, b) => a + b)).toBeGreaterThan(0)
    for (const count of attempts) expect(count).toBeLessThanOrEqual(3)
  },
)

it('a seeder whose connecting slots are full answers an offer "busy" at once, once per peer per interval, rather than let it time out', async () => {
  const alice = await harness.peer(undefined, { connectTimeoutMs: 10_000 })
  const fileId = (await alice.client.share(namedBlob(randomBytes(256 * KiB, 44), 'busy.bin'), LISTED))!
  const url = `ws://127.0.0.1:${harness.service.port}/ws`
  const fakes = await Promise.all(
    Array.from({ length: MAX_PENDING_INCOMING_LINKS + 1 }, async () => {
      const fake = await RawClient.greeted(url)
      await fake.ask({ type: 'locate', id: 1, fileId })
      return fake
    }),
  )
  try {
    const offer = (fake: RawClient, link: string) =>
      fake.send({ type: 'signal', to: alice.peerId, fileId, link, data: { type: 'offer', sdp: 'memory' } })
    // Offers that never complete hold every connecting slot.
    fakes.slice(0, MAX_PENDING_INCOMING_LINKS).forEach((fake, i) => offer(fake, `hold${i}`))
    await alice.until((s) => s.transfers.get(fileId)?.peers.filter((p) => p.status === 'connecting').length === MAX_PENDING_INCOMING_LINKS)
    const late = fakes[MAX_PENDING_INCOMING_LINKS]!
    offer(late, 'late1')
    offer(late, 'late2')
    const isBusy = (m: ServerMessage) => m.type === 'signal' && m.data.type === 'busy'
    expect(await late.next(isBusy)).toMatchObject({ type: 'signal', from: alice.peerId, fileId, link: 'late1' })
    await expect(late.next(isBusy, 1_000)).rejects.toThrow(/no matching message/)
    // The peers holding the slots were not told anything.
    for (const fake of fakes.slice(0, MAX_PENDING_INCOMING_LINKS)) await expect(fake.next(isBusy, 100)).rejects.toThrow()
  } finally {
    for (const fake of fakes) fake.close()
  }
})

it('sends pieces no larger than the far end accepts (older Safari offers 64 KiB messages)', async () => {
  harness.network.messageLimit = 64 * KiB
  const content = randomBytes(5 * 256 * KiB + 1234, 43)
  const alice = await harness.peer()
  const fileId = (await alice.client.share(namedBlob(content, 'small-messages.bin'), LISTED))!
  const bob = await harness.peer()
  await bob.client.open(fileId)
  await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
  const { blob } = await bob.client.fileForSaving(fileId)
  expect(await sha256Hex(new Uint8Array(await blob.arrayBuffer()))).toBe(await sha256Hex(content))
  expect(harness.network.largestFrame).toBeLessThanOrEqual(64 * KiB)
})
