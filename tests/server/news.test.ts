import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { MAX_NEWS_INDEXES, MAX_NEWS_PEERS, type ServerMessageOf } from '../../src/protocol/tracker'
import { NEWS_BATCH_MS, NewsOutbox } from '../../signaling-server/news'

const fileA = 'a'.repeat(64)
const fileB = 'b'.repeat(64)
const have = (fileId: string, peerId: string, indexes: number[]) => ({ type: 'peer-have' as const, fileId, peerId, indexes })
const lost = (fileId: string, peerId: string, indexes: number[]) => ({ type: 'peer-lost' as const, fileId, peerId, indexes })

describe('a connection’s chunk news', () => {
  let sent: ServerMessageOf<'swarm-news'>[]
  let outbox: NewsOutbox
  beforeEach(() => {
    vi.useFakeTimers()
    sent = []
    outbox = new NewsOutbox((news) => sent.push(news))
  })
  afterEach(() => vi.useRealTimers())

  it('is gathered for a moment, then sent as one message per file with each chunk’s latest state', () => {
    outbox.add(have(fileA, 'peer-one', [3, 4]))
    outbox.add(have(fileA, 'peer-two', [1]))
    outbox.add(lost(fileA, 'peer-one', [3]))
    outbox.add(have(fileB, 'peer-one', [0]))
    outbox.add(have(fileA, 'peer-one', [5]))
    vi.advanceTimersByTime(NEWS_BATCH_MS - 1)
    expect(sent).toEqual([])
    vi.advanceTimersByTime(1)
    expect(sent).toEqual([
      {
        type: 'swarm-news',
        fileId: fileA,
        changes: [
          { peerId: 'peer-one', have: [4, 5], lost: [3] },
          { peerId: 'peer-two', have: [1] },
        ],
      },
      { type: 'swarm-news', fileId: fileB, changes: [{ peerId: 'peer-one', have: [0] }] },
    ])
    vi.advanceTimersByTime(10 * NEWS_BATCH_MS)
    expect(sent).toHaveLength(2)
  })

  it('goes out at once for one file when asked (before another message about it); other files wait', () => {
    outbox.add(have(fileA, 'peer-one', [1]))
    outbox.add(have(fileB, 'peer-one', [2]))
    outbox.flush(fileA)
    expect(sent.map((news) => news.fileId)).toEqual([fileA])
    vi.advanceTimersByTime(NEWS_BATCH_MS)
    expect(sent.map((news) => news.fileId)).toEqual([fileA, fileB])
  })

  it('is dropped for a file the member left, and sends nothing when there is nothing', () => {
    outbox.add(have(fileA, 'peer-one', [1]))
    outbox.drop(fileA)
    outbox.flush()
    vi.advanceTimersByTime(NEWS_BATCH_MS)
    expect(sent).toEqual([])
  })

  it('never names more chunks or members in one message than a client accepts', () => {
    const half = Array.from({ length: MAX_NEWS_INDEXES / 2 }, (_, i) => i)
    outbox.add(have(fileA, 'peer-one', half))
    outbox.add(have(fileA, 'peer-two', half))
    outbox.add(have(fileA, 'peer-three', [0]))
    expect(sent).toHaveLength(1)
    expect(sent[0]!.changes.flatMap((change) => change.have ?? [])).toHaveLength(MAX_NEWS_INDEXES)
    vi.advanceTimersByTime(NEWS_BATCH_MS)
    expect(sent[1]!.changes).toEqual([{ peerId: 'peer-three', have: [0] }])

    sent = []
    for (let i = 0; i <= MAX_NEWS_PEERS; i++) outbox.add(have(fileB, `peer-${i}`, [i]))
    expect(sent).toHaveLength(1)
    expect(sent[0]!.changes).toHaveLength(MAX_NEWS_PEERS)
    vi.advanceTimersByTime(NEWS_BATCH_MS)
    expect(sent[1]!.changes).toEqual([{ peerId: `peer-${MAX_NEWS_PEERS}`, have: [MAX_NEWS_PEERS] }])
  })
})
