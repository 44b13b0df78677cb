// A swarm made of plain WebSocket clients on the real tracker: one sharer holding every chunk and
// downloaders holding part of the file, reporting upload rates to each other. The swarm view
// draws it exactly as it draws tabs (tests and screenshots of a class without thirty browsers).
import { fileIdOf, type Manifest } from '../../src/protocol/manifest'
import type { ServerMessageOf } from '../../src/protocol/tracker'
import { RawClient } from './raw-client'

export interface FedSwarm {
  fileId: string
  members: RawClient[]
  /** Reports the upload rates again (the tracker forgets them after 5 s). */
  reportRates(): void
  close(): void
}

const CHUNKS = 64

/** A deterministic stand-in for randomness, so the same call draws the same swarm. */
function sequence(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9
    return ((state >>> 0) % 10_000) / 10_000
  }
}

export async function feedSwarm(wsUrl: string, count: number, name = 'lecture-recording.mp4'): Promise<FedSwarm> {
  const manifest: Manifest = {
    v: 1,
    name,
    size: CHUNKS * 262_144,
    type: 'video/mp4',
    chunkSize: 262_144,
    hashes: Array.from({ length: CHUNKS }, (_, i) => (i % 256).toString(16).padStart(2, '0').repeat(32)),
  }
  const fileId = await fileIdOf(manifest)
  const random = sequence(count)
  const members: RawClient[] = []
  const sharer = await RawClient.greeted(wsUrl)
  await sharer.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest })
  members.push(sharer)
  for (let i = 1; i < count; i++) {
    const member = await RawClient.greeted(wsUrl)
    await member.ask({ type: 'locate', id: 1, fileId })
    // Some have it all, some nearly nothing: a class mid-way.
    const share = i % 7 === 0 ? 1 : random()
    const indexes = Array.from({ length: CHUNKS }, (_, index) => index).filter(() => random() < share)
    if (indexes.length > 0) member.send({ type: 'have', fileId, indexes })
    members.push(member)
  }
  const rates = members.map((_, i) => {
    const targets = i === 0 ? [1, 2, 3] : random() < 0.5 ? [Math.floor(random() * count)] : []
    return targets.filter((target) => target !== i && target < count).map((target) => ({ target, rate: 200_000 + random() * 2_000_000 }))
  })
  const reportRates = () =>
    members.forEach((member, i) => {
      const links = rates[i]!.map(({ target, rate }) => ({ to: members[target]!.peerId, rate: Math.round(rate) }))
      if (links.length > 0) member.send({ type: 'rates', fileId, links })
    })
  reportRates()
  return { fileId, members, reportRates, close: () => members.forEach((member) => member.close()) }
}
