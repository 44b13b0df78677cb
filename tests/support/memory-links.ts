import type { LinkStats, PeerLink, PeerLinkEvents, PeerLinkFactory } from '../../src/core/ports'
import type { SignalData } from '../../src/protocol/tracker'

/**
 * Peer links in memory: the same PeerLinkFactory contract as WebRTC, so the engine can be
 * tested with real tracker traffic but no browser. Offers and answers go through the tracker
 * as they would for WebRTC; data is delivered asynchronously, one frame at a time, in order.
 */
export class MemoryNetwork {
  private readonly links = new Map<string, MemoryLink>()
  /** Rewrites frames in flight from `from` (for tests of corrupt peers); return the frame to deliver. */
  tamper: ((from: string, frame: Uint8Array) => Uint8Array) | undefined
  framesDelivered = 0
  /** The largest message a link carries, as `maxMessageSize` reports it (older Safari: 64 KiB); a larger one breaks the link. */
  messageLimit: number | undefined
  /** The largest frame any link was asked to send. */
  largestFrame = 0
  /** Every link made, as [its peer, the remote peer, whether it dialled, its link id]. */
  readonly created: [string, string, boolean, string][] = []
  /** Peers whose frames vanish while their links still look open (a tab gone without a goodbye). */
  readonly silenced = new Set<string>()
  /** Peers no link reaches: their links never open (routers that let no WebRTC through). */
  readonly unreachable = new Set<string>()

  factoryFor(selfId: () => string | undefined): PeerLinkFactory {
    return {
      create: ({ initiator, remoteId, linkId }, events) => {
        const self = selfId()
        if (!self) throw new Error('no peer id yet')
        const link = new MemoryLink(this, self, remoteId, linkId, events)
        this.created.push([self, remoteId, initiator, linkId])
        this.links.set(MemoryNetwork.key(self, remoteId, linkId), link)
        if (initiator) queueMicrotask(() => events.onSignal({ type: 'offer', sdp: 'memory' }))
        return link
      },
    }
  }

  /** Closes every link of a peer, as when its tab goes away. */
  disconnect(peerId: string): void {
    for (const link of this.links.values()) if (link.self === peerId || link.remoteId === peerId) link.close()
  }

  private static key(self: string, remoteId: string, linkId: string): string {
    return `${self}->${remoteId}#${linkId}`
  }

  counterpart(link: MemoryLink): MemoryLink | undefined {
    return this.links.get(MemoryNetwork.key(link.remoteId, link.self, link.linkId))
  }

  forget(link: MemoryLink): void {
    const key = MemoryNetwork.key(link.self, link.remoteId, link.linkId)
    if (this.links.get(key) === link) this.links.delete(key)
  }
}

class MemoryLink implements PeerLink {
  async stats(): Promise<LinkStats> {
    return { route: 'direct', path: 'host', rttMs: undefined }
  }

  open = false
  closed = false
  queuedBytes = 0

  get maxMessageBytes(): number | undefined {
    return this.network.messageLimit
  }
  /** The link at the other end once connected; only it closes with this one, as with WebRTC. */
  partner: MemoryLink | undefined

  constructor(
    private readonly network: MemoryNetwork,
    readonly self: string,
    readonly remoteId: string,
    readonly linkId: string,
    private readonly events: PeerLinkEvents,
  ) {}

  signal(data: SignalData): void {
    if (this.closed) return
    const other = this.network.counterpart(this)
    if (data.type === 'offer') queueMicrotask(() => this.events.onSignal({ type: 'answer', sdp: 'memory' }))
    const blocked = this.network.unreachable.has(this.self) || this.network.unreachable.has(this.remoteId)
    if ((data.type === 'offer' || data.type === 'answer') && other && !other.closed && !blocked) {
      queueMicrotask(() => {
        if (this.closed || other.closed) return
        this.partner = other
        other.partner = this
        for (const link of [this, other]) {
          if (!link.open) {
            link.open = true
            link.events.onOpen()
          }
        }
      })
    }
  }

  send(frame: Uint8Array<ArrayBuffer>): void {
    if (!this.open) return
    this.network.largestFrame = Math.max(this.network.largestFrame, frame.length)
    // As a data channel does with a message over the far end's limit.
    if (this.network.messageLimit !== undefined && frame.length > this.network.messageLimit) return this.close()
    const other = this.partner
    const copy = (this.network.tamper?.(this.self, frame) ?? frame).slice()
    this.queuedBytes += copy.length
    setTimeout(() => {
      this.queuedBytes -= copy.length
      if (this.closed || !other?.open || this.network.silenced.has(this.self) || this.network.silenced.has(this.remoteId)) return
      this.network.framesDelivered++
      other.events.onData(copy)
      if (this.queuedBytes === 0) this.events.onDrain()
    }, 0)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.open = false
    this.network.forget(this)
    this.events.onClose('closed')
    this.partner?.close()
  }
}
