import { describe, expect, it } from 'vitest'
import { Bitfield } from '../../src/protocol/bitfield'
import { ChunkScheduler } from '../../src/core/scheduler'
import { seededRandom } from '../../src/core/random'

function field(length: number, indexes: number[]): Bitfield {
  const f = new Bitfield(length)
  for (const i of indexes) f.set(i)
  return f
}

describe('ChunkScheduler', () => {
  it('fetches the urgent chunks (a player’s window) first and in order, then rarest first', () => {
    const s = new ChunkScheduler(10, field(10, [6]), seededRandom(3))
    s.addPeer('a', Bitfield.full(10))
    s.addPeer('b', field(10, [5, 6, 7, 8]))
    s.setUrgent([5, 6, 7, 8, 99])
    // 6 is held and 99 is past the end; the window goes first and in playing order, though 0-4 and 9 are rarer.
    expect(s.assign('a', 3)).toEqual([5, 7, 8])
    const rest = s.assign('a', 10)
    expect(rest.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 9])
  })

  it('gives a slow peer no urgent chunk: its picks are what they would be without a window', () => {
    const picks = (urgent: number[]) => {
      const s = new ChunkScheduler(12, new Bitfield(12), seededRandom(7))
      s.addPeer('slow', Bitfield.full(12))
      s.setUrgent(urgent)
      return s.assign('slow', 3, { endgame: true, urgent: false })
    }
    expect(picks([4, 5, 6])).toEqual(picks([]))
  })

  it('picks the rarest chunk first', () => {
    const s = new ChunkScheduler(4, new Bitfield(4), seededRandom(1))
    s.addPeer('a', field(4, [0, 1, 2, 3]))
    s.addPeer('b', field(4, [0, 1, 3]))
    s.addPeer('c', field(4, [0, 3]))
    // availability: 0→3, 1→2, 2→1, 3→3
    expect(s.assign('a', 2)).toEqual([2, 1])
  })

  it('breaks ties at random, reproducibly under a seed', () => {
    const order = (seed: number) => {
      const s = new ChunkScheduler(16, new Bitfield(16), seededRandom(seed))
      s.addPeer('a', Bitfield.full(16))
      return s.assign('a', 16)
    }
    expect(order(42)).toEqual(order(42))
    expect(order(42)).not.toEqual(order(43))
    expect([...order(42)].sort((x, y) => x - y)).toEqual([...Array(16).keys()])
  })

  it('never assigns a chunk it has, one in flight, or one the peer lacks', () => {
    const s = new ChunkScheduler(6, field(6, [0]), seededRandom(2))
    s.addPeer('a', field(6, [0, 1, 2, 3]))
    s.addPeer('b', field(6, [0, 1, 2, 3, 4]))
    const fromA = s.assign('a', 10)
    expect(fromA.sort()).toEqual([1, 2, 3])
    expect(s.assign('b', 10)).toEqual([4])
    expect(s.inFlightFrom('a')).toBe(3)
  })

  it('returns a released chunk to the pool at once', () => {
    const s = new ChunkScheduler(2, new Bitfield(2), seededRandom(3))
    s.addPeer('a', Bitfield.full(2))
    s.addPeer('b', Bitfield.full(2))
    expect(s.assign('a', 2).length).toBe(2)
    expect(s.assign('b', 2, { endgame: false })).toEqual([])
    s.release(1, 'a')
    expect(s.assign('b', 2)).toEqual([1])
  })

  it('returns every chunk in flight from a peer that leaves', () => {
    const s = new ChunkScheduler(3, new Bitfield(3), seededRandom(4))
    s.addPeer('a', Bitfield.full(3))
    s.addPeer('b', Bitfield.full(3))
    const fromA = s.assign('a', 2)
    expect(s.removePeer('a').sort()).toEqual(fromA.sort())
    expect(s.inFlightFrom('a')).toBe(0)
    expect(s.assign('b', 3).length).toBe(3)
  })

  it('stops asking a peer for a chunk it rejected', () => {
    const s = new ChunkScheduler(2, new Bitfield(2), seededRandom(5))
    s.addPeer('a', Bitfield.full(2))
    s.assign('a', 2)
    s.release(0, 'a')
    s.peerLacks('a', 0)
    expect(s.assign('a', 2)).toEqual([])
    expect(s.unavailable()).toEqual([0])
  })

  it('tracks completion and what no peer holds', () => {
    const s = new ChunkScheduler(3, new Bitfield(3), seededRandom(6))
    s.addPeer('a', field(3, [0, 1]))
    for (const i of s.assign('a', 3)) s.complete(i)
    expect(s.haveCount).toBe(2)
    expect(s.isComplete).toBe(false)
    expect(s.unavailable()).toEqual([2])
    s.peerHas('a', 2)
    s.complete(s.assign('a', 1)[0]!)
    expect(s.isComplete).toBe(true)
  })

  describe('endgame', () => {
    it('starts only once every available missing chunk is requested', () => {
      const s = new ChunkScheduler(3, new Bitfield(3), seededRandom(7))
      s.addPeer('a', Bitfield.full(3))
      s.addPeer('b', Bitfield.full(3))
      expect(s.assign('a', 2).length).toBe(2)
      expect(s.inEndgame).toBe(false)
      expect(s.assign('a', 1).length).toBe(1)
      expect(s.inEndgame).toBe(true)
    })

    it('asks a second peer for chunks still in flight, never a third', () => {
      const s = new ChunkScheduler(2, new Bitfield(2), seededRandom(8))
      for (const id of ['a', 'b', 'c']) s.addPeer(id, Bitfield.full(2))
      expect(s.assign('a', 2).sort()).toEqual([0, 1])
      expect(s.assign('b', 2).sort()).toEqual([0, 1])
      expect(s.assign('c', 2)).toEqual([])
      expect(s.assign('b', 2, { endgame: false })).toEqual([])
    })

    it('reports the duplicate requests to cancel when the first copy arrives, and leaves endgame', () => {
      const s = new ChunkScheduler(1, new Bitfield(1), seededRandom(9))
      s.addPeer('a', Bitfield.full(1))
      s.addPeer('b', Bitfield.full(1))
      s.assign('a', 1)
      s.assign('b', 1)
      expect(s.complete(0)).toEqual(['a', 'b'])
      expect(s.inEndgame).toBe(false)
      expect(s.inFlightFrom('b')).toBe(0)
    })

    it('keeps a chunk in flight while one of its two requests is alive', () => {
      const s = new ChunkScheduler(1, new Bitfield(1), seededRandom(10))
      for (const id of ['a', 'b', 'c']) s.addPeer(id, Bitfield.full(1))
      s.assign('a', 1)
      s.assign('b', 1)
      s.release(0, 'a')
      expect(s.assign('c', 1)).toEqual([0]) // endgame duplicate, not a fresh request
      s.release(0, 'b')
      s.release(0, 'c')
      expect(s.inEndgame).toBe(false)
      expect(s.assign('a', 1, { endgame: false })).toEqual([0])
    })
  })
})
