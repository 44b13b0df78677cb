/** A stable hue per peer, so a peer has the same colour in the piece map, the peers table and the swarm view. */
export function peerHue(peerId: string): number {
  let hash = 2166136261
  for (let i = 0; i < peerId.length; i++) hash = Math.imul(hash ^ peerId.charCodeAt(i), 16777619)
  // Skips the blues (195°-255°) that held chunks are drawn in.
  const hue = (hash >>> 0) % 300
  return hue < 195 ? hue : hue + 60
}

export function peerColour(peerId: string): string {
  return `hsl(${peerHue(peerId)} 70% 48%)`
}
