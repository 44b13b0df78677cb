import type { Manifest } from '../../src/protocol/manifest'
import type { Frame } from '../../src/protocol/wire'
import type { Lane, SwarmMember } from '../../src/engine/swarm-member'
import { Wire, type WireEvents } from '../../src/engine/wire'
import { recordingLink } from './recording-link'

/** Wire events that do nothing: a test overrides the ones it routes. */
export const QUIET_WIRE: WireEvents = {
  onHandshake: () => undefined,
  onCapabilities: () => undefined,
  onUploadCap: () => undefined,
  onHave: () => undefined,
  onPiece: () => undefined,
  onUnwanted: () => undefined,
  onReject: () => undefined,
  onChoke: () => undefined,
  onUnchoke: () => undefined,
  onRequest: () => undefined,
  onCancel: () => undefined,
  onBad: () => undefined,
}

/** A lane to `member` whose far end is the test: every frame sent on it is decoded into `sent`. */
export function recordedLane(
  member: SwarmMember,
  manifest: Manifest,
  now: () => number,
  events: Partial<WireEvents>,
  maxMessageBytes?: number,
): { lane: Lane; wire: Wire; sent: Frame[] } {
  const { link, sent } = recordingLink(member.id, manifest, maxMessageBytes)
  const wire = new Wire(member.id, link, { fileId: 'ab'.repeat(32), manifest, now, random: () => 0.5 }, { ...QUIET_WIRE, ...events })
  const lane: Lane = {
    linkId: `lane${member.lanes.length}`,
    initiator: true,
    extra: member.lanes.length > 0,
    transport: 'webrtc',
    startedAt: now(),
    link,
    wire,
    stats: undefined,
  }
  member.lanes.push(lane)
  return { lane, wire, sent }
}
