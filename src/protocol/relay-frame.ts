import { fromHex, toHex } from './encoding'

// The last-resort relay through the service: a peer's second WebSocket (at RELAY_PATH) carries the
// wire frames of its relayed links as binary messages, each addressed to (or from) a peer, a link
// and a file. The service checks the two peers share a swarm before it forwards anything, and
// paces each peer to its byte budget; it never reads what it forwards (a private link's chunks are
// encrypted end to end, as on a data channel).
//
// Message = [kind u8][peer length u8][peer][link length u8][link][file id, 32 bytes][rest]
//   data:   rest = one wire frame (client → service: the peer is the addressee; service → client: the sender)
//   closed: rest = [reason u8]: the service will not (or no longer) carry this link

export const RELAY_PATH = '/relay'
/** A link through the relay has a link id with this prefix (a first link's id is lower-case base 36). */
export const RELAY_LINK_PREFIX = 'R'
/** The largest wire frame a relayed link carries (a piece and its header fit). */
export const MAX_RELAYED_FRAME_BYTES = 256 * 1024
const FILE_ID_BYTES = 32
const MAX_HEADER_BYTES = 3 + 64 + 32 + FILE_ID_BYTES
/** A relay message is never larger than this. */
export const MAX_RELAY_MESSAGE_BYTES = MAX_HEADER_BYTES + MAX_RELAYED_FRAME_BYTES

export const RelayKind = { data: 1, closed: 2 } as const

/** Why the service does not carry a relayed link. */
export const RELAY_CLOSE_REASONS = ['file-limit', 'not-in-swarm', 'gone'] as const
export type RelayCloseReason = (typeof RELAY_CLOSE_REASONS)[number]

export type RelayMessage =
  | { kind: 'data'; peer: string; link: string; fileId: string; frame: Uint8Array }
  | { kind: 'closed'; peer: string; link: string; fileId: string; reason: RelayCloseReason }

const PEER_ID = /^[A-Za-z0-9_-]{8,64}$/
const LINK_ID = /^[A-Za-z0-9]{1,32}$/
const FILE_ID = /^[0-9a-f]{64}$/

const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0))

export function encodeRelayMessage(message: RelayMessage): Uint8Array<ArrayBuffer> {
  const peer = ascii(message.peer)
  const link = ascii(message.link)
  const rest = message.kind === 'data' ? message.frame : Uint8Array.of(RELAY_CLOSE_REASONS.indexOf(message.reason))
  const out = new Uint8Array(3 + peer.length + link.length + FILE_ID_BYTES + rest.length)
  let at = 0
  out[at++] = RelayKind[message.kind]
  out[at++] = peer.length
  out.set(peer, at)
  at += peer.length
  out[at++] = link.length
  out.set(link, at)
  at += link.length
  out.set(fromHex(message.fileId), at)
  out.set(rest, at + FILE_ID_BYTES)
  return out
}

export type DecodedRelayMessage = { ok: true; message: RelayMessage } | { ok: false; reason: string }

/** The one check of a relay message, at either end. */
export function decodeRelayMessage(data: Uint8Array): DecodedRelayMessage {
  const fail = (reason: string): DecodedRelayMessage => ({ ok: false, reason })
  if (data.length > MAX_RELAY_MESSAGE_BYTES) return fail('relay message too large')
  let at = 0
  const kind = data[at++]
  const field = (pattern: RegExp): string | undefined => {
    const length = data[at++]
    if (length === undefined || at + length > data.length) return undefined
    const text = String.fromCharCode(...data.subarray(at, at + length))
    at += length
    return pattern.test(text) ? text : undefined
  }
  const peer = field(PEER_ID)
  if (peer === undefined) return fail('relay message has no valid peer id')
  const link = field(LINK_ID)
  if (link === undefined) return fail('relay message has no valid link id')
  if (at + FILE_ID_BYTES > data.length) return fail('relay message has no file id')
  const fileId = toHex(data.subarray(at, at + FILE_ID_BYTES))
  if (!FILE_ID.test(fileId)) return fail('relay message has no valid file id')
  const rest = data.subarray(at + FILE_ID_BYTES)
  if (kind === RelayKind.data) {
    if (rest.length === 0 || rest.length > MAX_RELAYED_FRAME_BYTES) return fail('relayed frame is empty or too large')
    return { ok: true, message: { kind: 'data', peer, link, fileId, frame: rest } }
  }
  if (kind === RelayKind.closed) {
    const reason = RELAY_CLOSE_REASONS[rest[0] ?? -1]
    if (rest.length !== 1 || reason === undefined) return fail('relay close has no valid reason')
    return { ok: true, message: { kind: 'closed', peer, link, fileId, reason } }
  }
  return fail(`unknown relay message kind ${kind}`)
}
