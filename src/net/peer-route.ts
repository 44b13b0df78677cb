import type { LinkRoute } from '../core/ports'

/** From the selected ICE candidate pair: relayed when either end is a TURN relay candidate. */
export async function routeOf(pc: RTCPeerConnection): Promise<LinkRoute | undefined> {
  const stats = await pc.getStats()
  let pairId: string | undefined
  stats.forEach((report) => {
    if (report.type === 'transport' && report.selectedCandidatePairId) pairId = report.selectedCandidatePairId
  })
  let pair: { localCandidateId?: string; remoteCandidateId?: string } | undefined
  stats.forEach((report) => {
    if (pairId ? report.id === pairId : report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded') pair = report
  })
  if (!pair) return undefined
  const types = [pair.localCandidateId, pair.remoteCandidateId].map((id) => (id ? stats.get(id)?.candidateType : undefined))
  if (types.includes('relay')) return 'relayed'
  return types.every((type) => type !== undefined) ? 'direct' : undefined
}

/** What the far end accepts in one message (older Safari: 64 KiB), once the connection knows. */
export function maxMessageBytesOf(pc: RTCPeerConnection | undefined): number | undefined {
  const size = pc?.sctp?.maxMessageSize
  return size && Number.isFinite(size) ? size : undefined
}
