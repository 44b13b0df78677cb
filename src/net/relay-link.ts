import { decodeRelayMessage, encodeRelayMessage, MAX_RELAYED_FRAME_BYTES, RELAY_PATH, type RelayCloseReason } from '../protocol/relay-frame'
import type { SignalData } from '../protocol/tracker'
import type { LinkStats, PeerLink, PeerLinkEvents, PeerLinkFactory, PeerLinkOptions, TrackerPort } from '../core/ports'
import { ChannelPump, type DataChannelLike } from './wire-channel'

/** A relay socket with no link on it is closed after this long. */
const IDLE_CLOSE_MS = 30_000

/** The subset of the WebSocket API the relay uses (the browser's, or the `ws` package in Node). */
export interface RelaySocket {
  binaryType: string
  readonly bufferedAmount: number
  readonly readyState: number
  send(data: Uint8Array<ArrayBuffer>): void
  close(): void
  onopen: (() => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: (() => void) | null
  /** A failure is followed by close, which handles it; Node's `ws` throws an error nobody listens to. */
  onerror: (() => void) | null
}
export type RelaySocketConstructor = new (url: string) => RelaySocket

const OPEN = 1

const CLOSE_REASON: Record<RelayCloseReason, string> = {
  'file-limit': 'the server relays no more links of this file now',
  'not-in-swarm': 'the server relays only between peers of one swarm',
  gone: 'the peer is no longer reachable through the server',
}

/**
 * Links through the service's relay, for pairs of peers that cannot reach each other any other
 * way: one WebSocket (RELAY_PATH) carries the wire frames of every relayed link of this peer, each
 * addressed to a peer, a link and a file. Opened when a link needs it, with a ticket from the
 * tracker; closed when no link has used it for a while.
 */
export class RelayTransport implements PeerLinkFactory {
  private socket: RelaySocket | undefined
  private opening: Promise<RelaySocket> | undefined
  private readonly links = new Map<string, RelayLink>()
  private idleTimer: ReturnType<typeof setTimeout> | undefined
  /** What the tracker said the relay carries per peer; undefined until asked, 0 when it has none. */
  bytesPerSecond: number | undefined

  constructor(
    private readonly tracker: TrackerPort,
    /** The tracker's WebSocket address: the relay is on the same host. */
    private readonly trackerUrl: string,
    private readonly Socket: RelaySocketConstructor,
  ) {
    tracker.onStatus((status) => {
      if (status === 'online') void this.ask()
    })
  }

  /** Whether the tracker said it relays (asked on every connection to it). */
  get available(): boolean {
    return (this.bytesPerSecond ?? 0) > 0
  }

  create(options: PeerLinkOptions, events: PeerLinkEvents): PeerLink {
    const link = new RelayLink(options, events, this)
    this.links.set(keyOf(options.remoteId, options.fileId, options.linkId), link)
    clearTimeout(this.idleTimer)
    void this.connect().then(
      () => link.transportOpen(),
      (error: unknown) => link.finish(`the relay could not be reached (${(error as Error).message})`),
    )
    return link
  }

  /** The shared socket's buffer, which is what each relayed link waits on. */
  get bufferedAmount(): number {
    return this.socket?.bufferedAmount ?? 0
  }

  send(link: RelayLink, frame: Uint8Array): void {
    const socket = this.socket
    if (!socket || socket.readyState !== OPEN) return
    socket.send(encodeRelayMessage({ kind: 'data', peer: link.remoteId, link: link.linkId, fileId: link.fileId, frame }))
  }

  /** A link is done: the far end hears so, and the socket closes once no link is left for a while. */
  forget(link: RelayLink, tellPeer: boolean): void {
    this.links.delete(keyOf(link.remoteId, link.fileId, link.linkId))
    if (tellPeer && this.socket?.readyState === OPEN) {
      this.socket.send(encodeRelayMessage({ kind: 'closed', peer: link.remoteId, link: link.linkId, fileId: link.fileId, reason: 'gone' }))
    }
    if (this.links.size > 0) return
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => {
      if (this.links.size > 0) return
      this.socket?.close()
      this.socket = undefined
    }, IDLE_CLOSE_MS)
  }

  private async ask(): Promise<void> {
    const reply = await this.tracker.request({ type: 'relay-ticket' }).catch(() => undefined)
    this.bytesPerSecond = reply?.type === 'relay-ticket' ? reply.bytesPerSecond : 0
  }

  private connect(): Promise<RelaySocket> {
    if (this.socket?.readyState === OPEN) return Promise.resolve(this.socket)
    this.opening ??= this.open().finally(() => (this.opening = undefined))
    return this.opening
  }

