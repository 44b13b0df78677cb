// The tracker's chunk news reaches a downloader's view of who holds what, for members it is not connected to.
import { expect, it } from 'vitest'
import type { Manifest } from '../../src/protocol/manifest'
import type { ServerMessageOf } from '../../src/protocol/tracker'
import { useEngineHarness } from '../support/engine-harness'
import { RawClient } from '../support/raw-client'

const harness = useEngineHarness()

it('chunks that other members announce or lose through the tracker show in the piece map’s holder counts', async () => {
  const url = `ws://127.0.0.1:${harness.service.port}/ws`
  const manifest: Manifest = {
    v: 1,
    name: 'slides.pdf',
    size: 4 * 262144,
    type: 'application/pdf',
    chunkSize: 262144,
    hashes: ['01', '02', '03', '04'].map((h) => h.repeat(32)),
  }
  // Members that never answer a connection: what bob knows of them comes from the tracker alone.
  const sharer = await RawClient.greeted(url)
  const { fileId } = await sharer.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest })
  const bob = await harness.peer()
  await bob.client.open(fileId)
  const availability = () => bob.client.pieceMap(fileId)?.cells.map((cell) => cell.availability)
  await bob.until(() => availability()?.join() === '1,1,1,1')
  const carol = await RawClient.greeted(url)
  try {
    await carol.ask({ type: 'locate', id: 2, fileId })
    carol.send({ type: 'have', fileId, indexes: [0, 2] })
    await bob.until(() => availability()?.join() === '2,1,2,1')
    carol.send({ type: 'lost', fileId, indexes: [2] })
    await bob.until(() => availability()?.join() === '2,1,1,1')
  } finally {
    sharer.close()
    carol.close()
  }
})
