import { describe, expect, it } from 'vitest'
import { isSlowPeer, MAX_REQUEST_BYTES_PER_PEER, MIN_REQUESTS_PER_PEER, rankPeers, requestSlots } from '../../src/core/peer-score'
import { decideUnchoked, NEWCOMER_MS, OPTIMISTIC_ROTATION_MS, REGULAR_UPLOAD_SLOTS, type UploadCandidate } from '../../src/core/choker'
import { parseRate, TokenBucket } from '../../src/core/rate-limit'
import { seededRandom } from '../../src/core/random'
import { answerRepeat } from '../../src/core/initial-seeding'

describe('peer scoring', () => {
  it('orders peers by measured rate, then by RTT, unmeasured last', () => {
    const ranked = rankPeers([
      { id: 'slow', rttMs: 5, rate: 100 },
      { id: 'far', rttMs: 80, rate: 0 },
      { id: 'fast', rttMs: 40, rate: 5000 },
      { id: 'near', rttMs: 3, rate: 0 },
      { id: 'unknown', rttMs: undefined, rate: 0 },
    ])
    expect(ranked.map((p) => p.id)).toEqual(['fast', 'slow', 'near', 'far', 'unknown'])
  })

  it('sizes each peer’s pipeline to its measured rate, within bounds', () => {
    const chunk = 256 * 1024
    expect(requestSlots(0, chunk)).toBe(4) // 1 MiB to start with
    expect(requestSlots(10e6, chunk)).toBe(Math.ceil(5e6 / chunk))
    expect(requestSlots(300e3, chunk, true)).toBe(MIN_REQUESTS_PER_PEER) // measured and slow: a shallow queue
    expect(requestSlots(1e9, chunk)).toBe(MAX_REQUEST_BYTES_PER_PEER / chunk)
    expect(requestSlots(0, 64 * 1024 * 1024)).toBe(MIN_REQUESTS_PER_PEER)
  })

  it('calls a peer slow below a quarter of the fastest', () => {
    expect(isSlowPeer(100, 1000)).toBe(true)
    expect(isSlowPeer(300, 1000)).toBe(false)
    expect(isSlowPeer(0, 0)).toBe(false)
  })
})

describe('choker', () => {
  const peer = (id: string, rate: number, connectedAt = 0, interested = true): UploadCandidate => ({ id, rate, connectedAt, interested })

  it('unchokes the fastest interested peers plus one optimistic slot', () => {
    const candidates = [
      peer('a', 10),
      peer('b', 50),
      peer('c', 40),
      peer('d', 30),
      peer('e', 20),
      peer('f', 5),
      peer('bored', 999, 0, false),
    ]
    const decision = decideUnchoked(candidates, { optimistic: undefined, optimisticSince: 0 }, 100_000, seededRandom(1))
    expect(decision.unchoked.size).toBe(REGULAR_UPLOAD_SLOTS + 1)
    for (const id of ['b', 'c', 'd', 'e']) expect(decision.unchoked.has(id)).toBe(true)
    expect(['a', 'f']).toContain(decision.optimistic)
    expect(decision.unchoked.has('bored')).toBe(false)
  })

  it('keeps the optimistic peer until its rotation period ends', () => {
    const candidates = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => peer(`p${n}`, 100 - n))
    const first = decideUnchoked(candidates, { optimistic: undefined, optimisticSince: 0 }, 100_000, seededRandom(2))
    const kept = decideUnchoked(candidates, first, 100_000 + OPTIMISTIC_ROTATION_MS - 1, seededRandom(3))
    expect(kept.optimistic).toBe(first.optimistic)
    const draws = new Set<string | undefined>()
    for (let seed = 0; seed < 20; seed++)
      draws.add(decideUnchoked(candidates, first, 100_000 + OPTIMISTIC_ROTATION_MS, seededRandom(seed)).optimistic)
    expect(draws.size).toBeGreaterThan(1)
  })

  it('favours newcomers in the optimistic draw', () => {
    const now = 1_000_000
    const candidates = [1, 2, 3, 4].map((n) => peer(`fast${n}`, 100)).concat([peer('old', 0, 0), peer('new', 0, now - NEWCOMER_MS / 2)])
    let newcomer = 0
    for (let seed = 0; seed < 400; seed++) {
      if (decideUnchoked(candidates, { optimistic: undefined, optimisticSince: 0 }, now, seededRandom(seed)).optimistic === 'new')
        newcomer++
    }
    expect(newcomer / 400).toBeGreaterThan(0.65)
    expect(newcomer / 400).toBeLessThan(0.85)
  })
})

