import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../src/protocol/encoding'
import { bytesOf, namedBlob, randomBytes, useEngineHarness } from '../support/engine-harness'

const KiB = 1024
const harness = useEngineHarness()

describe('playback priority', () => {
  it('a player seeking to 80 % gets the chunks there before the ones in between, then the whole file', { timeout: 30_000 }, async () => {
    const chunks = 40
    const content = randomBytes(chunks * 256 * KiB, 81)
    const alice = await harness.peer()
    alice.client.setLimits({ up: 2_000_000, down: undefined })
    const fileId = (await alice.client.share(namedBlob(content, 'lecture.webm')))!
    const secret = alice.client.snapshot().shares[0]!.secret!
    const bob = await harness.peer()
    await bob.client.open(fileId, secret)
    const started = await bob.until((s) => (s.transfers.get(fileId)?.have ?? 0) >= 1)
    const { total, size } = started.transfers.get(fileId)!
    expect(total).toBe(chunks + 1) // a private file's chunks are 17 bytes shorter: one more of them

    // A duration of 2 s per chunk makes the 8 s window four chunks long.
    const seekTo = Math.floor(size * 0.8)
    bob.client.mediaDuration(fileId, total * 2)
    // The player's request at the new place: a read that waits there.
    const reader = bob.client.readable(fileId)!.read(seekTo, size)
    const firstBytes = reader.next()
    const first = Math.floor(seekTo / started.transfers.get(fileId)!.chunkSize)
    const window = [first, first + 1, first + 2, first + 3]
    const held = () => window.filter((index) => bob.client.pieceMap(fileId)!.cells[index]!.state === 'have').length
    const arrived = await bob.until(() => held() === window.length)
    // Rarest first alone would leave the four at random places in the order (all within the first
    // 12 of 41 about once in 140 runs); here they come next, after what was already on its way.
    expect(arrived.transfers.get(fileId)!.have).toBeLessThanOrEqual(12)

    expect((await firstBytes).value?.length).toBeGreaterThan(0)
    await reader.return(undefined)

    await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
    const { blob } = await bob.client.fileForSaving(fileId)
    expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(content))
  })
})
