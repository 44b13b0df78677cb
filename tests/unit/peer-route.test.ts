import { describe, expect, it } from 'vitest'
import { statsOf } from '../../src/net/peer-route'

type Report = Record<string, unknown> & { id: string; type: string }

/** A peer connection whose getStats gives these reports, the selected pair `local → remote`. */
function connection(reports: Report[]): RTCPeerConnection {
  const all: Report[] = [
    { id: 'T', type: 'transport', selectedCandidatePairId: 'P' },
    { id: 'P', type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R', currentRoundTripTime: 0.012 },
    ...reports,
  ]
  const map = new Map(all.map((report) => [report.id, report]))
  return { getStats: async () => map as unknown as RTCStatsReport } as RTCPeerConnection
}

const candidate = (
  id: string,
  type: 'local-candidate' | 'remote-candidate',
  candidateType: string,
  address: string,
  port: number,
): Report => ({
  id,
  type,
  candidateType,
  address,
  port,
})

describe('the path of a link, from its selected candidate pair', () => {
  it('is host to host between two host candidates, with the pair’s round trip', async () => {
    const pc = connection([
      candidate('L', 'local-candidate', 'host', '10.1.0.3', 4000),
      candidate('R', 'remote-candidate', 'host', '10.1.0.2', 5000),
    ])
    expect(await statsOf(pc)).toEqual({ route: 'direct', path: 'host', rttMs: 12 })
  })

  it('is host to host when the peer’s address was first heard in its checks and later signalled as a host candidate', async () => {
    const pc = connection([
      candidate('L', 'local-candidate', 'host', '10.1.0.3', 4000),
      candidate('R', 'remote-candidate', 'prflx', '10.1.0.2', 5000),
      candidate('R2', 'remote-candidate', 'host', '10.1.0.2', 5000),
    ])
    expect((await statsOf(pc))?.path).toBe('host')
  })

  it('is through a router’s public address for a server-reflexive candidate, or a peer-reflexive one that is no host’s', async () => {
    const srflx = connection([
      candidate('L', 'local-candidate', 'host', '10.1.0.3', 4000),
      candidate('R', 'remote-candidate', 'srflx', '203.0.113.22', 6000),
    ])
    expect((await statsOf(srflx))?.path).toBe('reflexive')
    const prflx = connection([
      candidate('L', 'local-candidate', 'host', '10.1.0.3', 4000),
      candidate('R', 'remote-candidate', 'prflx', '203.0.113.22', 6001),
      candidate('R2', 'remote-candidate', 'host', '10.2.0.2', 6001),
    ])
    expect((await statsOf(prflx))?.path).toBe('reflexive')
  })

  it('is through TURN when either end is a relay candidate', async () => {
    const pc = connection([
      candidate('L', 'local-candidate', 'relay', '203.0.113.10', 3478),
      candidate('R', 'remote-candidate', 'host', '10.1.0.2', 5000),
    ])
    expect(await statsOf(pc)).toMatchObject({ route: 'relayed', path: 'turn' })
  })
})
