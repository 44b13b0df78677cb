import type { Redis } from 'ioredis'
import type { FaultLog } from './log'
import type { ServerMessage, ServerMessageOf } from '../src/protocol/tracker'

/** What tracker instances tell each other. */
export type BusMessage =
  /** Something changed in a swarm: `push` goes to its members (but `except`); `available` wakes those waiting for the file. */
  | { kind: 'file'; fileId: string; push?: ServerMessage; except?: string; available?: true }
  /** A message for one peer, sent to the instance it is connected to. */
  | { kind: 'peer'; peerId: string; push: ServerMessageOf<'signal'> }
  /** The peer reconnected elsewhere: the instance holding `session` closes it. */
  | { kind: 'evict'; peerId: string; session: string }

/**
 * Delivery between tracker instances. File messages reach every instance that follows the file
 * (one with a member, viewer or waiter there); instance messages reach one instance.
 */
export interface Bus {
  readonly instance: string
  listen(handler: (message: BusMessage) => void): void
  /** Resolves once this instance receives the file's messages. */
  follow(fileId: string): Promise<void>
  unfollow(fileId: string): void
  toFile(message: Extract<BusMessage, { kind: 'file' }>): Promise<void>
  toInstance(instance: string, message: BusMessage): Promise<void>
  /** A relayed message for a peer connected to `instance` (binary, carried as it is). */
  relay(instance: string, to: string, bytes: Uint8Array): Promise<void>
  listenRelay(handler: (to: string, bytes: Uint8Array) => void): void
  close(): Promise<void>
}

/** One instance alone: delivery is a function call, in order. */
export class LocalBus implements Bus {
  private handler: (message: BusMessage) => void = () => undefined
  private relayHandler: (to: string, bytes: Uint8Array) => void = () => undefined
  private readonly followed = new Set<string>()

  constructor(readonly instance: string) {}

  listen(handler: (message: BusMessage) => void): void {
    this.handler = handler
  }

  async follow(fileId: string): Promise<void> {
    this.followed.add(fileId)
  }

  unfollow(fileId: string): void {
    this.followed.delete(fileId)
  }

  async toFile(message: Extract<BusMessage, { kind: 'file' }>): Promise<void> {
    if (this.followed.has(message.fileId)) this.handler(message)
  }

  async toInstance(instance: string, message: BusMessage): Promise<void> {
    if (instance === this.instance) this.handler(message)
  }

  async relay(instance: string, to: string, bytes: Uint8Array): Promise<void> {
    if (instance === this.instance) this.relayHandler(to, bytes)
  }

  listenRelay(handler: (to: string, bytes: Uint8Array) => void): void {
    this.relayHandler = handler
  }

  async close(): Promise<void> {}
}

/**
 * Redis pub/sub: a channel per file and one per instance. Publishing from one connection keeps the
 * order of an instance's messages, so a peer hears of a join before a signal from the joiner.
 */
export class RedisBus implements Bus {
  private handler: (message: BusMessage) => void = () => undefined
  private relayHandler: (to: string, bytes: Uint8Array) => void = () => undefined
  private readonly followed = new Map<string, Promise<void>>()

  private constructor(
    readonly instance: string,
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    faults: FaultLog,
  ) {
    // The subscriber reconnects by itself (and subscribes again); its outage is logged once each way.
    subscriber.on('error', (error: Error) => faults.down(error.message))
    subscriber.on('ready', () => faults.up())
    const relayChannel = this.relayChannel(instance)
    // Only tracker instances publish on these channels: Redis is trusted like the process itself.
    subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString() !== relayChannel) return this.handler(JSON.parse(message.toString()) as BusMessage)
      // A relayed message: [addressee length u8][addressee][message].
      const length = message[0] ?? 0
      this.relayHandler(message.subarray(1, 1 + length).toString(), message.subarray(1 + length))
    })
  }

  /** `publisher` is shared with the registry; the bus opens its own subscriber connection. */
  static async open(instance: string, publisher: Redis, prefix: string, faults: FaultLog): Promise<RedisBus> {
    // Subscribed commands wait for a reconnect rather than fail: a subscription must come back.
    const subscriber = publisher.duplicate({ maxRetriesPerRequest: null })
    const bus = new RedisBus(instance, publisher, subscriber, prefix, faults)
    await subscriber.subscribe(bus.instanceChannel(instance), bus.relayChannel(instance))
    return bus
  }

  async relay(instance: string, to: string, bytes: Uint8Array): Promise<void> {
    const addressee = Buffer.from(to)
    await this.publisher.publish(this.relayChannel(instance), Buffer.concat([Buffer.of(addressee.length), addressee, bytes]))
  }

  listenRelay(handler: (to: string, bytes: Uint8Array) => void): void {
    this.relayHandler = handler
  }

  listen(handler: (message: BusMessage) => void): void {
    this.handler = handler
  }

  follow(fileId: string): Promise<void> {
    let subscribed = this.followed.get(fileId)
    if (!subscribed) {
      subscribed = this.subscriber.subscribe(this.fileChannel(fileId)).then(() => undefined)
      this.followed.set(fileId, subscribed)
    }
    return subscribed
  }

  unfollow(fileId: string): void {
    if (!this.followed.delete(fileId)) return
    void this.subscriber.unsubscribe(this.fileChannel(fileId)).catch(() => undefined)
  }

  async toFile(message: Extract<BusMessage, { kind: 'file' }>): Promise<void> {
    await this.publisher.publish(this.fileChannel(message.fileId), JSON.stringify(message))
  }

  async toInstance(instance: string, message: BusMessage): Promise<void> {
    await this.publisher.publish(this.instanceChannel(instance), JSON.stringify(message))
  }

  async close(): Promise<void> {
    this.followed.clear()
    await this.subscriber.quit()
  }

  private fileChannel(fileId: string): string {
    return `${this.prefix}bus:file:${fileId}`
  }

  private instanceChannel(instance: string): string {
    return `${this.prefix}bus:instance:${instance}`
  }

  private relayChannel(instance: string): string {
    return `${this.prefix}bus:relay:${instance}`
  }
}
