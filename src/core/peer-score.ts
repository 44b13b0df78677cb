// Which peers to prefer, and how much to ask of each. Pure.

/** Keep about this many seconds of data requested on each lane beyond its round trip, at its measured rate. */
export const REQUEST_QUEUE_SECONDS = 0.5
export const MIN_REQUESTS_PER_PEER = 2
export const INITIAL_REQUEST_BYTES = 1024 * 1024
export const MAX_REQUEST_BYTES_PER_PEER = 8 * 1024 * 1024
/** A peer slower than this share of the fastest one is "slow". */
export const SLOW_PEER_FRACTION = 0.25

export interface PeerStats {
  id: string
  /** Round-trip time from wire ping/pong; undefined until measured. */
  rttMs: number | undefined
  /** Bytes per second received from the peer recently. */
  rate: number
}

/** Fastest first; among peers with no rate yet, lowest RTT first; unmeasured last. */
export function rankPeers<T extends PeerStats>(peers: T[]): T[] {
  return [...peers].sort((a, b) => b.rate - a.rate || (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity) || (a.id < b.id ? -1 : 1))
}

/**
 * Requests to keep in flight on a lane: its rate times its round trip plus the queue time, in
 * chunks, bounded. A lane not yet measured gets a fixed start; a slow one then gets a shallow
 * queue, so chunks are not committed to it long before they are sent (while faster peers may get
 * them first).
 */
export function requestSlots(rate: number, chunkSize: number, measured = rate > 0, rttMs = 0): number {
  const seconds = REQUEST_QUEUE_SECONDS + rttMs / 1000
  const bytes = measured ? Math.min(MAX_REQUEST_BYTES_PER_PEER, rate * seconds) : INITIAL_REQUEST_BYTES
  return Math.max(MIN_REQUESTS_PER_PEER, Math.ceil(bytes / chunkSize))
}

export function isSlowPeer(rate: number, fastestRate: number): boolean {
  return fastestRate > 0 && rate < fastestRate * SLOW_PEER_FRACTION
}
