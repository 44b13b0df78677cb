import SimplePeer from '@thaunknown/simple-peer/lite.js'
import type { LinkStats, PeerLink, PeerLinkEvents, PeerLinkFactory, PeerLinkOptions } from '../core/ports'
import { signalDataSchema, type SignalData } from '../protocol/tracker'
import { maxMessageBytesOf, statsOf } from './peer-route'
import { ChannelPump, createWireChannel, type DataChannelLike } from './wire-channel'

/** A WebRTC connection made with simple-peer, and the wire's own channel on it, created in the same task. */
export interface WirePeer {
  peer: SimplePeer
  channel: DataChannelLike
}

export function openWirePeer(initiator: boolean, config: RTCConfiguration, wrtc?: object): WirePeer {
  const peer = new SimplePeer({ initiator, trickle: true, config, channelConfig: { ordered: true }, ...(wrtc ? { wrtc } : {}) })
  return { peer, channel: createWireChannel(peer._pc!) }
}

/** Relays simple-peer's signals, checked, and reports its end (error or close) once. */
export function watchSignaling(peer: SimplePeer, onSignal: (data: SignalData) => void, onEnd: (reason: string) => void): void {
  peer.on('signal', (data) => {
    const parsed = signalDataSchema.safeParse(data)
    if (parsed.success) onSignal(parsed.data)
  })
  peer.on('error', (error) => onEnd(error.code ? `${error.code}: ${error.message}` : error.message))
  peer.on('close', () => onEnd('the connection closed'))
}

/** One peer link in this thread: simple-peer for signaling, the wire's channel for the frames. */
class SimplePeerLink implements PeerLink {
  private readonly pump: ChannelPump
  private readonly peer: SimplePeer
  private closed = false
  /** Fixed once the connection is negotiated; read once then (in wrtc each read is a call into WebRTC). Null: none said. */
  private maxMessage: number | null | undefined

  readonly remoteId: string
  readonly linkId: string

  constructor(
    { initiator, remoteId, linkId }: PeerLinkOptions,
    config: RTCConfiguration,
    private readonly events: PeerLinkEvents,
    wrtc: object | undefined,
  ) {
    this.remoteId = remoteId
    this.linkId = linkId
    const { peer, channel } = openWirePeer(initiator, config, wrtc)
    this.peer = peer
    watchSignaling(
      peer,
      (data) => events.onSignal(data),
      (reason) => this.finish(reason),
    )
    this.pump = new ChannelPump(channel, {
      onOpen: () => events.onOpen(),
      onData: (bytes) => events.onData(bytes),
      onDrain: () => events.onDrain(),
      onClose: (reason) => this.finish(reason),
    })
  }

  get open(): boolean {
    return this.pump.open && !this.closed
  }

  get queuedBytes(): number {
    return this.pump.queuedBytes
  }

  get maxMessageBytes(): number | undefined {
    if (this.maxMessage === undefined && this.pump.open) this.maxMessage = maxMessageBytesOf(this.peer._pc ?? undefined) ?? null
    return this.maxMessage ?? undefined
  }

  send(frame: Uint8Array<ArrayBuffer>): void {
    if (!this.closed) this.pump.send(frame)
  }

  signal(data: SignalData): void {
    if (!this.closed) this.peer.signal(data)
  }

  async stats(): Promise<LinkStats | undefined> {
    const pc = this.peer._pc
    return pc && !this.closed ? statsOf(pc) : undefined
  }

  close(): void {
    this.finish('closed here')
  }

  private finish(reason: string): void {
    if (this.closed) return
    this.closed = true
    this.pump.close()
    this.peer.destroy()
    this.events.onClose(reason)
  }
}

export interface LinkOptions {
  /** A WebRTC implementation outside browsers (Node's @roamhq/wrtc). */
  wrtc?: object
  /** Only relayed (TURN) connections, as when testing the relay path. */
  relayOnly?: boolean
}

export function rtcConfiguration(iceServers: RTCIceServer[], relayOnly: boolean): RTCConfiguration {
  return { iceServers, ...(relayOnly ? { iceTransportPolicy: 'relay' } : {}) }
}

/** Peer links over the browser's WebRTC in this thread, or over `wrtc` in Node. */
export function simplePeerLinkFactory({ wrtc, relayOnly = false }: LinkOptions = {}): PeerLinkFactory {
  return {
    create(options, events) {
      return new SimplePeerLink(options, rtcConfiguration(options.iceServers, relayOnly), events, wrtc)
    },
  }
}
