import type { LinkPath, LinkStats } from '../core/ports'

/**
 * From the selected ICE candidate pair: relayed when either end is a TURN relay candidate, and the
 * pair's round trip (ICE consent checks, so the path alone, not the data queued on it).
 */
export async function statsOf(pc: RTCPeerConnection): Promise<LinkStats | undefined> {
  const stats = await pc.getStats()
  let pairId: string | undefined
  stats.forEach((report) => {
    if (report.type === 'transport' && report.selectedCandidatePairId) pairId = report.selectedCandidatePairId
  })
  let pair: { localCandidateId?: string; remoteCandidateId?: string; currentRoundTripTime?: number } | undefined
  stats.forEach((report) => {
    if (pairId ? report.id === pairId : report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded') pair = report
  })
  if (!pair) return undefined
  const hosts = hostAddresses(stats)
  const types = [pair.localCandidateId, pair.remoteCandidateId].map((id) => (id ? typeOf(stats.get(id), hosts) : undefined))
  const known = types.every((type) => type !== undefined)
  const route = types.includes('relay') ? 'relayed' : known ? 'direct' : undefined
  const seconds = pair.currentRoundTripTime
  return {
    route,
    path: pathOf(types, known),
    rttMs: typeof seconds === 'number' && Number.isFinite(seconds) ? Math.round(seconds * 1000) : undefined,
  }
}

interface CandidateReport {
  candidateType?: string
  address?: string
  ip?: string
  port?: number
}

const addressOf = (candidate: CandidateReport) => `${candidate.address ?? candidate.ip}:${candidate.port}`

/** Every host candidate's address and port, on either side. */
function hostAddresses(stats: RTCStatsReport): Set<string> {
  const hosts = new Set<string>()
  stats.forEach((report: CandidateReport & { type: string }) => {
    if ((report.type === 'local-candidate' || report.type === 'remote-candidate') && report.candidateType === 'host')
      hosts.add(addressOf(report))
  })
  return hosts
}

/**
 * A candidate's type, where a peer-reflexive one (an address first heard in the peer's checks,
 * as happens when those outrun the signalling) that turns out to be a host candidate counts as one:
 * two tabs on one LAN are host to host, whichever arrived first.
 */
function typeOf(candidate: CandidateReport | undefined, hosts: Set<string>): string | undefined {
  const type = candidate?.candidateType
  return type === 'prflx' && hosts.has(addressOf(candidate!)) ? 'host' : type
}

/** A candidate pair's path: through TURN if either end is a relay candidate, else through a router's public address if either end is one. */
function pathOf(types: (string | undefined)[], known: boolean): LinkPath | undefined {
  if (types.includes('relay')) return 'turn'
  if (!known) return undefined
  return types.some((type) => type === 'srflx' || type === 'prflx') ? 'reflexive' : 'host'
}

/** What the far end accepts in one message (older Safari: 64 KiB), once the connection knows. */
export function maxMessageBytesOf(pc: RTCPeerConnection | undefined): number | undefined {
  const size = pc?.sctp?.maxMessageSize
  return size && Number.isFinite(size) ? size : undefined
}
