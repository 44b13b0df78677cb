import SimplePeer from '@thaunknown/simple-peer/lite.js'
import type { LinkRoute, PeerLink, PeerLinkEvents, PeerLinkFactory } from '../core/ports'
import { signalDataSchema, type SignalData } from '../protocol/tracker'

// simple-peer's own stream backpressure keeps only 64 KiB in the channel, which starves a fast
// link; these marks keep the SCTP buffer full without queueing unbounded data in the browser.
export const HIGH_WATER_BYTES = 4 * 1024 * 1024
export const LOW_WATER_BYTES = 1024 * 1024
const BUFFER_POLL_MS = 20

/** One WebRTC data channel to one remote peer, through simple-peer (see README for why this fork). */
class SimplePeerLink implements PeerLink {
  private readonly peer: SimplePeer
  private readonly queue: Uint8Array<ArrayBuffer>[] = []
  private queueBytes = 0
  private closed = false
  private retry: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly remoteId: string,
    initiator: boolean,
    config: RTCConfiguration,
    private readonly events: PeerLinkEvents,
    wrtc: object | undefined,
  ) {
    this.peer = new SimplePeer({ initiator, trickle: true, config, channelConfig: { ordered: true }, ...(wrtc ? { wrtc } : {}) })
    this.peer.on('signal', (data) => {
      const parsed = signalDataSchema.safeParse(data)
      if (parsed.success) events.onSignal(parsed.data)
    })
    this.peer.on('connect', () => {
      const channel = this.peer._channel
      if (channel) {
        channel.bufferedAmountLowThreshold = LOW_WATER_BYTES
        channel.addEventListener('bufferedamountlow', () => this.flush())
      }
      events.onOpen()
    })
    this.peer.on('data', (data) => events.onData(data))
    this.peer.on('error', (error) => this.finish(error.code ? `${error.code}: ${error.message}` : error.message))
    this.peer.on('close', () => this.finish('the connection closed'))
  }

  get open(): boolean {
    return this.peer.connected && !this.closed
  }

  get queuedBytes(): number {
    return this.queueBytes + this.peer.bufferSize
  }

  /** What the far end accepts in one message (older Safari: 64 KiB), once the connection knows. */
  get maxMessageBytes(): number | undefined {
    const size = this.peer._pc?.sctp?.maxMessageSize
    return size && Number.isFinite(size) ? size : undefined
  }

  send(frame: Uint8Array<ArrayBuffer>): void {
    if (this.closed) return
    this.queue.push(frame)
    this.queueBytes += frame.length
    this.flush()
  }

  signal(data: SignalData): void {
    if (!this.closed) this.peer.signal(data)
  }

  /** From the selected ICE candidate pair: relayed when either end is a TURN relay candidate. */
  async route(): Promise<LinkRoute | undefined> {
    const pc = this.peer._pc
    if (!pc || this.closed) return undefined
    const stats = await pc.getStats()
    let pairId: string | undefined
    stats.forEach((report) => {
      if (report.type === 'transport' && report.selectedCandidatePairId) pairId = report.selectedCandidatePairId
    })
    let pair: { localCandidateId?: string; remoteCandidateId?: string } | undefined
    stats.forEach((report) => {
      if (pairId ? report.id === pairId : report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded')
        pair = report
    })
    if (!pair) return undefined
    const types = [pair.localCandidateId, pair.remoteCandidateId].map((id) => (id ? stats.get(id)?.candidateType : undefined))
    if (types.includes('relay')) return 'relayed'
    return types.every((type) => type !== undefined) ? 'direct' : undefined
  }

  close(): void {
    this.finish('closed here')
  }

  private flush(): void {
    if (!this.open) return
    try {
      while (this.queue.length > 0 && this.peer.bufferSize < HIGH_WATER_BYTES) {
        const frame = this.queue.shift()!
        this.queueBytes -= frame.length
        this.peer.send(frame)
      }
    } catch (error) {
      this.finish(`sending failed: ${(error as Error).message}`)
      return
    }
    if (this.queue.length === 0) this.events.onDrain()
    // Node's wrtc never fires bufferedamountlow, so a full channel is also polled.
    else
      this.retry ??= setTimeout(() => {
        this.retry = undefined
        this.flush()
      }, BUFFER_POLL_MS)
  }

  private finish(reason: string): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.retry)
    this.queue.length = 0
    this.queueBytes = 0
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

/** Peer links over the browser's WebRTC, or over `wrtc` in Node. */
export function simplePeerLinkFactory({ wrtc, relayOnly = false }: LinkOptions = {}): PeerLinkFactory {
  return {
    create({ initiator, remoteId, iceServers }, events) {
      const config: RTCConfiguration = { iceServers, ...(relayOnly ? { iceTransportPolicy: 'relay' } : {}) }
      return new SimplePeerLink(remoteId, initiator, config, events, wrtc)
    },
  }
}
