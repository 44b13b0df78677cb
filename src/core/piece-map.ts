// What a piece map draws: chunks grouped into at most `maxCells` cells, each with one state.

/** Per chunk: held or not, who it is being fetched from, how many known peers hold it. */
export interface ChunkStates {
  total: number
  has(index: number): boolean
  /** Peer ids a chunk is requested from, by chunk index (only chunks in flight). */
  downloading: ReadonlyMap<number, ReadonlySet<string> | readonly string[]>
  availability: ArrayLike<number>
}

export type CellState = 'have' | 'downloading' | 'missing'

export interface PieceCell {
  state: CellState
  /** For a downloading cell: the peer serving its first chunk in flight. */
  peer: string | undefined
  /** Fewest known holders over the cell's missing chunks (0: nobody has one of them). */
  availability: number
  /** Chunks this cell stands for. */
  chunks: number
}

export interface PieceMap {
  chunksPerCell: number
  cells: PieceCell[]
  counts: Record<CellState, number>
}

/** The same states, each chunk's availability at least the number of holders the tracker told of. */
export function withKnownHolders(states: ChunkStates, known: ArrayLike<number>): ChunkStates {
  const availability = Array.from({ length: states.total }, (_, index) => Math.max(known[index] ?? 0, states.availability[index] ?? 0))
  return { ...states, availability }
}

/** Largest number of cells a map shows; bigger files group chunks. */
export const MAX_PIECE_CELLS = 1024

/**
 * A cell is `have` when all its chunks are held, `downloading` when any is in flight, else
 * `missing`. Grouping is uniform: every cell but the last holds `chunksPerCell` chunks.
 */
export function buildPieceMap(states: ChunkStates, maxCells = MAX_PIECE_CELLS): PieceMap {
  const chunksPerCell = Math.max(1, Math.ceil(states.total / Math.max(1, maxCells)))
  const cells: PieceCell[] = []
  const counts: Record<CellState, number> = { have: 0, downloading: 0, missing: 0 }
  for (let start = 0; start < states.total; start += chunksPerCell) {
    const end = Math.min(states.total, start + chunksPerCell)
    let held = 0
    let peer: string | undefined
    let availability = Infinity
    for (let index = start; index < end; index++) {
      if (states.has(index)) {
        held++
        continue
      }
      availability = Math.min(availability, states.availability[index] ?? 0)
      const from = states.downloading.get(index)
      if (from && peer === undefined) peer = [...from][0]
    }
    const chunks = end - start
    const state: CellState = held === chunks ? 'have' : peer !== undefined ? 'downloading' : 'missing'
    counts[state]++
    cells.push({ state, peer, availability: availability === Infinity ? 0 : availability, chunks })
  }
  return { chunksPerCell, cells, counts }
}
