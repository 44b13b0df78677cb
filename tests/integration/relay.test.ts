// Peers no direct connection reaches: the engine falls back to the service's relay (its own
// WebSocket, the real one), and goes back to a direct link once one opens.
import { expect, it } from 'vitest'
import { sha256Hex } from '../../src/protocol/encoding'
import { namedBlob, randomBytes, useEngineHarness } from '../support/engine-harness'

const KiB = 1024
const harness = useEngineHarness()

/** Alice shares `content` privately; Bob, whom no WebRTC connection reaches, opens its link. */
async function unreachablePair(content: Uint8Array, name: string) {
  const alice = await harness.peer(undefined, { connectTimeoutMs: 500 })
  const fileId = (await alice.client.share(namedBlob(content, name)))!
  const secret = alice.client.snapshot().transfers.get(fileId)!.secret
  const bob = await harness.peer(undefined, { connectTimeoutMs: 500 })
  harness.network.unreachable.add(bob.peerId)
  await bob.client.open(fileId, secret)
  return { bob, fileId }
}

it('a pair no WebRTC connection reaches moves the file through the relay, and says so', { timeout: 30_000 }, async () => {
  const content = randomBytes(12 * 256 * KiB, 91)
  const { bob, fileId } = await unreachablePair(content, 'relayed.bin')
  const relayed = await bob.until((s) => s.transfers.get(fileId)?.notice?.kind === 'relayed', 20_000)
  expect(relayed.transfers.get(fileId)!.notice).toEqual({ kind: 'relayed', bytesPerSecond: 1024 * 1024 })
  await bob.until((s) => s.transfers.get(fileId)?.peers.some((peer) => peer.path === 'server') ?? false)
  await bob.until((s) => s.transfers.get(fileId)?.state === 'complete', 20_000)
  const { blob } = await bob.client.fileForSaving(fileId)
  expect(await sha256Hex(new Uint8Array(await blob.arrayBuffer()))).toBe(await sha256Hex(content))
  // The first attempt was direct and failed; nothing went through WebRTC.
  expect(harness.network.framesDelivered).toBe(0)
  expect(harness.service.tracker.relay?.stats().bytes).toBeGreaterThan(content.length)
})

it('a relayed pair goes over to a direct link once one opens, and the relay lane closes', { timeout: 60_000 }, async () => {
  const content = randomBytes(40 * 256 * KiB, 92)
  const alice = await harness.peer(undefined, { connectTimeoutMs: 500 })
  const fileId = (await alice.client.share(namedBlob(content, 'later-direct.bin'), { listed: true }))!
  const bob = await harness.peer(undefined, { connectTimeoutMs: 500 })
  bob.client.setLimits({ up: undefined, down: 300 * KiB })
  harness.network.unreachable.add(bob.peerId)
  await bob.client.open(fileId)
  await bob.until((s) => s.transfers.get(fileId)?.peers.some((peer) => peer.path === 'server') ?? false, 20_000)
  // The network lets WebRTC through now: within the direct retry interval a direct lane takes over.
  harness.network.unreachable.delete(bob.peerId)
  await bob.until(
    (s) => s.transfers.get(fileId)?.peers.some((peer) => peer.status === 'connected' && peer.path === 'host') ?? false,
    40_000,
  )
  bob.client.setLimits({ up: undefined, down: undefined })
  await bob.until((s) => s.transfers.get(fileId)?.state === 'complete', 20_000)
  expect(
    bob.client
      .snapshot()
      .transfers.get(fileId)!
      .peers.filter((peer) => peer.path === 'server'),
  ).toEqual([])
  expect(harness.network.framesDelivered).toBeGreaterThan(0)
})

it(
  'the first link through the relay carries the file: it is not closed as gone because its first frames outran the far end’s socket',
  { timeout: 30_000 },
  async () => {
    const content = randomBytes(3 * 256 * KiB, 93)
    const { bob, fileId } = await unreachablePair(content, 'first-relay.bin')
    await bob.until(
      (s) => s.transfers.get(fileId)?.peers.some((peer) => peer.status === 'connected' && peer.path === 'server') ?? false,
      20_000,
    )
    let lost = false
    await bob.until((s) => {
      const transfer = s.transfers.get(fileId)
      if (!transfer?.peers.some((peer) => peer.status === 'connected' && peer.path === 'server')) lost = true
      return transfer?.state === 'complete'
    }, 20_000)
    expect(lost).toBe(false)
  },
)
