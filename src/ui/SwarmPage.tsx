import { useEffect, useRef, useState } from 'preact/hooks'
import type { EngineApi, SwarmView } from '../engine/api'
import { formatRate, percent, visibleName } from './format'
import { PieceMapCanvas } from './PieceMapCanvas'
import { memberColour, memberPattern } from './peer-colour'
import { centre, labelSpot, stripColumns, swarmLayout, type Box, type Point } from './swarm-layout'
import { fileFragment } from '../protocol/links'

/** The link's lane: shifted to the right of its direction, so A→B and B→A run side by side. */
function lane(from: Point, to: Point, offset = 8): { from: Point; to: Point } {
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1
  const shift = { x: (-(to.y - from.y) / length) * offset, y: ((to.x - from.x) / length) * offset }
  return { from: { x: from.x + shift.x, y: from.y + shift.y }, to: { x: to.x + shift.x, y: to.y + shift.y } }
}

/** Among a few cards every link gets a rate label; in a class the busiest are drawn bold, and each tile says what it receives. */
const LABELLED_LINKS = 12
const BOLD_LINKS = 8
/** A compact tile's own height: border, padding and two lines of 18 px type; its piece map gets the rest. */
const COMPACT_TILE_TEXT_PX = 62
/** A rate label's size at the stage's 18 px bold type, from its text. */
const labelSize = (text: string) => ({ w: text.length * 11 + 20, h: 30 })

/** The stage's size in pixels, followed as the window changes. */
function useSize(element: { current: HTMLElement | null }): { width: number; height: number } {
  const [size, setSize] = useState({ width: Math.min(innerWidth - 32, 1600), height: Math.max(400, innerHeight - 150) })
  useEffect(() => {
    const target = element.current
    if (!target || typeof ResizeObserver === 'undefined') return
    const observer = new ResizeObserver(() => setSize({ width: target.clientWidth, height: target.clientHeight }))
    observer.observe(target)
    return () => observer.disconnect()
  }, [])
  return size
}

