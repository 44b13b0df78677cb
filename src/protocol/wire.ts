import { Bitfield } from './bitfield'
import { chunkCount, chunkLength, type Manifest } from './manifest'

// The peer wire protocol: binary frames over one data channel per (peer pair, file).
// A new link starts unchoked: the uploader sends choke first if it has no slot for the peer.
// Frame = [type u8][fields, big-endian u32][payload]. Decoding checks every length and
// index against the manifest, so nothing unchecked reaches the transfer state.
export const WIRE_VERSION = 1
/** Largest piece payload in one message; data channels carry up to 256 KiB per message. */
export const MAX_PIECE_BYTES = 192 * 1024
/** A piece frame's bytes before its payload: type, index, offset. */
export const PIECE_HEADER_BYTES = 9
const FILE_ID_BYTES = 32

export const FrameType = {
  handshake: 1,
  have: 2,
  request: 3,
  piece: 4,
  cancel: 5,
  reject: 6,
  ping: 7,
  pong: 8,
  choke: 9,
  unchoke: 10,
} as const

export interface Range {
  index: number
  offset: number
  length: number
}

export type Frame =
  | { type: 'handshake'; version: number; fileId: Uint8Array; bitfield: Bitfield }
  | { type: 'have'; index: number }
  | ({ type: 'request' } & Range)
  | { type: 'piece'; index: number; offset: number; bytes: Uint8Array }
  | ({ type: 'cancel' } & Range)
  | ({ type: 'reject' } & Range)
  | { type: 'ping'; nonce: number }
  | { type: 'pong'; nonce: number }
  /** The sender will not serve requests until it sends unchoke; requests in flight are dropped. */
  | { type: 'choke' }
  | { type: 'unchoke' }

export type DecodedFrame = { ok: true; frame: Frame } | { ok: false; reason: string }

/**
 * What a peer can do beyond the base protocol, said in the nonce of the ping it sends right after
 * its handshake: the top 24 bits are CAPABILITY_TAG, the low 8 the capability bits. A peer of the
 * version before answers that ping like any other (a handshake with more bytes it would refuse).
 * Its own pings carry random nonces, which read as capabilities once in 16 million; a plain ping
 * of this version never does.
 */
export const Capability = {
  /** Takes extra links ("lanes") for the same file, whose link ids begin with LANE_LINK_PREFIX. */
  lanes: 1,
} as const
const CAPABILITY_TAG = 0x545357_00 // 'TSW'

export function capabilityNonce(capabilities: number): number {
  return (CAPABILITY_TAG | (capabilities & 0xff)) >>> 0
}

/** The low byte of a nonce whose top 24 bits are `tag`; undefined for any other nonce. */
function taggedByte(nonce: number, tag: number): number | undefined {
  return (nonce & 0xffffff00) >>> 0 === tag ? nonce & 0xff : undefined
}

/** The capability bits a ping's nonce carries, or undefined for a plain ping. */
export function capabilitiesOf(nonce: number): number | undefined {
  return taggedByte(nonce, CAPABILITY_TAG)
}

/**
 * A peer that caps its upload says so in another tagged ping: top 24 bits UPLOAD_CAP_TAG, low 8
 * the cap on a log scale (0: no cap; code k: 1 KB/s × 2^((k-1)/8), steps of 9 %). The downloader
 * opens no more lanes than the cap can fill: lanes add windows, not upload.
 */
const UPLOAD_CAP_TAG = 0x545352_00 // 'TSR'
const CAP_UNIT = 1000
const CAP_STEPS_PER_DOUBLING = 8

export function uploadCapNonce(bytesPerSecond: number | undefined): number {
  if (bytesPerSecond === undefined) return UPLOAD_CAP_TAG
  const code = 1 + Math.round(CAP_STEPS_PER_DOUBLING * Math.log2(Math.max(CAP_UNIT, bytesPerSecond) / CAP_UNIT))
  return (UPLOAD_CAP_TAG | Math.min(255, code)) >>> 0
}

/** The upload cap a ping's nonce carries (`bytesPerSecond` undefined: none), or undefined for another ping. */
export function uploadCapOf(nonce: number): { bytesPerSecond: number | undefined } | undefined {
  const code = taggedByte(nonce, UPLOAD_CAP_TAG)
  if (code === undefined) return undefined
  return { bytesPerSecond: code === 0 ? undefined : Math.round(CAP_UNIT * 2 ** ((code - 1) / CAP_STEPS_PER_DOUBLING)) }
}

/** A nonce for a plain ping: random, never one that reads as capabilities or a cap. */
export function plainPingNonce(random: () => number): number {
  const nonce = Math.floor(random() * 2 ** 32) >>> 0
  const tagged = capabilitiesOf(nonce) !== undefined || uploadCapOf(nonce) !== undefined
  // Both tags have the top bit clear.
  return tagged ? nonce ^ 0x8000_0000 : nonce
}

