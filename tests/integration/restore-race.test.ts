// A file reopened from the library while the tracker comes online: the locate that going online
// starts must not begin the download again from nothing before the stored chunks are read.
import { expect, it } from 'vitest'
import { MemoryChunkStore } from '../../src/store/memory-store'
import { namedBlob, randomBytes, useEngineHarness } from '../support/engine-harness'

const KiB = 1024
const harness = useEngineHarness()

/** A store whose list of stored chunks is read only when `open` is called (storage slow under load). */
class SlowStore extends MemoryChunkStore {
  opened = false
  private release!: () => void
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve))

  open(): void {
    this.opened = true
    this.release()
  }

  override async storedChunks(fileId: string): Promise<number[]> {
    await this.gate
    return super.storedChunks(fileId)
  }
}

it('a library file whose stored chunks are read after the tracker came online fetches none of them again', async () => {
  const content = randomBytes(6 * 256 * KiB, 71)
  const alice = await harness.peer()
  const fileId = (await alice.client.share(namedBlob(content, 'kept.bin'), { listed: true }))!
  const store = new SlowStore()
  store.open()
  const bob = await harness.peer(store)
  await bob.client.open(fileId)
  await bob.until((s) => s.transfers.get(fileId)?.state === 'complete')
  bob.close()

  // The same storage reopened, its chunk list read only once the tracker is online.
  const slow = new SlowStore()
  for (const entry of await store.listEntries()) await slow.saveEntry(entry)
  await slow.saveManifest(fileId, (await store.loadManifest(fileId))!)
  for (const index of await store.storedChunks(fileId)) await slow.putChunk(fileId, index, (await store.readChunk(fileId, index))!)
  const locatedUnread: string[] = []
  const again = await harness.peer(slow, {
    beforeStart: (tracker) => {
      const request = tracker.request.bind(tracker)
      tracker.request = (message) => {
        if (message.type === 'locate' && !slow.opened) locatedUnread.push(message.fileId)
        return request(message)
      }
    },
  })
  const seen: number[] = []
  again.client.subscribe(() => {
    const view = again.client.snapshot().transfers.get(fileId)
    if (view && view.total > 0) seen.push(view.have)
  })
  // Online now, the stored chunks not yet read. Going online runs its follow-ups in microtasks:
  // after one turn of the event loop, a locate it started would have been sent (before the fix it
  // was, and its answer adopted the file with nothing held).
  await new Promise((resolve) => setImmediate(resolve))
  expect(locatedUnread).toEqual([])
  slow.open()
  const done = await again.until((s) => s.transfers.get(fileId)?.state === 'complete')
  expect(done.transfers.get(fileId)).toMatchObject({ have: 6, bytesDown: 0 })
  expect(Math.min(...seen)).toBe(6)
})
