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
  /** IndexedDB opens; without it files live in memory and do not survive a reload. */
  indexedDb: boolean
}

export interface Capabilities {
  missing: MissingFeature[]
  /** Works, but files last only as long as the tab. */
  storageInMemoryOnly: boolean
}

export function capabilitiesOf(probe: BrowserProbe): Capabilities {
  const missing: MissingFeature[] = []
  if (!probe.dataChannels) missing.push('webrtc')
  if (!probe.secureContext) missing.push('secure-context')
  else if (!probe.subtleCrypto) missing.push('webcrypto')
  return { missing, storageInMemoryOnly: !probe.indexedDb }
}
