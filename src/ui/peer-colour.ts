/** A stable hue per peer, so a peer has the same colour in the piece map, the peers table and the swarm view. */
export function peerHue(peerId: string): number {
  let hash = 2166136261
  for (let i = 0; i < peerId.length; i++) hash = Math.imul(hash ^ peerId.charCodeAt(i), 16777619)
  return (hash >>> 0) % 360
}

export function peerColour(peerId: string): string {
  return `hsl(${peerHue(peerId)} 70% 48%)`
}
