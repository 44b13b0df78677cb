import { MAX_NEWS_INDEXES, MAX_NEWS_PEERS, type ServerMessageOf } from '../src/protocol/tracker'

/**
 * Chunk news for one member is gathered this long, then sent as one `swarm-news` per file. In a
 * class of thirty each member announces every chunk it gets to every other member: one message
 * per announcement made the tracker's traffic grow with the square of the class.
 */
export const NEWS_BATCH_MS = 250

type ChunkNews = ServerMessageOf<'peer-have' | 'peer-lost'>
type SwarmNews = ServerMessageOf<'swarm-news'>

/** One file's pending news: each member's chunks with their latest state (true: it has it). */
interface FileNews {
  byPeer: Map<string, Map<number, boolean>>
  indexes: number
}

/**
 * The news waiting for one connection. `add` gathers; anything else about a file must `flush` it
 * first, so a member never hears of a peer's chunks after hearing that the peer left.
 */
export class NewsOutbox {
  private readonly byFile = new Map<string, FileNews>()
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly sendNews: (news: SwarmNews) => void) {}

  add(push: ChunkNews): void {
    let file = this.byFile.get(push.fileId)
    const full =
      file &&
      (file.indexes + push.indexes.length > MAX_NEWS_INDEXES || (!file.byPeer.has(push.peerId) && file.byPeer.size >= MAX_NEWS_PEERS))
    if (full) this.flush(push.fileId)
    if (!file || full) this.byFile.set(push.fileId, (file = { byPeer: new Map(), indexes: 0 }))
    let chunks = file.byPeer.get(push.peerId)
    if (!chunks) file.byPeer.set(push.peerId, (chunks = new Map()))
    const held = push.type === 'peer-have'
    for (const index of push.indexes) {
      if (!chunks.has(index)) file.indexes++
      chunks.set(index, held)
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.flush()
    }, NEWS_BATCH_MS)
  }

  /** Sends what is pending about one file (or every file) now. */
  flush(fileId?: string): void {
    for (const [id, file] of this.byFile) {
      if (fileId !== undefined && id !== fileId) continue
      this.byFile.delete(id)
      this.sendNews({ type: 'swarm-news', fileId: id, changes: changesOf(file) })
    }
    if (this.byFile.size === 0) this.stopTimer()
  }

  /** Forgets what is pending about a file (the member left its swarm), or about every file. */
  drop(fileId?: string): void {
    if (fileId === undefined) this.byFile.clear()
    else this.byFile.delete(fileId)
    if (this.byFile.size === 0) this.stopTimer()
  }

  private stopTimer(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }
}

function changesOf(file: FileNews): SwarmNews['changes'] {
  return [...file.byPeer].map(([peerId, chunks]) => {
    const have: number[] = []
    const lost: number[] = []
    for (const [index, held] of chunks) (held ? have : lost).push(index)
    return { peerId, ...(have.length > 0 ? { have } : {}), ...(lost.length > 0 ? { lost } : {}) }
  })
}
