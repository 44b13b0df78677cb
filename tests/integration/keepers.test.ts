import { describe, expect, it, vi } from 'vitest'
import { sha256Hex } from '../../src/protocol/encoding'
import { bytesOf, namedBlob, randomBytes, useEngineHarness } from '../support/engine-harness'

const KiB = 1024
const harness = useEngineHarness()
const POLL_MS = 100

describe('keepers with space', () => {
  it(
    'take on the file with the fewest copies, let go of a more common one when full, and never learn a private file it was not offered',
    { timeout: 30_000 },
    async () => {
      const size = 4 * 256 * KiB
      const listed = randomBytes(size, 71)
      const alice = await harness.peer()
      const listedId = (await alice.client.share(namedBlob(listed, 'handout.pdf'), { listed: true }))!
      const bob = await harness.peer()
      await bob.client.open(listedId)
      await bob.until((s) => s.transfers.get(listedId)?.state === 'complete')

      // Room for one file of about 1 MiB (a private one is 17 bytes a chunk longer), not two.
      const space = 1_100_000
      const keeper = await harness.peer(undefined, { keeperPollMs: POLL_MS })
      keeper.client.setKeeping(space)
      const first = await keeper.until((s) => s.transfers.get(listedId)?.complete === true)
      expect(first.transfers.get(listedId)!.kept).toBe(true)
      expect(first.keeping).toEqual({ space, used: size, files: 1 })

      // Three copies of the listed file now; a private file a sharer opened to keepers has one.
      const carol = await harness.peer()
      const open = randomBytes(size, 72)
      const openId = (await carol.client.share(namedBlob(open, 'lecture.webm'), { keepers: true }))!
      const openKey = carol.client.snapshot().shares[0]!.secret!
      const closedId = (await carol.client.share(namedBlob(randomBytes(size, 73), 'diary.txt')))!
      const second = await keeper.until((s) => s.transfers.get(openId)?.complete === true && !s.transfers.has(listedId))
      expect(second.transfers.get(openId)).toMatchObject({ kept: true, secret: undefined })
      expect(await keeper.store.storedChunks(listedId)).toEqual([])
      expect(second.keeping).toEqual({ space, used: second.transfers.get(openId)!.size, files: 1 })
      // The private file its sharer did not open to keepers is never offered.
      const offered = await keeper.tracker.request({ type: 'wanted' })
      const offeredIds = offered.type === 'wanted' ? offered.files.map((file) => file.fileId) : []
      expect(offeredIds).toEqual(expect.arrayContaining([openId, listedId]))
      expect(offeredIds).not.toContain(closedId)
      expect(keeper.client.snapshot().transfers.has(closedId)).toBe(false)

      // The sharer leaves: a friend with the link gets the file from the keeper alone, identical.
      carol.close()
      const friend = await harness.peer()
      await friend.client.open(openId, openKey)
      const done = await friend.until((s) => s.transfers.get(openId)?.state === 'complete', 15_000)
      expect(done.transfers.get(openId)!.peers.map((p) => p.peerId)).toEqual([keeper.peerId])
      const { blob } = await friend.client.fileForSaving(openId)
      expect(await sha256Hex(await bytesOf(blob))).toBe(await sha256Hex(open))

      // Given less space than it holds, it lets go of what no longer fits and frees the storage.
      keeper.client.setKeeping(100_000)
      const shrunk = await keeper.until((s) => !s.transfers.has(openId))
      expect(shrunk.keeping).toEqual({ space: 100_000, used: 0, files: 0 })
      await vi.waitFor(async () => expect(await keeper.store.storedChunks(openId)).toEqual([]))
    },
  )
})
