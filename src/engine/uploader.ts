import type { Bitfield } from '../protocol/bitfield'
import { encodeFrame, MAX_PIECE_BYTES } from '../protocol/wire'
import { decideUnchoked, REGULAR_UPLOAD_SLOTS, type ChokeDecision } from '../core/choker'
import type { ChunkStore } from '../core/ports'
import type { Bandwidth, Peer } from './peer'

/** Stop reading chunks for a peer while this much is already queued to it. */
export const UPLOAD_QUEUE_BYTES = 2 * 1024 * 1024
export const MAX_QUEUED_UPLOADS = 64

export interface UploadContext {
  fileId: string
  store: ChunkStore
  bandwidth: Bandwidth
  now: () => number
  onSent: (bytes: number) => void
  isVerified: (index: number) => boolean
  /** Per chunk, how often it was uploaded to anyone; updated here. */
  timesSent: Uint16Array
  /** Checks a whole stored chunk against its hash; false means it must not be sent. */
  verify: (index: number, bytes: Uint8Array<ArrayBuffer>) => Promise<boolean>
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Serves a peer's queued requests one chunk at a time, pausing while its link is full or the cap says wait. */
export async function serveUploads(peer: Peer, context: UploadContext): Promise<void> {
  if (peer.uploading) return
  peer.uploading = true
  try {
    while (peer.uploads.length > 0 && peer.link.open && !peer.amChoking && peer.link.queuedBytes < UPLOAD_QUEUE_BYTES) {
      const range = takeLeastSent(peer.uploads, context.timesSent)
      const chunk = await context.store.getChunk(context.fileId, range.index)
      if (!chunk || chunk.size < range.offset + range.length) {
        peer.link.send(encodeFrame({ ...range, type: 'reject' }))
        continue
      }
      let bytes: Uint8Array<ArrayBuffer>
      if (context.isVerified(range.index)) {
        bytes = new Uint8Array(await chunk.slice(range.offset, range.offset + range.length).arrayBuffer())
      } else {
        const whole = new Uint8Array(await chunk.arrayBuffer())
        if (!(await context.verify(range.index, whole))) {
          peer.link.send(encodeFrame({ ...range, type: 'reject' }))
          continue
        }
        bytes = whole.subarray(range.offset, range.offset + range.length)
      }
      if (context.timesSent[range.index]! < 0xffff) context.timesSent[range.index]!++
      for (let at = 0; at < bytes.length && peer.link.open; at += MAX_PIECE_BYTES) {
        const piece = bytes.subarray(at, at + MAX_PIECE_BYTES)
        const bucket = context.bandwidth.up
        while (bucket && !bucket.tryTake(piece.length, context.now())) await wait(bucket.waitMs(piece.length, context.now()))
        peer.link.send(encodeFrame({ type: 'piece', index: range.index, offset: range.offset + at, bytes: piece }))
        peer.up.add(piece.length, context.now())
        context.onSent(piece.length)
      }
    }
  } finally {
    peer.uploading = false
  }
}

/** Removes and returns the queued request whose chunk has been uploaded least (first such on ties). */
function takeLeastSent(queue: Peer['uploads'], timesSent: Uint16Array): Peer['uploads'][number] {
  let best = 0
  for (let i = 1; i < queue.length; i++) if (timesSent[queue[i]!.index]! < timesSent[queue[best]!.index]!) best = i
  return queue.splice(best, 1)[0]!
}

/** Queues a request from a peer; false when it must be refused (queue full). Requests from choked peers are dropped. */
export function acceptRequest(peer: Peer, range: Peer['uploads'][number]): boolean {
  if (peer.amChoking) return true
  if (peer.uploads.length >= MAX_QUEUED_UPLOADS) return false
  peer.uploads.push(range)
  return true
}

/** A newly opened link: unchoked if a slot is free, so first chunks flow at once. */
export function initialChoke(peer: Peer, peers: Iterable<Peer>): void {
  let unchoked = 0
  for (const other of peers) if (other !== peer && other.link.open && !other.amChoking) unchoked++
  if (unchoked >= REGULAR_UPLOAD_SLOTS + 1) setChoked(peer, true)
}

/** Applies the choker's decision to every open link, sending choke/unchoke where it changes. */
export function rechoke(
  peers: Peer[],
  have: Bitfield,
  downloading: boolean,
  previous: Omit<ChokeDecision, 'unchoked'>,
  now: number,
  random: () => number,
): Omit<ChokeDecision, 'unchoked'> {
  const open = peers.filter((peer) => peer.link.open && peer.remote)
  const held = have.indexes()
  const decision = decideUnchoked(
    open.map((peer) => ({
      id: peer.id,
      interested: held.some((index) => !peer.remote!.get(index)),
      rate: downloading ? peer.down.rate(now) : peer.up.rate(now),
      connectedAt: peer.startedAt,
    })),
    previous,
    now,
    random,
  )
  for (const peer of open) setChoked(peer, !decision.unchoked.has(peer.id))
  return { optimistic: decision.optimistic, optimisticSince: decision.optimisticSince }
}

function setChoked(peer: Peer, choked: boolean): void {
  if (peer.amChoking === choked) return
  peer.amChoking = choked
  if (choked) peer.uploads.length = 0
  peer.link.send(encodeFrame({ type: choked ? 'choke' : 'unchoke' }))
}

/** Between rechokes: give free slots to interested peers at once instead of making them wait. */
export function fillFreeSlots(peers: Peer[], have: Bitfield): void {
  const held = have.indexes()
  const open = peers.filter((peer) => peer.link.open && peer.remote)
  const interested = (peer: Peer) => held.some((index) => !peer.remote!.get(index))
  let busy = open.filter((peer) => !peer.amChoking && interested(peer)).length
  for (const peer of open) {
    if (busy >= REGULAR_UPLOAD_SLOTS + 1) return
    if (peer.amChoking && interested(peer)) {
      setChoked(peer, false)
      busy++
    }
  }
}
