// What a browser must have to take part, decided from facts the page's composition root probes.

/** Missing pieces that stop this browser from sharing or downloading at all. */
export type MissingFeature = 'webrtc' | 'secure-context' | 'webcrypto'

export interface BrowserProbe {
  /** `RTCPeerConnection` exists and makes data channels. */
  dataChannels: boolean
  /** The page is a secure context (https, or localhost). */
  secureContext: boolean
  /** `crypto.subtle` is there (only in secure contexts). */
  subtleCrypto: boolean
}

/** What stops this browser from taking part; empty when nothing does. (No IndexedDB is no stop: files then live in memory.) */
export function missingFeatures(probe: BrowserProbe): MissingFeature[] {
  const missing: MissingFeature[] = []
  if (!probe.dataChannels) missing.push('webrtc')
  if (!probe.secureContext) missing.push('secure-context')
  else if (!probe.subtleCrypto) missing.push('webcrypto')
  return missing
}