/**
 * Signals of an extra lane to a member already linked carry a link id with this prefix (a first
 * link's id is random lower-case base 36, so it never begins with it).
 */
export const LANE_LINK_PREFIX = 'L'

function frameOf(type: number, fields: number[], payload?: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(1 + fields.length * 4 + (payload?.length ?? 0))
  const view = new DataView(out.buffer)
  out[0] = type
  fields.forEach((value, i) => view.setUint32(1 + i * 4, value))
  if (payload) out.set(payload, 1 + fields.length * 4)
  return out
}

export function encodeFrame(frame: Frame): Uint8Array<ArrayBuffer> {
  switch (frame.type) {
    case 'handshake': {
      const payload = new Uint8Array(FILE_ID_BYTES + frame.bitfield.bytes.length)
      payload.set(frame.fileId)
      payload.set(frame.bitfield.bytes, FILE_ID_BYTES)
      const out = new Uint8Array(2 + payload.length)
      out[0] = FrameType.handshake
      out[1] = frame.version
      out.set(payload, 2)
      return out
    }
    case 'have':
      return frameOf(FrameType.have, [frame.index])
    case 'request':
    case 'cancel':
    case 'reject':
      return frameOf(FrameType[frame.type], [frame.index, frame.offset, frame.length])
    case 'piece':
      return frameOf(FrameType.piece, [frame.index, frame.offset], frame.bytes)
    case 'ping':
    case 'pong':
      return frameOf(FrameType[frame.type], [frame.nonce])
    case 'choke':
    case 'unchoke':
      return frameOf(FrameType[frame.type], [])
  }
}

/** Decodes one frame from a peer and checks it against the file it is about. */
export function decodeFrame(data: Uint8Array, manifest: Pick<Manifest, 'size' | 'chunkSize'>): DecodedFrame {
  const fail = (reason: string): DecodedFrame => ({ ok: false, reason })
  if (data.length === 0) return fail('empty frame')
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const u32 = (i: number) => view.getUint32(1 + i * 4)
  const count = chunkCount(manifest.size, manifest.chunkSize)
  const expectLength = (n: number) => data.length === n
  const checkIndex = (index: number) => (index < count ? null : `chunk index ${index} is outside 0..${count - 1}`)
  const checkRange = (index: number, offset: number, length: number) =>
    checkIndex(index) ??
    (length > 0 && offset + length <= chunkLength(manifest, index) ? null : `range ${offset}+${length} is outside chunk ${index}`)

  switch (data[0]) {
    case FrameType.handshake: {
      const bitfieldBytes = Bitfield.byteLength(count)
      if (!expectLength(2 + FILE_ID_BYTES + bitfieldBytes)) return fail('handshake has the wrong length')
      const bitfield = new Bitfield(count, data.subarray(2 + FILE_ID_BYTES))
      return { ok: true, frame: { type: 'handshake', version: data[1]!, fileId: data.slice(2, 2 + FILE_ID_BYTES), bitfield } }
    }
    case FrameType.have: {
      if (!expectLength(5)) return fail('have has the wrong length')
      const error = checkIndex(u32(0))
      return error ? fail(error) : { ok: true, frame: { type: 'have', index: u32(0) } }
    }
    case FrameType.request:
    case FrameType.cancel:
    case FrameType.reject: {
      if (!expectLength(13)) return fail('range frame has the wrong length')
      const [index, offset, length] = [u32(0), u32(1), u32(2)]
      const error = checkRange(index, offset, length)
      if (error) return fail(error)
      const type = data[0] === FrameType.request ? 'request' : data[0] === FrameType.cancel ? 'cancel' : 'reject'
      return { ok: true, frame: { type, index, offset, length } }
    }
    case FrameType.piece: {
      if (data.length < 10) return fail('piece is too short')
      const payloadLength = data.length - 9
      if (payloadLength > MAX_PIECE_BYTES) return fail(`piece payload over ${MAX_PIECE_BYTES} bytes`)
      const error = checkRange(u32(0), u32(1), payloadLength)
      return error ? fail(error) : { ok: true, frame: { type: 'piece', index: u32(0), offset: u32(1), bytes: data.subarray(9) } }
    }
    case FrameType.ping:
    case FrameType.pong: {
      if (!expectLength(5)) return fail('ping has the wrong length')
      return { ok: true, frame: { type: data[0] === FrameType.ping ? 'ping' : 'pong', nonce: u32(0) } }
    }
    case FrameType.choke:
    case FrameType.unchoke:
      if (!expectLength(1)) return fail('choke has the wrong length')
      return { ok: true, frame: { type: data[0] === FrameType.choke ? 'choke' : 'unchoke' } }
    default:
      return fail(`unknown frame type ${data[0]}`)
  }
}
