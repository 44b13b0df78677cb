import { useEffect, useRef } from 'preact/hooks'
import type { PieceMap } from '../engine/api'
import { peerColour } from './peer-colour'

const STATE_LETTER = { have: 'h', downloading: 'd', missing: 'm' } as const

/** Cells never grow past this, so a file of a few chunks does not fill the page. */
const MAX_CELL_PX = 28

/** What a drawing depends on: redrawing the same picture (most frames) is skipped. */
function pictureKey(map: PieceMap, width: number, columns: number, strip: boolean): string {
  let key = `${width} ${columns} ${strip} ${matchMedia('(prefers-color-scheme: dark)').matches}`
  for (const cell of map.cells) key += `${STATE_LETTER[cell.state]}${cell.peer ?? ''}${cell.state === 'missing' ? cell.availability : ''},`
  return key
}

const drawn = new WeakMap<HTMLCanvasElement, string>()

/** Draws the map when its picture changed (renders come at most once per animation frame). */
function draw(canvas: HTMLCanvasElement, map: PieceMap, columns: number, strip: boolean): void {
  const key = pictureKey(map, canvas.clientWidth, columns, strip)
  if (drawn.get(canvas) === key) return
  drawn.set(canvas, key)
  const cells = map.cells.length
  const width = canvas.clientWidth || 320
  // About four columns per row, up to `columns` (a strip: exactly `columns`); then as many as fit at the largest cell size.
  const natural = strip ? columns : Math.min(columns, Math.max(16, Math.ceil(Math.sqrt(cells * 4))))
  const cols = Math.max(1, Math.min(cells, Math.max(natural, Math.floor(width / MAX_CELL_PX))))
  const rows = Math.max(1, Math.ceil(cells / cols))
  const ratio = window.devicePixelRatio || 1
  const cell = Math.min(MAX_CELL_PX, width / cols)
  const height = `${Math.ceil(rows * cell)}px`
  if (canvas.style.height !== height) canvas.style.height = height
  // A new size reallocates the canvas; the same size is only cleared.
  const [pixelsWide, pixelsHigh] = [Math.round(width * ratio), Math.round(rows * cell * ratio)]
  if (canvas.width !== pixelsWide) canvas.width = pixelsWide
  if (canvas.height !== pixelsHigh) canvas.height = pixelsHigh
  const context = canvas.getContext('2d')
  if (!context) return
  context.setTransform(1, 0, 0, 1, 0, 0)
  context.clearRect(0, 0, pixelsWide, pixelsHigh)
  const style = getComputedStyle(canvas)
  const colour = (name: string) => style.getPropertyValue(name).trim()
  const have = colour('--piece-have')
  const missing = colour('--piece-missing')
  const absent = colour('--piece-absent')
  const shade = colour('--piece-shade')
  context.scale(ratio, ratio)
  const gap = cell > 6 ? 1 : 0
  map.cells.forEach((piece, i) => {
    const x = (i % cols) * cell
    const y = Math.floor(i / cols) * cell
    const size = cell - gap
    if (piece.state === 'have') {
      context.fillStyle = have
      context.fillRect(x, y, size, size)
    } else if (piece.state === 'downloading') {
      // Outlined as well as coloured, so the state does not rest on colour alone.
      context.fillStyle = piece.peer ? peerColour(piece.peer) : have
      context.fillRect(x, y, size, size)
      context.fillStyle = missing
      context.fillRect(x + size / 4, y + size / 4, size / 2, size / 2)
    } else if (piece.availability === 0) {
      // A cross: nobody known holds this chunk.
      context.fillStyle = missing
      context.fillRect(x, y, size, size)
      context.strokeStyle = absent
      context.lineWidth = Math.max(1, size / 7)
      context.beginPath()
      context.moveTo(x + size * 0.2, y + size * 0.2)
      context.lineTo(x + size * 0.8, y + size * 0.8)
      context.moveTo(x + size * 0.8, y + size * 0.2)
      context.lineTo(x + size * 0.2, y + size * 0.8)
      context.stroke()
    } else {
      context.fillStyle = missing
      context.fillRect(x, y, size, size)
      // More holders, darker shade: shows where the swarm is thin.
      context.globalAlpha = Math.min(0.6, 0.12 * piece.availability)
      context.fillStyle = shade
      context.fillRect(x, y, size, size)
      context.globalAlpha = 1
    }
  })
}

export function PieceMapCanvas({
  map,
  columns = 64,
  strip = false,
  label,
}: {
  map: PieceMap
  columns?: number
  /** A few rows of `columns` cells, for a compact tile. */
  strip?: boolean
  label: string
}) {
  const canvas = useRef<HTMLCanvasElement>(null)
  const latest = useRef(map)
  latest.current = map
  useEffect(() => {
    if (canvas.current) draw(canvas.current, map, columns, strip)
  })
  useEffect(() => {
    const element = canvas.current
    if (!element || typeof ResizeObserver === 'undefined') return
    const observer = new ResizeObserver(() => draw(element, latest.current, columns, strip))
    observer.observe(element)
    return () => observer.disconnect()
  }, [columns, strip])
  const { have, downloading, missing } = map.counts
  const per = map.chunksPerCell === 1 ? 'one chunk per cell' : `${map.chunksPerCell} chunks per cell`
  return (
    <canvas
      ref={canvas}
      class="piece-map"
      role="img"
      aria-label={`${label}: ${have} cells held, ${downloading} downloading, ${missing} missing (${per})`}
      data-testid="piece-map"
      data-cells={map.cells.length}
      data-chunks-per-cell={map.chunksPerCell}
      data-have={have}
      data-downloading={downloading}
      data-missing={missing}
      data-cell-states={map.cells.map((cell) => STATE_LETTER[cell.state]).join('')}
    />
  )
}

export function PieceLegend() {
  return (
    <ul class="piece-legend" aria-label="Piece map legend">
      <li>
        <span class="swatch swatch-have" aria-hidden="true" /> held
      </li>
      <li>
        <span class="swatch swatch-downloading" aria-hidden="true" /> downloading (peer colour)
      </li>
      <li>
        <span class="swatch swatch-missing" aria-hidden="true" /> missing (darker: more peers have it)
      </li>
      <li>
        <span class="swatch swatch-absent" aria-hidden="true" /> no peer has it
      </li>
    </ul>
  )
}
