// Where the swarm view puts its nodes and rate labels, in pixels of the stage: pure geometry, so
// "no two nodes overlap" holds by construction and is checked in a unit test.

export interface Point {
  x: number
  y: number
}

/** A node's box: top-left corner and size. */
export interface Box {
  x: number
  y: number
  w: number
  h: number
}

/** Big cards on a ring for a handful of peers; a grid of tiles for a class, compact ones (one line and a strip) when many. */
export type Density = 'cards' | 'tiles' | 'compact'

export interface SwarmLayout {
  density: Density
  boxes: Box[]
}

/** A card of the ring layout: name, figure and a piece map of 8 rows. */
export const CARD = { w: 200, h: 150 }
/** Space between grid tiles, where the links show. */
const GRID_GAP = 14
/** A tile never grows past this, so a small class does not get giant tiles. */
const MAX_TILE = { w: 240, h: 170 }
/** The tile shape aimed at, and the least that holds a line of 18 px text and a strip of chunks. */
const TILE_SHAPE = { w: 160, h: 80 }
const MIN_TILE = { w: 96, h: 60 }
/** Tiles this tall hold a card's contents. */
const ROOMY_TILE_H = 120

export const centre = (box: Box): Point => ({ x: box.x + box.w / 2, y: box.y + box.h / 2 })

export function overlaps(a: Box, b: Box, margin = 0): boolean {
  return a.x < b.x + b.w + margin && b.x < a.x + a.w + margin && a.y < b.y + b.h + margin && b.y < a.y + a.h + margin
}

function ring(count: number, width: number, height: number): Box[] {
  if (count === 1) return [{ x: (width - CARD.w) / 2, y: (height - CARD.h) / 2, ...CARD }]
  const [rx, ry] = [width / 2 - CARD.w / 2 - 8, height / 2 - CARD.h / 2 - 8]
  return Array.from({ length: count }, (_, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / count
    const x = width / 2 + Math.cos(angle) * rx
    const y = height / 2 + Math.sin(angle) * ry
    return { x: x - CARD.w / 2, y: y - CARD.h / 2, ...CARD }
  })
}

function grid(count: number, width: number, height: number): Box[] {
  // The column count giving the largest tiles of about TILE_SHAPE, of at least MIN_TILE where that is possible.
  let best = { cols: 1, score: -Infinity }
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols)
    const [w, h] = [width / cols - GRID_GAP, height / rows - GRID_GAP]
    const big = w >= MIN_TILE.w && h >= MIN_TILE.h ? 1 : 0
    const score = big * 1000 + Math.min(w / TILE_SHAPE.w, h / TILE_SHAPE.h)
    if (score > best.score) best = { cols, score }
  }
  const cols = best.cols
  const rows = Math.ceil(count / cols)
  const w = Math.min(MAX_TILE.w, width / cols - GRID_GAP)
  const h = Math.min(MAX_TILE.h, height / rows - GRID_GAP)
  const [cellW, cellH] = [width / cols, height / rows]
  return Array.from({ length: count }, (_, i) => {
    const row = Math.floor(i / cols)
    // A last row that is not full is centred.
    const inRow = row === rows - 1 ? count - row * cols : cols
    const left = (width - inRow * cellW) / 2
    return { x: left + (i % cols) * cellW + (cellW - w) / 2, y: row * cellH + (cellH - h) / 2, w, h }
  })
}

/** Cards on a ring while they fit without touching, otherwise a grid of tiles filling the stage. */
export function swarmLayout(count: number, width: number, height: number): SwarmLayout {
  if (count === 0) return { density: 'cards', boxes: [] }
  const cards = ring(count, width, height)
  const fits = cards.every((box, i) => cards.every((other, j) => j <= i || !overlaps(box, other, 12)))
  const inside = cards.every((box) => box.x >= 0 && box.y >= 0 && box.x + box.w <= width && box.y + box.h <= height)
  if (count <= 8 && fits && inside) return { density: 'cards', boxes: cards }
  const boxes = grid(count, width, height)
  return { density: boxes[0]!.h >= ROOMY_TILE_H ? 'tiles' : 'compact', boxes }
}

/**
 * Where a rate label of `size` goes on the line from `from` to `to`: the first spot, nearest the
 * middle, that touches no node and no label placed before; undefined where none is free.
 */
export function labelSpot(from: Point, to: Point, size: { w: number; h: number }, avoid: Box[]): Box | undefined {
  for (const share of [0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74]) {
    const x = from.x + (to.x - from.x) * share - size.w / 2
    const y = from.y + (to.y - from.y) * share - size.h / 2
    const box = { x, y, ...size }
    if (!avoid.some((other) => overlaps(box, other, 2))) return box
  }
  return undefined
}

/** Columns for `cells` square cells in a `width` × `height` box, as large as they can be. */
export function stripColumns(cells: number, width: number, height: number): number {
  let best = { columns: Math.max(1, cells), size: 0 }
  for (let columns = 1; columns <= cells; columns++) {
    const size = Math.min(width / columns, height / Math.ceil(cells / columns))
    if (size > best.size) best = { columns, size }
  }
  return best.columns
}
