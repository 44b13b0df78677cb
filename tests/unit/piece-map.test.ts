import { describe, expect, it } from 'vitest'
import { buildPieceMap, MAX_PIECE_CELLS, withKnownHolders, type ChunkStates } from '../../src/core/piece-map'
import { Bitfield } from '../../src/protocol/bitfield'
import { toBase64 } from '../../src/protocol/encoding'
import { toSwarmView } from '../../src/engine/tracker-views'

function states(total: number, held: number[], downloading: [number, string][] = [], availability: number[] = []): ChunkStates {
  const have = new Set(held)
  return {
    total,
    has: (index) => have.has(index),
    downloading: new Map(downloading.map(([index, peer]) => [index, [peer]])),
    availability: Array.from({ length: total }, (_, i) => availability[i] ?? 1),
  }
}

describe('piece map', () => {
  it('has one cell per chunk for small files, each held, downloading (with its peer) or missing', () => {
    const map = buildPieceMap(states(5, [0, 3], [[1, 'peer-a']], [1, 1, 2, 1, 0]))
    expect(map.chunksPerCell).toBe(1)
    expect(map.cells.map((cell) => cell.state)).toEqual(['have', 'downloading', 'missing', 'have', 'missing'])
    expect(map.cells[1]!.peer).toBe('peer-a')
    expect(map.cells[2]!.availability).toBe(2)
    expect(map.cells[4]!.availability).toBe(0)
    expect(map.counts).toEqual({ have: 2, downloading: 1, missing: 2 })
  })

  it('groups chunks of big files: held only when all are, downloading when any is, rarest chunk sets the shade', () => {
    const map = buildPieceMap(states(10, [0, 1, 2, 4], [[5, 'b']], [9, 9, 9, 3, 9, 9, 9, 9, 9, 0]), 4)
    expect(map.chunksPerCell).toBe(3)
    expect(map.cells.map((cell) => [cell.state, cell.chunks])).toEqual([
      ['have', 3],
      ['downloading', 3],
      ['missing', 3],
      ['missing', 1],
    ])
    expect(map.cells[1]!.availability).toBe(3)
    expect(map.cells[3]!.availability).toBe(0)
  })

  it('never draws more than the cell limit, even for the largest manifests', () => {
    const map = buildPieceMap(states(2048, []))
    expect(map.cells.length).toBeLessThanOrEqual(MAX_PIECE_CELLS)
    expect(map.cells.reduce((sum, cell) => sum + cell.chunks, 0)).toBe(2048)
    expect(buildPieceMap(states(0, [])).cells).toEqual([])
  })
})

describe('swarm view data', () => {
  it('turns a swarm message into per-peer maps, shaded by how many members hold each chunk', () => {
    const full = Bitfield.full(4)
    const half = new Bitfield(4)
    half.set(0)
    const view = toSwarmView({
      type: 'swarm',
      fileId: 'a'.repeat(64),
      name: 'x',
      chunkCount: 4,
      peers: [
        { peerId: 'seeder00', have: toBase64(full.bytes) },
        { peerId: 'leecher0', have: toBase64(half.bytes) },
        { peerId: 'broken00', have: toBase64(new Uint8Array(9)) },
      ],
      peerCount: 3,
      links: [{ from: 'seeder00', to: 'leecher0', rate: 10 }],
    })
    expect(view.peers.map((peer) => [peer.peerId, peer.have])).toEqual([
      ['seeder00', 4],
      ['leecher0', 1],
    ])
    expect(view.peers[1]!.pieces.cells.map((cell) => [cell.state, cell.availability])).toEqual([
      ['have', 0],
      ['missing', 1],
      ['missing', 1],
      ['missing', 1],
    ])
  })
})

describe('availability from the tracker', () => {
  it('counts holders the tracker told of where more than the connected ones', () => {
    const connected = states(4, [], [], [0, 2, 0, 1])
    const merged = withKnownHolders(connected, [1, 1, 0, 3])
    expect(Array.from(merged.availability)).toEqual([1, 2, 0, 3])
    expect(buildPieceMap(merged).cells.map((cell) => cell.availability)).toEqual([1, 2, 0, 3])
  })
})
