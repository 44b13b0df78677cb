import type { PeerLink } from '../../src/core/ports'
import type { Manifest } from '../../src/protocol/manifest'
import { decodeFrame, type Frame } from '../../src/protocol/wire'

/** A peer link whose far end is the test: every frame sent on it is decoded into `sent`. */
export function recordingLink(remoteId: string, manifest: Manifest, maxMessageBytes?: number): { link: PeerLink; sent: Frame[] } {
  const sent: Frame[] = []
  const link: PeerLink = {
    remoteId,
    linkId: 'recorded',
    open: true,
    queuedBytes: 0,
    maxMessageBytes,
    send: (bytes) => {
      const decoded = decodeFrame(bytes, manifest)
      if (decoded.ok) sent.push(decoded.frame)
    },
    signal: () => undefined,
    stats: async () => ({ route: 'direct', path: 'host', rttMs: undefined }),
    close: () => undefined,
  }
  return { link, sent }
}
