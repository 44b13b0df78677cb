import { describe, expect, it } from 'vitest'
import { Assemblies } from '../../src/core/assemblies'

describe('Assemblies', () => {
  it('returns the chunk once every byte arrived, in any order, and forgets it', () => {
    const a = new Assemblies()
    a.start(3, 'p', 6, 0)
    expect(a.add(3, 'p', 3, Uint8Array.of(4, 5, 6), 1)).toBeUndefined()
    expect(a.add(3, 'p', 0, Uint8Array.of(1, 2, 3), 2)).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6))
    expect(a.has(3, 'p')).toBe(false)
  })

  it('ignores pieces nobody asked that peer for', () => {
    const a = new Assemblies()
    a.start(1, 'p', 4, 0)
    expect(a.add(1, 'q', 0, Uint8Array.of(9), 1)).toBeNull()
    expect(a.add(2, 'p', 0, Uint8Array.of(9), 1)).toBeNull()
  })

  it('tracks the same chunk from two peers (endgame) and which chunks come from a peer', () => {
    const a = new Assemblies()
    a.start(0, 'p', 2, 0)
    a.start(0, 'q', 2, 0)
    a.start(5, 'q', 2, 0)
    expect([a.has(0, 'p'), a.has(0, 'q')]).toEqual([true, true])
    expect(a.fromPeer('q')).toEqual([0, 5])
    a.forget(0, 'q')
    expect(a.fromPeer('q')).toEqual([5])
    expect([a.has(0, 'p'), a.has(0, 'q')]).toEqual([true, false])
  })

  it('hands back the ones that went quiet for too long', () => {
    const a = new Assemblies()
    a.start(0, 'p', 4, 0)
    a.start(1, 'q', 4, 0)
    a.add(1, 'q', 0, Uint8Array.of(1), 900)
    expect(a.takeStalled(1001, 1000)).toEqual([{ index: 0, peerId: 'p', length: 4 }])
    expect(a.has(0, 'p')).toBe(false)
    expect(a.has(1, 'q')).toBe(true)
  })
})
