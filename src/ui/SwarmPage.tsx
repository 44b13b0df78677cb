import { useEffect, useState } from 'preact/hooks'
import type { EngineApi, SwarmView } from '../engine/api'
import { formatRate, percent, visibleName } from './format'
import { PieceMapCanvas } from './PieceMapCanvas'
import { peerColour } from './peer-colour'
import { fileFragment } from '../protocol/links'

/** Node positions on a circle, in a 1000×(height) box, first peer at the top. */
function layout(count: number, height: number): { x: number; y: number }[] {
  if (count === 1) return [{ x: 500, y: height / 2 }]
  // An ellipse that keeps the nodes (about 190 × 150 units) inside the box.
  const [rx, ry] = [500 - 110, height / 2 - 80]
  return Array.from({ length: count }, (_, i) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * i) / count
    return { x: 500 + Math.cos(angle) * rx, y: height / 2 + Math.sin(angle) * ry }
  })
}

type Point = { x: number; y: number }

/** The link's lane: shifted to the right of its direction, so A→B and B→A run side by side. */
function lane(from: Point, to: Point, offset = 9): { from: Point; to: Point; at: (share: number) => Point } {
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1
  const shift = { x: (-(to.y - from.y) / length) * offset, y: ((to.x - from.x) / length) * offset }
  const a = { x: from.x + shift.x, y: from.y + shift.y }
  const b = { x: to.x + shift.x, y: to.y + shift.y }
  return { from: a, to: b, at: (share) => ({ x: a.x + (b.x - a.x) * share, y: a.y + (b.y - a.y) * share }) }
}

/** A class demo view: every peer of the swarm, what it holds, and who is sending to whom. */
export function SwarmPage({ app, fileId, myPeerId }: { app: EngineApi; fileId: string; myPeerId: string | undefined }) {
  const [view, setView] = useState<SwarmView>()
  useEffect(() => app.watchSwarm(fileId, setView), [app, fileId])
  const height = 620
  const peers = view?.peers ?? []
  const points = layout(peers.length, height)
  const at = new Map(peers.map((peer, i) => [peer.peerId, points[i]!]))
  const links = (view?.links ?? []).filter((link) => at.has(link.from) && at.has(link.to))
  const fastest = Math.max(1, ...links.map((link) => link.rate))
  return (
    <main class="swarm-page" data-testid="swarm-view" data-file-id={fileId} data-peer-count={view?.peerCount ?? 0}>
      <div class="swarm-head">
        <h1 class="swarm-title">
          {view === undefined ? 'Watching the swarm…' : visibleName(view.name) || 'Nobody is sharing this file right now'}
        </h1>
        {view && view.name && (
          <p class="swarm-summary" role="status">
            {view.peerCount} {view.peerCount === 1 ? 'peer' : 'peers'} · {view.chunkCount} chunks ·{' '}
            {links.length === 0 ? 'no data moving right now' : `${links.length} active ${links.length === 1 ? 'link' : 'links'}`}
            {view.peers.length < view.peerCount ? ` · showing ${view.peers.length}` : ''}
          </p>
        )}
        {view && !view.name && <p class="swarm-summary">The view fills in as soon as someone shares or opens the link.</p>}
        <a class="swarm-back" href={fileFragment(fileId)}>
          Open the transfer
        </a>
      </div>
      <div class="swarm-stage">
        <svg class="swarm-links" viewBox={`0 0 1000 ${height}`} aria-hidden="true">
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="3" markerHeight="3" orient="auto">
              <path d="M0 0L10 5L0 10z" fill="currentColor" />
            </marker>
          </defs>
          {links.map((link) => {
            const { from, to, at: along } = lane(at.get(link.from)!, at.get(link.to)!)
            // The arrow sits mid-way: at the ends it would hide under the nodes.
            const mid = along(0.5)
            return (
              <path
                key={`${link.from}>${link.to}`}
                d={`M${from.x} ${from.y}L${mid.x} ${mid.y}L${to.x} ${to.y}`}
                fill="none"
                stroke={peerColour(link.from)}
                stroke-width={3 + 9 * (link.rate / fastest)}
                stroke-opacity="0.8"
                marker-mid="url(#arrow)"
              />
            )
          })}
        </svg>
        {peers.map((peer, i) => {
          const point = points[i]!
          const complete = peer.have === view!.chunkCount
          return (
            <article
              key={peer.peerId}
              class={`swarm-node${peer.peerId === myPeerId ? ' me' : ''}`}
              data-testid="swarm-peer"
              data-peer-id={peer.peerId}
              data-have={peer.have}
              data-total={view!.chunkCount}
              style={{ left: `${point.x / 10}%`, top: `${(point.y / height) * 100}%`, borderColor: peerColour(peer.peerId) }}
            >
              <h2>
                <span class="mono">{peer.peerId.slice(0, 6)}</span>
                {peer.peerId === myPeerId ? ' (this tab)' : ''}
              </h2>
              <p class="swarm-node-figure">{complete ? 'has it all' : `${percent(peer.have, view!.chunkCount)}%`}</p>
              <PieceMapCanvas map={peer.pieces} columns={32} label={`Chunks held by ${peer.peerId.slice(0, 6)}`} />
            </article>
          )
        })}
        {links.map((link) => {
          // Near the sender, so the labels of A→B and B→A do not collide.
          const spot = lane(at.get(link.from)!, at.get(link.to)!).at(0.38)
          return (
            <span
              key={`label ${link.from}>${link.to}`}
              class="swarm-rate"
              aria-hidden="true"
              style={{ left: `${spot.x / 10}%`, top: `${(spot.y / height) * 100}%` }}
            >
              {formatRate(link.rate)}
            </span>
          )
        })}
      </div>
      {links.length > 0 && (
        <ul class="swarm-link-list" aria-label="Data moving between peers">
          {links.map((link) => (
            <li key={`${link.from}>${link.to}`} data-testid="swarm-link" data-from={link.from} data-to={link.to} data-rate={link.rate}>
              <span class="mono">{link.from.slice(0, 6)}</span> → <span class="mono">{link.to.slice(0, 6)}</span>: {formatRate(link.rate)}
            </li>
          ))}
        </ul>
      )}
    </main>
  )
}
