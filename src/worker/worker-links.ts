import type { LinkStats, PeerLink, PeerLinkEvents, PeerLinkFactory, PeerLinkOptions } from '../core/ports'
import type { SignalData } from '../protocol/tracker'
import { ChannelPump, type DataChannelLike } from '../net/wire-channel'
import type { PageToWorker, WorkerToPage } from './messages'

/** How long the page may take to say how a link goes. */
const STATS_TIMEOUT_MS = 5_000

type LinkMessage = Extract<PageToWorker, { linkId: number }>

/**
 * Peer links as the worker sees them: the page makes each RTCPeerConnection (only a window can) and
 * relays its signals; the wire's channel is transferred here, so frames never cross the page.
 * Where a browser cannot transfer channels, the page forwards each message instead (moved, not
 * copied) and `ForwardedChannel` stands in for the channel.
 */
export class WorkerLinks implements PeerLinkFactory {
  private readonly links = new Map<number, WorkerLink>()
  private nextId = 1

  constructor(private readonly post: (message: WorkerToPage) => void) {}

  create(options: PeerLinkOptions, events: PeerLinkEvents): PeerLink {
    const pageLinkId = this.nextId++
    const link = new WorkerLink(pageLinkId, options, events, this.post, () => this.links.delete(pageLinkId))
    this.links.set(pageLinkId, link)
    this.post({ type: 'link-create', linkId: pageLinkId, initiator: options.initiator, iceServers: options.iceServers })
    return link
  }

  handle(message: LinkMessage): void {
    this.links.get(message.linkId)?.handle(message)
  }
}

class WorkerLink implements PeerLink {
  private pump: ChannelPump | undefined
  private forwarded: ForwardedChannel | undefined
  private maxMessage: number | undefined
  private pageOpen = false
  private closed = false
  private statsWaiters: ((stats: LinkStats | undefined) => void)[] = []
  readonly remoteId: string
  readonly linkId: string

  constructor(
    /** Names the link in messages with the page. */
    private readonly pageLinkId: number,
    options: PeerLinkOptions,
    private readonly events: PeerLinkEvents,
    private readonly post: (message: WorkerToPage) => void,
    private readonly forget: () => void,
  ) {
    this.remoteId = options.remoteId
    this.linkId = options.linkId
  }

  get open(): boolean {
    return !this.closed && this.pageOpen && (this.pump?.open ?? false)
  }

  get queuedBytes(): number {
    return this.pump?.queuedBytes ?? 0
  }

  get maxMessageBytes(): number | undefined {
    return this.maxMessage
  }

  send(frame: Uint8Array<ArrayBuffer>): void {
    this.pump?.send(frame)
  }

  signal(data: SignalData): void {
    if (!this.closed) this.post({ type: 'link-signal', linkId: this.pageLinkId, data })
  }

  stats(): Promise<LinkStats | undefined> {
    if (this.closed) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), STATS_TIMEOUT_MS)
      this.statsWaiters.push((stats) => {
        clearTimeout(timer)
        resolve(stats)
      })
      this.post({ type: 'link-stats', linkId: this.pageLinkId })
    })
  }

  close(): void {
    this.finish('closed here', true)
  }

  handle(message: LinkMessage): void {
    if (this.closed) return
    switch (message.type) {
      case 'link-signal':
        return this.events.onSignal(message.data)
      case 'link-channel':
        return this.attach(message.channel as unknown as DataChannelLike)
      case 'link-open':
        this.maxMessage = message.maxMessageBytes
        this.pageOpen = true
        // A transferred channel: open once both are. Without one, the forwarded channel opens now,
        // and its 'open' reports the link open (once).
        if (this.pump) return this.openedIfReady()
        this.attach((this.forwarded = new ForwardedChannel(this.pageLinkId, this.post)))
        return this.forwarded.opened()
      case 'link-data':
        return this.forwarded?.received(message.data)
      case 'link-sent':
        return this.forwarded?.sent(message.bytes)
      case 'link-stats':
        for (const waiter of this.statsWaiters.splice(0)) waiter({ route: message.route, path: message.path, rttMs: message.rttMs })
        return
      case 'link-closed':
        return this.finish(message.reason, false)
    }
  }

  private attach(channel: DataChannelLike): void {
    this.pump = new ChannelPump(channel, {
      onOpen: () => this.openedIfReady(),
      onData: (bytes) => this.events.onData(bytes),
      onDrain: () => this.events.onDrain(),
      onClose: (reason) => this.finish(reason, true),
    })
  }

  /** Open once the channel is and the page has said how large a message may be. */
  private openedIfReady(): void {
    if (this.open) this.events.onOpen()
  }

  private finish(reason: string, tellPage: boolean): void {
    if (this.closed) return
    this.closed = true
    this.pump?.close()
    for (const waiter of this.statsWaiters.splice(0)) waiter(undefined)
    if (tellPage) this.post({ type: 'link-close', linkId: this.pageLinkId })
    this.forget()
    this.events.onClose(reason)
  }
}

/**
 * The wire's channel where the page keeps it: frames are posted to the page (moved), and the
 * page says how many bytes have left its channel, which is what `bufferedAmount` counts here.
 */
class ForwardedChannel implements DataChannelLike {
  readyState = 'connecting'
  binaryType = 'arraybuffer'
  bufferedAmountLowThreshold = 0
  private posted = 0
  private left = 0
  private readonly listeners = new Map<string, ((event: MessageEvent) => void)[]>()

  constructor(
    private readonly linkId: number,
    private readonly post: (message: WorkerToPage) => void,
  ) {}

  get bufferedAmount(): number {
    return this.posted - this.left
  }

  send(frame: Uint8Array<ArrayBuffer>): void {
    const whole = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength ? frame.buffer : frame.slice().buffer
    this.posted += frame.byteLength
    this.post({ type: 'link-send', linkId: this.linkId, frame: whole })
  }

  close(): void {
    if (this.readyState === 'closed') return
    this.readyState = 'closed'
    this.emit('close')
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }

  opened(): void {
    if (this.readyState !== 'connecting') return
    this.readyState = 'open'
    this.emit('open')
  }

  received(data: ArrayBuffer): void {
    this.emit('message', new MessageEvent('message', { data }))
  }

  /** The page's count of bytes that have left its channel. */
  sent(bytes: number): void {
    this.left = Math.min(this.posted, bytes)
    if (this.bufferedAmount <= this.bufferedAmountLowThreshold) this.emit('bufferedamountlow')
  }

  private emit(type: string, event = new MessageEvent(type)): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event)
  }
}
