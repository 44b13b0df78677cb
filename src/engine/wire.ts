import { Bitfield } from '../protocol/bitfield'
import { fromHex, toHex } from '../protocol/encoding'
import type { Manifest } from '../protocol/manifest'
import { decodeFrame, encodeFrame, MAX_PIECE_BYTES, PIECE_HEADER_BYTES, WIRE_VERSION, type Frame, type Range } from '../protocol/wire'
import { RateMeter } from '../core/rate-meter'
import type { PeerLink } from '../core/ports'

/** Pieces are never cut smaller than this, whatever a link reports. */
const MIN_PIECE_BYTES = 16 * 1024
/** Requests a peer may queue with us; more are rejected. */
export const MAX_QUEUED_UPLOADS = 64

/** What a wire reports; every frame has been decoded and checked against the manifest. */
export interface WireEvents {
  /** The peer's handshake: it is on our file and protocol, holding `bitfield`. */
  onHandshake(wire: Wire): void
  onHave(wire: Wire, index: number): void
  /** A piece of a chunk we requested (pieces of chunks we did not ask for, or cancelled, never arrive here). */
  onPiece(wire: Wire, index: number, offset: number, bytes: Uint8Array): void
  /** Bytes of a piece nobody waits for any more (cancelled, choked or timed out): dropped, counted as waste. */
  onUnwanted(wire: Wire, bytes: number): void
  /** The peer refused a request of ours (it lacks the chunk, or its queue is full). */
  onReject(wire: Wire, index: number): void
  /** The peer choked us: these requests of ours were dropped with it. */
  onChoke(wire: Wire, dropped: number[]): void
  onUnchoke(wire: Wire): void
  /** The peer asked for a range: answer with `queueUpload` or `reject`. */
  onRequest(wire: Wire, range: Range): void
  /** The peer broke the protocol; the wire is of no further use. */
  onBad(wire: Wire, reason: string): void
}

export interface WireContext {
  fileId: string
  /** The file's manifest; frames are dropped until it is known. */
  manifest: () => Manifest | undefined
  now: () => number
  random: () => number
}

/**
 * The peer wire protocol with one peer over one link: the handshake, both choke states, our
 * requests and theirs, and RTT pings. The only code that encodes or decodes frames; it never opens
 * a connection (the link is given).
 */
export class Wire {
  /** The peer's chunks, from its handshake and have frames; undefined until the handshake. */
  remote: Bitfield | undefined
  /** We refuse to serve it (no upload slot). */
  amChoking = false
  /** It refuses to serve us. */
  chokingUs = false
  rttMs: number | undefined
  readonly down = new RateMeter()
  readonly up = new RateMeter()
  /** Their requests waiting to be served, in arrival order. */
  readonly uploads: Range[] = []
  /** Chunks of their requests taken for serving and not sent in full: a cancel or choke stops the rest. */
  private readonly serving = new Set<number>()
  /** Our requests in flight: chunk index → bytes still to come. */
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

  handshake(have: Bitfield): void {
    this.send({ type: 'handshake', version: WIRE_VERSION, fileId: fromHex(this.context.fileId), bitfield: have })
  }

  /** Announces a chunk we now hold, unless the peer has it already. */
  have(index: number): void {
    if (this.remote && !this.remote.get(index)) this.send({ type: 'have', index })
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

  /** Chunks we asked this peer for and still wait for. */
  requests(): number[] {
    return [...this.requested.keys()]
  }

  choke(): void {
    if (this.amChoking) return
    this.amChoking = true
    this.uploads.length = 0 // a choked peer's queued requests are dropped, as it knows
    this.serving.clear()
    this.send({ type: 'choke' })
  }

  unchoke(): void {
    if (!this.amChoking) return
    this.amChoking = false
    this.send({ type: 'unchoke' })
  }

  piece(index: number, offset: number, bytes: Uint8Array): void {
    this.send({ type: 'piece', index, offset, bytes })
    this.up.add(bytes.length, this.context.now())
  }

  /** Queues their request for serving; dropped while we choke them, refused when the queue is full. */
  queueUpload(range: Range): void {
    if (this.amChoking) return // requests to a choked peer are dropped, as it knows
    if (this.uploads.length >= MAX_QUEUED_UPLOADS) return this.reject(range)
    this.uploads.push(range)
  }

  /** Removes and returns the queued request whose chunk `rank` puts first (least uploaded; first on ties). */
  takeUpload(rank: (index: number) => number): Range | undefined {
    let best = 0
    for (let i = 1; i < this.uploads.length; i++) if (rank(this.uploads[i]!.index) < rank(this.uploads[best]!.index)) best = i
    const range = this.uploads.splice(best, 1)[0]
    if (range) this.serving.add(range.index)
    return range
  }

  /** Whether a request taken by `takeUpload` is still wanted: false once the peer cancelled it or we choked it. */
  stillWanted(range: Range): boolean {
    return this.serving.has(range.index) && this.open
  }

  /** A taken request is sent, refused or dropped. */
  doneServing(range: Range): void {
    this.serving.delete(range.index)
  }

  reject(range: Range): void {
    this.send({ ...range, type: 'reject' })
  }

  /** Sends a ping; its pong sets `rttMs`. */
  sendPing(): void {
    const nonce = Math.floor(this.context.random() * 2 ** 32)
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
    const manifest = this.context.manifest()
    if (!manifest || this.banned) return
    const decoded = decodeFrame(bytes, manifest)
    if (!decoded.ok) return this.fail(`sent an invalid message (${decoded.reason})`)
    const frame = decoded.frame
    if (frame.type !== 'handshake' && !this.remote && frame.type !== 'ping' && frame.type !== 'pong') return // before its handshake
    this.dispatch(frame)
  }

  private dispatch(frame: Frame): void {
    switch (frame.type) {
      case 'handshake':
        if (toHex(frame.fileId) !== this.context.fileId || frame.version !== WIRE_VERSION) {
          return this.fail('is on a different file or protocol version')
        }
        this.remote = frame.bitfield
        return this.events.onHandshake(this)
      case 'have':
        this.remote!.set(frame.index)
        return this.events.onHave(this, frame.index)
      case 'request':
        return this.events.onRequest(this, { index: frame.index, offset: frame.offset, length: frame.length })
      case 'cancel': {
        const at = this.uploads.findIndex((r) => r.index === frame.index && r.offset === frame.offset)
        if (at >= 0) this.uploads.splice(at, 1)
        else this.serving.delete(frame.index) // being sent: the rest of it is not
        return
      }
      case 'reject':
        if (!this.requested.delete(frame.index)) return
        this.remote!.set(frame.index, false)
        return this.events.onReject(this, frame.index)
      case 'piece': {
        const left = this.requested.get(frame.index)
        if (left === undefined) return this.events.onUnwanted(this, frame.bytes.length)
        if (left <= frame.bytes.length) this.requested.delete(frame.index)
        else this.requested.set(frame.index, left - frame.bytes.length)
        this.down.add(frame.bytes.length, this.context.now())
        return this.events.onPiece(this, frame.index, frame.offset, frame.bytes)
      }
      case 'ping':
        return this.send({ type: 'pong', nonce: frame.nonce })
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
