import type { LibraryRole, LinkRoute, TrackerStatus } from '../core/ports'

// What the UI sees: plain data, rebuilt on demand.

export type TransferState = 'hashing' | 'seeding' | 'locating' | 'downloading' | 'stalled' | 'paused' | 'complete' | 'error'

export interface PeerView {
  peerId: string
  status: 'connecting' | 'connected' | 'skipped'
  /** Direct, or through a TURN relay; undefined until known. */
  route: LinkRoute | undefined
  rttMs: number | undefined
  bytesDown: number
  bytesUp: number
  downRate: number
  upRate: number
  /** Why a peer was skipped. */
  reason: string | undefined
}

export interface TransferView {
  /** Empty while a shared file is still being hashed. */
  fileId: string
  role: LibraryRole
  name: string
  size: number
  chunkSize: number
  state: TransferState
  /** A sentence for people: why it is stalled, what went wrong and what to do. */
  message: string
  have: number
  total: number
  bytesDone: number
  downRate: number
  upRate: number
  bytesUp: number
  etaSeconds: number | undefined
  peers: PeerView[]
  /** When this browser got the file (ms since the epoch); undefined until known. */
  addedAt: number | undefined
  /** Held back by the user: not fetching, not seeding. */
  paused: boolean
  complete: boolean
  /** For a bundle: its files, by relative path. */
  files: { path: string; size: number }[] | undefined
}

export interface ShareJob {
  /** Local id for a file being hashed. */
  jobId: string
  name: string
  size: number
  done: number
  total: number
  fileId: string | undefined
  error: string | undefined
}

export interface BandwidthLimits {
  /** Bytes per second; undefined means no cap. */
  up: number | undefined
  down: number | undefined
}

export interface ClientSnapshot {
  tracker: TrackerStatus
  limits: BandwidthLimits
  peerId: string | undefined
  shares: ShareJob[]
  transfers: Map<string, TransferView>
}
