import type { Bitfield } from '../protocol/bitfield'
import { fromHex, toHex } from '../protocol/encoding'
import type { Manifest } from '../protocol/manifest'
import {
  capabilitiesOf,
  capabilityNonce,
  decodeFrame,
  encodeFrame,
  MAX_PIECE_BYTES,
  PIECE_HEADER_BYTES,
  plainPingNonce,
  uploadCapNonce,
  uploadCapOf,
  WIRE_VERSION,
  type Frame,
  type Range,
} from '../protocol/wire'
import { RateMeter } from '../core/rate-meter'
import type { PeerLink } from '../core/ports'

/** Pieces are never cut smaller than this, whatever a link reports. */
const MIN_PIECE_BYTES = 16 * 1024

/** What a wire reports; every frame has been decoded and checked against the manifest. */
export interface WireEvents {
  /** The peer's handshake: it is on our file and protocol, holding `bitfield`. */
  onHandshake(wire: Wire, bitfield: Bitfield): void
  /** The peer said what it can do beyond the base protocol (Capability bits). */
  onCapabilities(wire: Wire, capabilities: number): void
  /** The peer said it caps its upload at this many bytes per second (undefined: it lifted its cap). */
  onUploadCap(wire: Wire, bytesPerSecond: number | undefined): void
  onHave(wire: Wire, index: number): void
  /** A piece of a chunk we requested on this wire (pieces of chunks we did not ask for, or cancelled, never arrive here). */
  onPiece(wire: Wire, index: number, offset: number, bytes: Uint8Array): void
  /** Bytes of a piece nobody waits for any more (cancelled, choked or timed out): dropped, counted as waste. */
  onUnwanted(wire: Wire, bytes: number): void
  /** The peer refused a request of ours (it lacks the chunk, or its queue is full). */
  onReject(wire: Wire, index: number): void
  /** The peer choked us on this wire: these requests of ours were dropped with it. */
  onChoke(wire: Wire, dropped: number[]): void
  onUnchoke(wire: Wire): void
  /** The peer asked for a range. */
  onRequest(wire: Wire, range: Range): void
  /** The peer withdrew a request. */
  onCancel(wire: Wire, range: Range): void
  /** The peer broke the protocol; the wire is of no further use. */
  onBad(wire: Wire, reason: string): void
}

export interface WireContext {
  fileId: string
  manifest: Manifest
  now: () => number
  random: () => number
}

/**
 * The peer wire protocol with one peer over one link (one lane): the handshake, whether the peer
 * chokes us, our requests on this link, and RTT pings. The only code that encodes or decodes
 * frames; it never opens a connection (the link is given) and keeps no upload state (the uploader
 * owns what the peer asked for).
 */
export class Wire {
  /** Its handshake arrived: frames other than pings are taken only after it. */
  handshaken = false
  /** It refuses to serve us on this link. */
  chokingUs = false
  rttMs: number | undefined
  readonly down = new RateMeter()
  readonly up = new RateMeter()
  /** When the last frame arrived (any frame is a sign of life). */
  lastHeardAt: number
  /** Our requests in flight on this link: chunk index → bytes still to come. */
  private readonly requested = new Map<number, number>()
  private ping: { nonce: number; sentAt: number; answered: boolean } | undefined
  private banned = false
  readonly connectedAt: number

  constructor(
    readonly peerId: string,
    private readonly link: PeerLink,
    private readonly context: WireContext,
    private readonly events: WireEvents,
  ) {
    this.connectedAt = context.now()
    this.lastHeardAt = this.connectedAt
  }

  get open(): boolean {
    return this.link.open && !this.banned
  }

  /** Bytes queued to the peer, here and in the channel. */
  get queuedBytes(): number {
    return this.link.queuedBytes
  }

  /** The largest piece payload this peer accepts in one message: ours, or less where its browser says so. */
  get maxPieceBytes(): number {
    const limit = this.link.maxMessageBytes
    return limit === undefined ? MAX_PIECE_BYTES : Math.max(MIN_PIECE_BYTES, Math.min(MAX_PIECE_BYTES, limit - PIECE_HEADER_BYTES))
  }

  // ---- sending ----

  /**
   * Our handshake, then (when we have any) our capabilities and our upload cap, each in a ping that
   * peers of the version before answer like any other.
   */
  handshake(have: Bitfield, capabilities: number, uploadCap?: number): void {
    this.send({ type: 'handshake', version: WIRE_VERSION, fileId: fromHex(this.context.fileId), bitfield: have })
    if (capabilities !== 0) this.send({ type: 'ping', nonce: capabilityNonce(capabilities) })
    if (uploadCap !== undefined) this.uploadCap(uploadCap)
  }

