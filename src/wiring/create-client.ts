// The one place a client is put together: the page, the command-line peer and the engine tests
// all call this, each with its own stores and peer links.
import type { Clock, PeerLinkFactory, Stores } from '../core/ports'
import { SwarmClient } from '../engine/client'
import { systemClock } from '../net/system-clock'
import { TrackerClient, type WebSocketConstructor } from '../net/tracker-client'
import { RelayTransport, type RelaySocketConstructor } from '../net/relay-link'

export interface ClientOptions {
  trackerUrl: string
  stores: Stores
  /** Peer links; given the tracker connection when they need this peer's id. */
  links: (tracker: TrackerClient) => PeerLinkFactory
  /** The platform's WebSocket unless given (Node passes the `ws` package). */
  WebSocket?: WebSocketConstructor
  clock?: Clock
  random?: () => number
  spaceAvailable?: () => Promise<number | undefined>
  privateWindow?: { holdAboveBytes: number } | undefined
  connectTimeoutMs?: number | undefined
  /** Peer connections per peer at most (1: no extra lanes). */
  maxLanes?: number | undefined
  keeperPollMs?: number | undefined
}

export interface WiredClient {
  client: SwarmClient
  tracker: TrackerClient
  /** Starts the client, then the tracker connection. */
  start(): void
  /** Stops every session and the tracker connection. */
  stop(): void
}

export function createClient(options: ClientOptions): WiredClient {
  const random = options.random ?? Math.random
  const tracker = new TrackerClient(options.trackerUrl, random, options.WebSocket)
  const relay = new RelayTransport(tracker, options.trackerUrl, (options.WebSocket ?? WebSocket) as unknown as RelaySocketConstructor)
  const client = new SwarmClient({
    stores: options.stores,
    tracker,
    links: options.links(tracker),
    relay: { links: relay, available: () => relay.available, bytesPerSecond: () => relay.bytesPerSecond },
    clock: options.clock ?? systemClock,
    random,
    ...(options.spaceAvailable ? { spaceAvailable: options.spaceAvailable } : {}),
    ...(options.privateWindow ? { privateWindow: options.privateWindow } : {}),
    ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.maxLanes !== undefined ? { maxLanes: options.maxLanes } : {}),
    ...(options.keeperPollMs !== undefined ? { keeperPollMs: options.keeperPollMs } : {}),
  })
  return {
    client,
    tracker,
    start() {
      client.start()
      tracker.start()
    },
    stop() {
      client.close()
      tracker.stop()
    },
  }
}

/** The tracker's WebSocket address for an app served at `origin` (http → ws, https → wss). */
export function trackerUrlFor(origin: string, path: string): string {
  const url = new URL(origin)
  return `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}${path}`
}
