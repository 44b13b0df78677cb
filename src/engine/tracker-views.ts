import { Bitfield } from '../protocol/bitfield'
import { fromBase64 } from '../protocol/encoding'
import type { FileSummary, ServerMessage, ServerMessageOf } from '../protocol/tracker'
import { buildPieceMap, type PieceMap } from '../core/piece-map'
import type { TrackerPort } from '../core/ports'

/** A swarm as the swarm view draws it. */
export interface SwarmView {
  fileId: string
  /** Empty while nobody shares the file. */
  name: string
  chunkCount: number
  /** Members the tracker listed (it lists at most a few hundred)... */
  peers: { peerId: string; have: number; pieces: PieceMap }[]
  /** ...out of this many. */
  peerCount: number
  /** Upload rates between listed members, bytes per second. */
  links: { from: string; to: string; rate: number }[]
}

/** Files shared on the tracker: a page of them, out of `total`. */
export interface TrackerFilePage {
  files: FileSummary[]
  total: number
}

/** Cells in each peer's small piece map. */
export const SWARM_PIECE_CELLS = 256

export function toSwarmView(message: ServerMessageOf<'swarm'>): SwarmView {
  const fields = message.peers.flatMap(({ peerId, have }) => {
    const bytes = fromBase64(have)
    return bytes.length === Bitfield.byteLength(message.chunkCount) ? [{ peerId, field: new Bitfield(message.chunkCount, bytes) }] : []
  })
  const availability = new Uint16Array(message.chunkCount)
  for (const { field } of fields) for (const index of field.indexes()) availability[index]!++
  const none = new Map<number, string[]>()
  return {
    fileId: message.fileId,
    name: message.name,
    chunkCount: message.chunkCount,
    peerCount: message.peerCount,
    links: message.links,
    peers: fields.map(({ peerId, field }) => ({
      peerId,
      have: field.count(),
      pieces: buildPieceMap(
        { total: message.chunkCount, has: (index) => field.get(index), downloading: none, availability },
        SWARM_PIECE_CELLS,
      ),
    })),
  }
}

/** What the tracker knows beyond this tab's own files: the files shared on it, and watched swarms. */
export class TrackerViews {
  private readonly watchers = new Map<string, Set<(view: SwarmView) => void>>()

  constructor(private readonly tracker: TrackerPort) {
    tracker.onPush((message) => this.receive(message))
    tracker.onStatus((status) => {
      if (status === 'online') for (const fileId of this.watchers.keys()) this.sendWatch(fileId)
    })
  }

  /** The first page of the files shared on this tracker now, and how many there are. */
  async listFiles(): Promise<TrackerFilePage> {
    const reply = await this.tracker.request({ type: 'list' })
    if (reply.type === 'files') return { files: reply.files, total: reply.total }
    throw new Error(reply.type === 'error' ? reply.message : 'the tracker gave an unexpected answer')
  }

  /** Calls `listener` with the swarm's state now and whenever it changes, until unsubscribed. */
  watchSwarm(fileId: string, listener: (view: SwarmView) => void): () => void {
    let listeners = this.watchers.get(fileId)
    if (!listeners) {
      this.watchers.set(fileId, (listeners = new Set()))
      if (this.tracker.status === 'online') this.sendWatch(fileId)
    }
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      if (listeners.size > 0 || this.watchers.get(fileId) !== listeners) return
      this.watchers.delete(fileId)
      this.tracker.send({ type: 'unwatch', fileId })
    }
  }

  private sendWatch(fileId: string): void {
    this.tracker.request({ type: 'watch', fileId }).then(
      (reply) => this.receive(reply),
      () => undefined, // offline or timed out: watched again on reconnect
    )
  }

  private receive(message: ServerMessage): void {
    if (message.type !== 'swarm') return
    const listeners = this.watchers.get(message.fileId)
    if (!listeners) return
    const view = toSwarmView(message)
    for (const listener of listeners) listener(view)
  }
}
