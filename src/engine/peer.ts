import type { Bitfield } from '../protocol/bitfield'
import type { Range } from '../protocol/wire'
import { RateMeter } from '../core/rate-meter'
import type { LinkRoute, PeerLink } from '../core/ports'

/** What a file session knows about one connected (or connecting) peer. */
export interface Peer {
  id: string
  /** Names this connection attempt in signals. */
  linkId: string
  link: PeerLink
  initiator: boolean
  startedAt: number
  /** From the peer's handshake and have frames; undefined until the handshake. */
  remote: Bitfield | undefined
  down: RateMeter
  up: RateMeter
  rttMs: number | undefined
  ping: { nonce: number; sentAt: number; answered: boolean } | undefined
  /** Set when the tracker says the peer left: the link must prove itself alive by then. */
  probeDeadline: number | undefined
  /** We refuse to serve it (no upload slot). */
  amChoking: boolean
  /** It refuses to serve us. */
  chokingUs: boolean
  uploads: Range[]
  uploading: boolean
  /** Direct or through a TURN relay, once the connection says. */
  route: LinkRoute | undefined
}

export function newPeer(id: string, linkId: string, initiator: boolean, now: number): Omit<Peer, 'link'> {
  return {
    id,
    linkId,
    initiator,
    startedAt: now,
    remote: undefined,
    down: new RateMeter(),
    up: new RateMeter(),
    rttMs: undefined,
    route: undefined,
    ping: undefined,
    probeDeadline: undefined,
    amChoking: false,
    chokingUs: false,
    uploads: [],
    uploading: false,
  }
}

/** Per-tab bandwidth caps, shared by every file; undefined means no cap. */
export interface Bandwidth {
  up: import('../core/rate-limit').TokenBucket | undefined
  down: import('../core/rate-limit').TokenBucket | undefined
}
