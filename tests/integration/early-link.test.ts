// A peer that joins a swarm is dialled by the others at once, possibly before it has checked and
// stored the manifest its locate brought. It must not open a link (and send a handshake) before it
// knows the file: an empty bitfield is a malformed handshake, and the far end bans it for good.
import { expect, it } from 'vitest'
import type { Manifest } from '../../src/protocol/manifest'
import { MemoryChunkStore } from '../../src/store/memory-store'
import { namedBlob, randomBytes, useEngineHarness } from '../support/engine-harness'

const KiB = 1024
const harness = useEngineHarness()

/** A store that stores a manifest only when `release` is called (storage slow under load). */
class SlowManifestStore extends MemoryChunkStore {
  asked = false
  release!: () => void
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve))

  override async saveManifest(fileId: string, manifest: Manifest): Promise<void> {
    this.asked = true
    await this.gate
    return super.saveManifest(fileId, manifest)
  }
}

it('a peer still storing the manifest is not linked to before it knows the file, and nobody bans it', async () => {
  const content = randomBytes(40 * 256 * KiB, 81)
  // Alice shares; Carol downloads slowly (capped), so she is still fetching and dialling when Bob joins.
  const alice = await harness.peer()
  const fileId = (await alice.client.share(namedBlob(content, 'early.bin'), { listed: true }))!
  const carol = await harness.peer()
  carol.client.setLimits({ up: undefined, down: 256 * KiB })
  await carol.client.open(fileId)
  await carol.until((s) => (s.transfers.get(fileId)?.have ?? 0) >= 1)

  const store = new SlowManifestStore()
  const bob = await harness.peer(store)
  await bob.client.open(fileId)
  await bob.until(() => store.asked)
  // Carol hears that Bob joined and dials him while his manifest is still being stored.
  await carol.until(() => harness.network.created.some(([self, remote]) => self === carol.peerId && remote === bob.peerId))
  store.release()
  await bob.until((s) => s.transfers.get(fileId)?.state === 'complete', 20_000)
  const bobAtCarol =
    carol.client
      .snapshot()
      .transfers.get(fileId)
      ?.peers.filter((peer) => peer.peerId === bob.peerId) ?? []
  expect(bobAtCarol.filter((peer) => peer.status === 'skipped')).toEqual([])
})