  /** Says our upload cap (undefined: none any more). */
  uploadCap(bytesPerSecond: number | undefined): void {
    this.send({ type: 'ping', nonce: uploadCapNonce(bytesPerSecond) })
  }

  have(index: number): void {
    this.send({ type: 'have', index })
  }

  request(index: number, length: number): void {
    this.requested.set(index, length)
    this.send({ type: 'request', index, offset: 0, length })
  }

  /** Withdraws a request of ours; pieces of it that still arrive are dropped. */
  cancel(index: number, length: number): void {
    if (!this.requested.delete(index)) return
    this.send({ type: 'cancel', index, offset: 0, length })
  }

  isRequested(index: number): boolean {
    return this.requested.has(index)
  }

  /** Chunks we asked for on this link and still wait for, oldest first. */
  requests(): number[] {
    return [...this.requested.keys()]
  }

  /** Of those, the ones no byte of has arrived yet (asked for `length` bytes, all still to come). */
  untouched(length: (index: number) => number): number[] {
    return [...this.requested].filter(([index, remaining]) => remaining === length(index)).map(([index]) => index)
  }

  choke(): void {
    this.send({ type: 'choke' })
  }

  unchoke(): void {
    this.send({ type: 'unchoke' })
  }

  piece(index: number, offset: number, bytes: Uint8Array): void {
    this.send({ type: 'piece', index, offset, bytes })
    this.up.add(bytes.length, this.context.now())
  }

  reject(range: Range): void {
    this.send({ ...range, type: 'reject' })
  }

  /** Sends a ping; its pong sets `rttMs`. */
  sendPing(): void {
    const nonce = plainPingNonce(this.context.random)
    this.ping = { nonce, sentAt: this.context.now(), answered: false }
    this.send({ type: 'ping', nonce })
  }

  /** When the last ping was sent and whether it was answered; undefined before the first. */
  lastPing(): { sentAt: number; answered: boolean } | undefined {
    return this.ping && { sentAt: this.ping.sentAt, answered: this.ping.answered }
  }

  // ---- receiving ----

  /** One message from the link. A frame that breaks the protocol ends the wire (onBad). */
  receive(bytes: Uint8Array): void {
    if (this.banned) return
    const decoded = decodeFrame(bytes, this.context.manifest)
    if (!decoded.ok) return this.fail(`sent an invalid message (${decoded.reason})`)
    this.lastHeardAt = this.context.now()
    const frame = decoded.frame
    if (frame.type !== 'handshake' && !this.handshaken && frame.type !== 'ping' && frame.type !== 'pong') return // before its handshake
    this.dispatch(frame)
  }

  private dispatch(frame: Frame): void {
    switch (frame.type) {
      case 'handshake':
        if (toHex(frame.fileId) !== this.context.fileId || frame.version !== WIRE_VERSION) {
          return this.fail('is on a different file or protocol version')
        }
        this.handshaken = true
        return this.events.onHandshake(this, frame.bitfield)
      case 'have':
        return this.events.onHave(this, frame.index)
      case 'request':
        return this.events.onRequest(this, { index: frame.index, offset: frame.offset, length: frame.length })
      case 'cancel':
        return this.events.onCancel(this, { index: frame.index, offset: frame.offset, length: frame.length })
      case 'reject':
        if (!this.requested.delete(frame.index)) return
        return this.events.onReject(this, frame.index)
      case 'piece': {
        const remaining = this.requested.get(frame.index)
        if (remaining === undefined) return this.events.onUnwanted(this, frame.bytes.length)
        if (remaining <= frame.bytes.length) this.requested.delete(frame.index)
        else this.requested.set(frame.index, remaining - frame.bytes.length)
        this.down.add(frame.bytes.length, this.context.now())
        return this.events.onPiece(this, frame.index, frame.offset, frame.bytes)
      }
      case 'ping': {
        this.send({ type: 'pong', nonce: frame.nonce })
        const capabilities = capabilitiesOf(frame.nonce)
        if (capabilities !== undefined) this.events.onCapabilities(this, capabilities)
        const cap = uploadCapOf(frame.nonce)
        if (cap) this.events.onUploadCap(this, cap.bytesPerSecond)
        return
      }
      case 'pong':
        if (this.ping?.nonce !== frame.nonce) return
        this.ping.answered = true
        this.rttMs = Math.max(0, Math.round(this.context.now() - this.ping.sentAt))
        return
      case 'choke': {
        this.chokingUs = true
        const dropped = this.requests()
        this.requested.clear()
        return this.events.onChoke(this, dropped)
      }
      case 'unchoke':
        this.chokingUs = false
        return this.events.onUnchoke(this)
    }
  }

  private fail(reason: string): void {
    this.banned = true
    this.events.onBad(this, reason)
  }

  private send(frame: Frame): void {
    if (this.link.open) this.link.send(encodeFrame(frame))
  }
}
