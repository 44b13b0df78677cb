/**
 * Peer colours: twelve hues far enough apart to tell from the back of a room (none in the blue
 * that held chunks are drawn in). Colour is never the only mark: every node and row also names
 * its peer.
 */
export const PEER_PALETTE = [
  '#d62728', // red
  '#2ca02c', // green
  '#ff7f0e', // orange
  '#9467bd', // purple
  '#e377c2', // pink
  '#8c564b', // brown
  '#17becf', // cyan
  '#bcbd22', // olive
  '#7f7f7f', // grey
  '#f4b400', // yellow
  '#00897b', // teal
  '#ad1457', // raspberry
] as const

/** A peer's colour from its id, the same on every page (the piece map, the peers table). */
export function peerColour(peerId: string): string {
  let hash = 2166136261
  for (let i = 0; i < peerId.length; i++) hash = Math.imul(hash ^ peerId.charCodeAt(i), 16777619)
  return PEER_PALETTE[(hash >>> 0) % PEER_PALETTE.length]!
}

/** The swarm view colours members by their place in it, so the first twelve never share one. */
export function memberColour(index: number): string {
  return PEER_PALETTE[index % PEER_PALETTE.length]!
}

/** After each round of the palette the outline changes, so the 13th member is not the 1st again. */
export function memberPattern(index: number): 'solid' | 'dashed' | 'dotted' | 'double' {
  return (['solid', 'dashed', 'dotted', 'double'] as const)[Math.floor(index / PEER_PALETTE.length) % 4]!
}