/** A class demo view: every peer of the swarm, what it holds, and who is sending to whom. */
/** `localName`: the file's name where this browser holds it (the tracker knows no name of a private link's file). */
export function SwarmPage({
  app,
  fileId,
  myPeerId,
  localName,
}: {
  app: EngineApi
  fileId: string
  myPeerId: string | undefined
  localName: string | undefined
}) {
  const [view, setView] = useState<SwarmView>()
  useEffect(() => app.watchSwarm(fileId, setView), [app, fileId])
  const stage = useRef<HTMLDivElement>(null)
  const { width, height } = useSize(stage)
  const peers = view?.peers ?? []
  const { density, boxes } = swarmLayout(peers.length, width, height)
  const index = new Map(peers.map((peer, i) => [peer.peerId, i]))
  const links = (view?.links ?? []).filter((link) => index.has(link.from) && index.has(link.to))
  const fastest = Math.max(1, ...links.map((link) => link.rate))
  const ends = (link: { from: string; to: string }) => lane(centre(boxes[index.get(link.from)!]!), centre(boxes[index.get(link.to)!]!))
  // The busiest links get a label where one fits clear of every node and other label.
  const busiest = [...links].sort((a, b) => b.rate - a.rate)
  const bold = new Set(busiest.slice(0, BOLD_LINKS))
  const receiving = new Map<string, number>()
  for (const link of links) receiving.set(link.to, (receiving.get(link.to) ?? 0) + link.rate)
  const labels: { key: string; box: Box; text: string }[] = []
  for (const link of density === 'cards' ? busiest.slice(0, LABELLED_LINKS) : []) {
    const { from, to } = ends(link)
    const text = formatRate(link.rate)
    const box = labelSpot(from, to, labelSize(text), [...boxes, ...labels.map((label) => label.box)])
    if (box) labels.push({ key: `${link.from}>${link.to}`, box, text })
  }
  const place = (box: Box) => ({ left: `${box.x}px`, top: `${box.y}px`, width: `${box.w}px`, height: `${box.h}px` })
  return (
    <main class="swarm-page" data-testid="swarm-view" data-file-id={fileId} data-peer-count={view?.peerCount ?? 0} data-density={density}>
      <div class="swarm-head">
        <h1 class="swarm-title">
          {view === undefined
            ? 'Watching the swarm…'
            : view.peerCount === 0
              ? 'Nobody is sharing this file right now'
              : visibleName(localName || view.name) || 'A private file'}
        </h1>
        {view && view.peerCount > 0 && (
          <p class="swarm-summary" role="status">
            {view.peerCount} {view.peerCount === 1 ? 'peer' : 'peers'} · {view.chunkCount} chunks ·{' '}
            {links.length === 0 ? 'no data moving right now' : `${links.length} active ${links.length === 1 ? 'link' : 'links'}`}
            {view.peers.length < view.peerCount ? ` · showing ${view.peers.length}` : ''}
          </p>
        )}
        {view && view.peerCount === 0 && <p class="swarm-summary">The view fills in as soon as someone shares or opens the link.</p>}
        <a class="swarm-back" href={fileFragment(fileId)}>
          Open the transfer
        </a>
      </div>
      <div class={`swarm-stage ${density}`} ref={stage}>
        <svg class="swarm-links" viewBox={`0 0 ${width} ${height}`} aria-hidden="true">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="3" markerHeight="3" orient="auto">
              <path d="M0 0L10 5L0 10z" fill="currentColor" />
            </marker>
          </defs>
          {links.map((link) => {
            const { from, to } = ends(link)
            const sender = index.get(link.from)!
            const strong = density === 'cards' || bold.has(link)
            // The arrow sits mid-way: at the ends it would hide under the nodes.
            const mid = { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 }
            return (
              <path
                key={`${link.from}>${link.to}`}
                d={`M${from.x} ${from.y}L${mid.x} ${mid.y}L${to.x} ${to.y}`}
                fill="none"
                stroke={memberColour(sender)}
                stroke-width={strong ? 3 + (density === 'cards' ? 9 : 5) * (link.rate / fastest) : 2}
                stroke-dasharray={memberPattern(sender) === 'solid' ? undefined : '10 5'}
                stroke-opacity={strong ? 0.85 : 0.3}
                marker-mid={strong ? 'url(#arrow)' : undefined}
              />
            )
          })}
        </svg>
        {peers.map((peer, i) => {
          const complete = peer.have === view!.chunkCount
          const short = peer.peerId.slice(0, 6)
          const me = peer.peerId === myPeerId
          const box = boxes[i]!
          const inRate = receiving.get(peer.peerId)
          const columns = density === 'compact' ? stripColumns(peer.pieces.cells.length, box.w - 18, box.h - COMPACT_TILE_TEXT_PX) : 32
          return (
            <article
              key={peer.peerId}
              class={`swarm-node${me ? ' me' : ''}`}
              data-testid="swarm-peer"
              data-peer-id={peer.peerId}
              data-have={peer.have}
              data-total={view!.chunkCount}
              aria-label={`Peer ${short}${me ? ' (this tab)' : ''}: ${complete ? 'has the whole file' : `${percent(peer.have, view!.chunkCount)}%`}`}
              style={{ ...place(box), borderColor: memberColour(i), borderStyle: memberPattern(i) }}
            >
              <h2 class="swarm-node-name">
                <span class="mono">{short}</span>
                {me && density !== 'compact' ? ' (this tab)' : ''}
              </h2>
              <p class="swarm-node-figure">
                {complete ? (density === 'compact' ? 'all' : 'has it all') : `${percent(peer.have, view!.chunkCount)}%`}
              </p>
              {density !== 'cards' && (
                <p class="swarm-node-rate" data-rate={inRate ?? 0}>
                  {inRate ? `↓ ${formatRate(inRate)}` : ''}
                </p>
              )}
              <PieceMapCanvas map={peer.pieces} columns={columns} strip={density === 'compact'} label={`Chunks held by ${short}`} />
            </article>
          )
        })}
        {labels.map((label) => (
          <span key={label.key} class="swarm-rate" aria-hidden="true" data-testid="swarm-rate" style={place(label.box)}>
            {label.text}
          </span>
        ))}
      </div>
      {links.length > 0 && (
        <ul class="swarm-link-list" aria-label="Data moving between peers">
          {busiest.map((link) => (
            <li key={`${link.from}>${link.to}`} data-testid="swarm-link" data-from={link.from} data-to={link.to} data-rate={link.rate}>
              <span class="mono">{link.from.slice(0, 6)}</span> → <span class="mono">{link.to.slice(0, 6)}</span>: {formatRate(link.rate)}
            </li>
          ))}
        </ul>
      )}
    </main>
  )
}
