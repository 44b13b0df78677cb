import type SimplePeer from '@thaunknown/simple-peer/lite.js'
import { maxMessageBytesOf, statsOf } from '../net/peer-route'
import { openWirePeer, rtcConfiguration, watchSignaling } from '../net/simple-peer-link'
import type { DataChannelLike } from '../net/wire-channel'
import type { PageToWorker, WorkerToPage } from './messages'

/** In forwarding mode, how soon after a send the page reports the bytes that left its channel. */
const SENT_REPORT_MS = 10

type LinkCommand = Extract<WorkerToPage, { linkId: number }>

interface PageLink {
  peer: SimplePeer
  /** Kept here only where the browser cannot transfer it to the worker. */
  channel: DataChannelLike | undefined
  sentBytes: number
  report: ReturnType<typeof setTimeout> | undefined
}

/**
 * The page's half of the worker's peer links: it makes each RTCPeerConnection (a worker cannot)
 * with simple-peer, and hands the wire's channel to the worker in the task that created it.
 * Feature-detected: where the transfer throws, it forwards the channel's messages instead.
 */
export class PageLinks {
  private readonly links = new Map<number, PageLink>()

  constructor(
    private readonly post: (message: PageToWorker, transfer?: Transferable[]) => void,
    private readonly relayOnly: boolean,
  ) {}

  handle(command: LinkCommand): void {
    if (command.type === 'link-create') return this.create(command.linkId, command.initiator, command.iceServers)
    const link = this.links.get(command.linkId)
    if (!link) return
    switch (command.type) {
      case 'link-signal':
        return link.peer.signal(command.data)
      case 'link-send':
        return this.forward(command.linkId, link, command.frame)
      case 'link-stats':
        void this.stats(command.linkId, link)
        return
      case 'link-close':
        return this.close(command.linkId, undefined)
    }
  }

  /** Closes every link (the worker that owned them is gone). */
  closeAll(): void {
    for (const linkId of [...this.links.keys()]) this.close(linkId, undefined)
  }

  private create(linkId: number, initiator: boolean, iceServers: RTCIceServer[]): void {
    const { peer, channel } = openWirePeer(initiator, rtcConfiguration(iceServers, this.relayOnly))
    const link: PageLink = { peer, channel: undefined, sentBytes: 0, report: undefined }
    this.links.set(linkId, link)
    try {
      this.post({ type: 'link-channel', linkId, channel: channel as unknown as RTCDataChannel }, [channel as unknown as Transferable])
    } catch {
      link.channel = channel
      this.forwardFrom(linkId, link, channel)
    }
    watchSignaling(
      peer,
      (data) => this.post({ type: 'link-signal', linkId, data }),
      (reason) => this.close(linkId, reason),
    )
    if (!link.channel) peer.on('connect', () => this.opened(linkId, link))
  }

  private opened(linkId: number, link: PageLink): void {
    const maxMessageBytes = maxMessageBytesOf(link.peer._pc ?? undefined)
    this.post({ type: 'link-open', linkId, ...(maxMessageBytes ? { maxMessageBytes } : {}) })
  }

  private forwardFrom(linkId: number, link: PageLink, channel: DataChannelLike): void {
    channel.addEventListener('open', () => this.opened(linkId, link))
    channel.addEventListener('message', (event) => {
      if (event.data instanceof ArrayBuffer) this.post({ type: 'link-data', linkId, data: event.data }, [event.data])
    })
    channel.addEventListener('close', () => this.close(linkId, 'the connection closed'))
    channel.bufferedAmountLowThreshold = 0
    channel.addEventListener('bufferedamountlow', () => this.reportSent(linkId, link))
  }

  private forward(linkId: number, link: PageLink, frame: ArrayBuffer): void {
    if (!link.channel || link.channel.readyState !== 'open') return
    try {
      link.channel.send(new Uint8Array(frame))
    } catch (error) {
      this.close(linkId, `sending failed: ${(error as Error).message}`)
      return
    }
    link.sentBytes += frame.byteLength
    link.report ??= setTimeout(() => this.reportSent(linkId, link), SENT_REPORT_MS)
  }

  /** Tells the worker how many bytes have left the channel, which is what it counts as sent. */
  private reportSent(linkId: number, link: PageLink): void {
    clearTimeout(link.report)
    link.report = undefined
    if (!link.channel) return
    this.post({ type: 'link-sent', linkId, bytes: link.sentBytes - link.channel.bufferedAmount })
    if (link.channel.bufferedAmount > 0) link.report = setTimeout(() => this.reportSent(linkId, link), SENT_REPORT_MS)
  }

  private async stats(linkId: number, link: PageLink): Promise<void> {
    const pc = link.peer._pc
    const stats = pc ? await statsOf(pc).catch(() => undefined) : undefined
    const known = {
      ...(stats?.route ? { route: stats.route } : {}),
      ...(stats?.path ? { path: stats.path } : {}),
      ...(stats?.rttMs !== undefined ? { rttMs: stats.rttMs } : {}),
    }
    this.post({ type: 'link-stats', linkId, ...known })
  }

  private close(linkId: number, reason: string | undefined): void {
    const link = this.links.get(linkId)
    if (!link) return
    this.links.delete(linkId)
    clearTimeout(link.report)
    link.peer.destroy()
    if (reason !== undefined) this.post({ type: 'link-closed', linkId, reason })
  }
}