  private async open(): Promise<RelaySocket> {
    const reply = await this.tracker.request({ type: 'relay-ticket' })
    if (reply.type !== 'relay-ticket') throw new Error(reply.type === 'error' ? reply.message : 'no ticket')
    this.bytesPerSecond = reply.bytesPerSecond
    const url = new URL(RELAY_PATH, this.trackerUrl)
    url.searchParams.set('ticket', reply.ticket)
    const socket = new this.Socket(url.toString())
    socket.binaryType = 'arraybuffer'
    socket.onerror = () => undefined
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve()
      socket.onclose = () => reject(new Error('the relay refused the connection'))
    })
    socket.onmessage = (event) => this.receive(event.data)
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.socket = undefined
      for (const link of [...this.links.values()]) link.finish('the connection to the relay closed')
    }
    this.socket = socket
    return socket
  }

  private receive(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return
    const decoded = decodeRelayMessage(new Uint8Array(data))
    if (!decoded.ok) return
    const { message } = decoded
    const link = this.links.get(keyOf(message.peer, message.fileId, message.link))
    if (!link) return
    if (message.kind === 'data') link.arrived(message.frame)
    else link.finish(`relay closed: ${CLOSE_REASON[message.reason]}`)
  }
}

function keyOf(peer: string, fileId: string, linkId: string): string {
  return `${peer}|${fileId}|${linkId}`
}

/**
 * One link through the relay. It is open once the relay socket is, and the far end has taken it
 * (its answer, sent once its own socket is open, or its first frame); frames go through a
 * ChannelPump like a data channel's, held back while the shared socket's buffer is full.
 */
class RelayLink implements PeerLink {
  readonly remoteId: string
  readonly linkId: string
  readonly fileId: string
  readonly maxMessageBytes = MAX_RELAYED_FRAME_BYTES
  private readonly pump: ChannelPump
  private readonly channel: RelayChannel
  private closed = false

  constructor(
    options: PeerLinkOptions,
    private readonly events: PeerLinkEvents,
    private readonly transport: RelayTransport,
  ) {
    this.remoteId = options.remoteId
    this.linkId = options.linkId
    this.fileId = options.fileId
    this.channel = new RelayChannel(transport, this)
    this.pump = new ChannelPump(this.channel, {
      onOpen: () => events.onOpen(),
      onData: (bytes) => events.onData(bytes),
      onDrain: () => events.onDrain(),
      onClose: (reason) => this.finish(reason),
    })
    if (!options.initiator) this.channel.taken()
  }

  get open(): boolean {
    return this.pump.open && !this.closed
  }

  get queuedBytes(): number {
    return this.pump.queuedBytes
  }

  send(frame: Uint8Array<ArrayBuffer>): void {
    if (!this.closed) this.pump.send(frame)
  }

  signal(data: SignalData): void {
    if (data.type === 'relay') this.channel.taken()
  }

  async stats(): Promise<LinkStats> {
    return { route: 'relayed', path: 'server', rttMs: undefined }
  }

  close(): void {
    this.finish('closed here', true)
  }

  /**
   * Our socket to the relay is open: now the dialler offers, and the far end answers (the same
   * word), each only once the relay can reach it. Frames sent to a peer not yet on the relay come
   * back as "gone" and close the link.
   */
  transportOpen(): void {
    if (this.closed) return
    this.events.onSignal({ type: 'relay' })
    this.channel.transportOpen()
  }

  arrived(frame: Uint8Array): void {
    this.channel.taken()
    this.channel.deliver(frame)
  }

  finish(reason: string, tellPeer = false): void {
    if (this.closed) return
    this.closed = true
    this.pump.close()
    this.transport.forget(this, tellPeer)
    this.events.onClose(reason)
  }
}

/** A relayed link seen as a data channel, so the ChannelPump paces it as it paces the real ones. */
class RelayChannel implements DataChannelLike {
  readyState = 'connecting'
  binaryType = 'arraybuffer'
  bufferedAmountLowThreshold = 0
  private transportReady = false
  private peerReady = false
  private readonly listeners = new Map<string, ((event: MessageEvent) => void)[]>()

  constructor(
    private readonly transport: RelayTransport,
    private readonly link: RelayLink,
  ) {}

  get bufferedAmount(): number {
    return this.transport.bufferedAmount
  }

  send(frame: Uint8Array<ArrayBuffer>): void {
    this.transport.send(this.link, frame)
  }

  close(): void {
    if (this.readyState === 'closed') return
    this.readyState = 'closed'
    this.emit('close')
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }

  transportOpen(): void {
    this.transportReady = true
    this.openIfReady()
  }

  taken(): void {
    this.peerReady = true
    this.openIfReady()
  }

  deliver(frame: Uint8Array): void {
    const data = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength ? frame.buffer : frame.slice().buffer
    this.emit('message', new MessageEvent('message', { data }))
  }

  private openIfReady(): void {
    if (this.readyState !== 'connecting' || !this.transportReady || !this.peerReady) return
    this.readyState = 'open'
    this.emit('open')
  }

  private emit(type: string, event = new MessageEvent(type)): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event)
  }
}