describe('rate limits', () => {
  it('parses rates people write', () => {
    expect(parseRate('2MB')).toEqual({ ok: true, bytesPerSecond: 2_000_000 })
    expect(parseRate('500 KiB/s')).toEqual({ ok: true, bytesPerSecond: 512_000 })
    expect(parseRate('1.5m')).toEqual({ ok: true, bytesPerSecond: 1_500_000 })
    expect(parseRate('250000')).toEqual({ ok: true, bytesPerSecond: 250_000 })
    expect(parseRate('off')).toEqual({ ok: true, bytesPerSecond: undefined })
    expect(parseRate('')).toEqual({ ok: true, bytesPerSecond: undefined })
    expect(parseRate('fast').ok).toBe(false)
    expect(parseRate('-2MB').ok).toBe(false)
    expect(parseRate('10')).toEqual({ ok: false, message: 'a rate limit must be at least 1 KB/s' })
  })

  it('lets bytes through at the configured rate', () => {
    const bucket = new TokenBucket(1000, 500, 0)
    expect(bucket.tryTake(500, 0)).toBe(true)
    expect(bucket.tryTake(100, 0)).toBe(false)
    expect(bucket.waitMs(100, 0)).toBe(100)
    expect(bucket.tryTake(100, 100)).toBe(true)
    // Over a simulated 10 s, a greedy sender gets about rate × time plus one burst.
    let sent = 0
    for (let t = 100; t <= 10_100; t += 10) while (bucket.tryTake(64, t)) sent += 64
    expect(sent).toBeGreaterThan(9_900)
    expect(sent).toBeLessThanOrEqual(10_000 + 500)
  })

  it('passes a request larger than the burst once the bucket is full', () => {
    const bucket = new TokenBucket(1000, 100, 0)
    expect(bucket.tryTake(5000, 0)).toBe(true)
    expect(bucket.tryTake(5000, 50)).toBe(false)
    expect(bucket.waitMs(5000, 50)).toBeGreaterThan(0)
  })
})

describe('initial seeding', () => {
  const repeat = { timesSent: 1, busy: true, heldElsewhere: true, arrivingElsewhere: false, redirectedBefore: false }

  it("points a busy peer's repeat of a chunk another connected peer holds at that peer, and remembers it did", () => {
    expect(answerRepeat(repeat)).toBe('redirect')
    expect(answerRepeat({ ...repeat, arrivingElsewhere: true })).toBe('redirect')
  })

  it('always sends a first copy, and sends repeats when not busy or when no one else has the chunk or is receiving it', () => {
    expect(answerRepeat({ ...repeat, timesSent: 0 })).toBe('send')
    expect(answerRepeat({ ...repeat, busy: false })).toBe('send')
    expect(answerRepeat({ ...repeat, heldElsewhere: false })).toBe('send')
  })

  it('asks again later, without counting a redirect, while the chunk is still being sent to another peer', () => {
    expect(answerRepeat({ ...repeat, heldElsewhere: false, arrivingElsewhere: true })).toBe('later')
  })

  it('serves the ask after a redirect, so a peer that cannot reach the other holders still gets the chunk', () => {
    expect(answerRepeat({ ...repeat, redirectedBefore: true })).toBe('send')
    expect(answerRepeat({ ...repeat, heldElsewhere: false, arrivingElsewhere: true, redirectedBefore: true })).toBe('send')
  })
})
