import { describe, expect, it } from 'vitest'
import type { PeerLinkEvents } from '../../src/core/ports'
import type { WorkerToPage } from '../../src/worker/messages'
import { WorkerLinks } from '../../src/worker/worker-links'

// The worker's side of a peer link whose channel the page keeps and forwards.

function link() {
  const posted: WorkerToPage[] = []
  const seen = { opened: 0, data: [] as number[][], drained: 0 }
  const events: PeerLinkEvents = {
    onSignal: () => undefined,
    onOpen: () => seen.opened++,
    onData: (bytes) => seen.data.push([...bytes]),
    onDrain: () => seen.drained++,
    onClose: () => undefined,
  }
  const links = new WorkerLinks((message) => posted.push(message))
  const peer = links.create({ initiator: true, remoteId: 'r', linkId: 'first', fileId: 'ab'.repeat(32), iceServers: [] }, events)
  const linkId = (posted[0] as Extract<WorkerToPage, { type: 'link-create' }>).linkId
  return { links, peer, posted, seen, linkId }
}

describe('a forwarded link in the worker', () => {
  it('opens once when the page says so, with the far end’s message size', () => {
    const { links, peer, seen, linkId } = link()
    expect(peer.open).toBe(false)
    links.handle({ type: 'link-open', linkId, maxMessageBytes: 65536 })
    expect(seen.opened).toBe(1)
    expect(peer.open).toBe(true)
    expect(peer.maxMessageBytes).toBe(65536)
  })

  it('moves frames to the page, counts them as buffered until the page says they left, and hands up what arrives', async () => {
    const { links, peer, posted, seen, linkId } = link()
    links.handle({ type: 'link-open', linkId })
    peer.send(new Uint8Array([1, 2, 3]))
    expect(posted.some((message) => message.type === 'link-send')).toBe(false) // frames of one task go out together
    await Promise.resolve()
    const sent = posted.find((message) => message.type === 'link-send') as Extract<WorkerToPage, { type: 'link-send' }>
    expect([...new Uint8Array(sent.frame)]).toEqual([1, 2, 3])
    expect(peer.queuedBytes).toBe(3)
    links.handle({ type: 'link-sent', linkId, bytes: 3 })
    expect(peer.queuedBytes).toBe(0)
    links.handle({ type: 'link-data', linkId, data: new Uint8Array([9, 8]).buffer })
    expect(seen.data).toEqual([[9, 8]])
  })

  it('asks the page how its link goes, and hands back the route and round trip it says', async () => {
    const { links, peer, posted, linkId } = link()
    const stats = peer.stats()
    expect(posted.at(-1)).toEqual({ type: 'link-stats', linkId })
    links.handle({ type: 'link-stats', linkId, route: 'relayed', path: 'turn', rttMs: 42 })
    expect(await stats).toEqual({ route: 'relayed', path: 'turn', rttMs: 42 })
    expect(peer.linkId).toBe('first')
  })
})
