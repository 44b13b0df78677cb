// The data channel that carries the peer wire. simple-peer keeps its own channel for signaling
// and the connection's life; the wire goes over a second, negotiated channel that both ends
// create at once with the same id, because only a channel created in the current task can be
// transferred to a worker (and so the bytes never cross the page's main thread).

/** The negotiated channel's stream id: the same on both ends (simple-peer's own channel gets another). */
export const WIRE_CHANNEL_ID = 77
export const WIRE_CHANNEL_LABEL = 'tabswarm-wire'

// simple-peer's own backpressure keeps only 64 KiB in the channel, which starves a fast link; these
// marks keep the SCTP buffer full (Chrome refuses sends past 16 MiB) without queueing unbounded data.
export const HIGH_WATER_BYTES = 4 * 1024 * 1024
export const LOW_WATER_BYTES = 1024 * 1024
/** Node's wrtc never fires bufferedamountlow, so a full channel is also polled this often. */
const BUFFER_POLL_MS = 20

/** What of an RTCDataChannel the wire needs (the browser's, a transferred one in a worker, or wrtc's). */
export interface DataChannelLike {
  readonly readyState: string
  readonly bufferedAmount: number
  bufferedAmountLowThreshold: number
  binaryType: string
  send(data: Uint8Array<ArrayBuffer>): void
  close(): void
  addEventListener(type: 'open' | 'closing' | 'close' | 'bufferedamountlow', listener: () => void): void
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
}

/** Creates the wire's channel on a peer connection, in the caller's task. */
export function createWireChannel(pc: { createDataChannel(label: string, options: RTCDataChannelInit): unknown }): DataChannelLike {
  const channel = pc.createDataChannel(WIRE_CHANNEL_LABEL, { negotiated: true, id: WIRE_CHANNEL_ID, ordered: true }) as DataChannelLike
  channel.binaryType = 'arraybuffer'
  return channel
}

export interface ChannelEvents {
  onOpen(): void
  onData(bytes: Uint8Array): void
  onDrain(): void
  onClose(reason: string): void
}

/**
 * Sends frames as fast as the channel's buffer allows and hands up what arrives: the one place
 * that keeps a channel between the low and high water marks. The channel's state is kept from its
 * events and its buffered amount read once per flush: in Node's wrtc each read of either is a
 * blocking call to WebRTC's own thread, and the engine asks whether a link is open many times per
 * chunk.
 */
export class ChannelPump {
  private readonly queue: Uint8Array<ArrayBuffer>[] = []
  private queueBytes = 0
  private retry: ReturnType<typeof setTimeout> | undefined
  private finished = false
  private channelOpen: boolean
  private flushQueued = false

  constructor(
    private readonly channel: DataChannelLike,
    private readonly events: ChannelEvents,
  ) {
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES
    channel.addEventListener('bufferedamountlow', () => this.flush())
    channel.addEventListener('message', (event) => {
      const data: unknown = event.data
      if (data instanceof ArrayBuffer) events.onData(new Uint8Array(data))
      else if (ArrayBuffer.isView(data)) events.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    })
    channel.addEventListener('close', () => this.finish('the connection closed'))
    // A closing channel refuses sends; its close event follows.
    channel.addEventListener('closing', () => (this.channelOpen = false))
    this.channelOpen = channel.readyState === 'open'
    if (this.channelOpen) queueMicrotask(() => events.onOpen())
    else
      channel.addEventListener('open', () => {
        this.channelOpen = true
        events.onOpen()
      })
  }

  get open(): boolean {
    return this.channelOpen && !this.finished
  }

  /** Bytes queued here plus bytes buffered in the channel. */
  get queuedBytes(): number {
    return this.queueBytes + (this.finished ? 0 : this.channel.bufferedAmount)
  }

  /** Queues a frame; frames queued in one task go out together, after one look at the buffer. */
  send(frame: Uint8Array<ArrayBuffer>): void {
    if (this.finished) return
    this.queue.push(frame)
    this.queueBytes += frame.length
    if (this.flushQueued) return
    this.flushQueued = true
    queueMicrotask(() => {
      this.flushQueued = false
      this.flush()
    })
  }

  close(): void {
    if (this.finished) return
    this.finish('closed here')
  }

  private flush(): void {
    if (!this.open) return
    try {
      let buffered = this.channel.bufferedAmount
      while (this.queue.length > 0 && buffered < HIGH_WATER_BYTES) {
        const frame = this.queue.shift()!
        this.queueBytes -= frame.length
        this.channel.send(frame)
        buffered += frame.length
      }
    } catch (error) {
      this.finish(`sending failed: ${(error as Error).message}`)
      return
    }
    if (this.queue.length === 0) this.events.onDrain()
    else
      this.retry ??= setTimeout(() => {
        this.retry = undefined
        this.flush()
      }, BUFFER_POLL_MS)
  }

  private finish(reason: string): void {
    if (this.finished) return
    this.finished = true
    clearTimeout(this.retry)
    this.queue.length = 0
    this.queueBytes = 0
    try {
      this.channel.close()
    } catch {
      // Already closing.
    }
    this.events.onClose(reason)
  }
}
