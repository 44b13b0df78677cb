import type { LibraryRole, LinkPath, LinkRoute, TrackerStatus } from '../core/ports'
import type { TransferNotice, TransferState } from '../core/transfer-state'

// What the UI sees: plain data, rebuilt on demand. Reasons are typed values; the UI words them.

export type { ChunkRange, TransferNotice, TransferState } from '../core/transfer-state'

export interface PeerView {
  peerId: string
  status: 'connecting' | 'connected' | 'skipped'
  /** Direct, or through a TURN relay (or the service's); undefined until known. */
  route: LinkRoute | undefined
  /** Which way its packets go: host, reflexive (STUN), turn, or server (the service's relay); undefined until known. */
  path: LinkPath | undefined
  /** The path's round trip (the transport's, else the wire's pings), ms; undefined until measured. */
  rttMs: number | undefined
  /** Peer connections open to it for this file: its first link and any extra lanes. */
  lanes: number
  /** The cap it said it puts on its upload, bytes per second; undefined: none said. */
  uploadCap: number | undefined
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
  /** The MIME type its sharer gave (empty if none). */
  type: string
  size: number
  chunkSize: number
  /** A private file's key (its link carries it after the file id); undefined for a listed file. */
  secret: string | undefined
  state: TransferState
  /** Why it is in error, paused or stalled. */
  notice: TransferNotice | undefined
  have: number
  total: number
  bytesDone: number
  downRate: number
  upRate: number
  bytesUp: number
  /** Piece bytes received this session, duplicates included (above what was needed: waste). */
  bytesDown: number
  etaSeconds: number | undefined
  peers: PeerView[]
  /** When this browser got the file (ms since the epoch); undefined until known. */
  addedAt: number | undefined
  /** Held back by the user: not fetching, not seeding. */
  paused: boolean
  complete: boolean
  /** Held for others without its key (a keeper's copy). */
  kept: boolean
  /** For a bundle: its files, by relative path. */
  files: { path: string; size: number }[] | undefined
}

/**
 * What another tab of this site means for this one's storage: a tab of an older version holds up
 * the upgrade of the database (this one waits for it), or a newer one took it over (reload).
 */
export type StorageNotice = 'upgrade-blocked' | 'superseded'

/** Whether the page can play and preview files while they arrive (its Service Worker), or why not. */
export type StreamSupport = 'starting' | 'ready' | 'no-service-worker' | 'failed'

export interface ShareOptions {
  /** On the tracker's public list, with its name, and not encrypted (the classroom case). Private otherwise. */
  listed?: boolean
  /** A private file the tracker may point keepers at (they hold it encrypted, unread). A listed file always may. */
  keepers?: boolean
}

export interface ShareJob {
  /** Local id for a file being hashed. */
  jobId: string
  name: string
  size: number
  /** Chunks hashed, of `total`. */
  done: number
  total: number
  /** Chunks copied into this browser's storage (the link works before, served from the file itself). */
  stored: number
  fileId: string | undefined
  /** The key of a private share, once hashed; undefined for a listed one. */
  secret: string | undefined
  /** This tab already shared the same file privately: the job gives its link again. */
  reused?: boolean
  error: ShareProblem | undefined
}

/** Why sharing a file failed: storage, or the file could not be read. */
export type ShareProblem = Extract<TransferNotice, { kind: 'storage-failed' | 'unreadable' }>

export interface BandwidthLimits {
  /** Bytes per second; undefined means no cap. */
  up: number | undefined
  down: number | undefined
}

/** What a keeper shows: the space it offers and what it holds in it. */
export interface KeepingView {
  space: number
  used: number
  files: number
}

export interface ClientSnapshot {
  tracker: TrackerStatus
  limits: BandwidthLimits
  peerId: string | undefined
  shares: ShareJob[]
  transfers: Map<string, TransferView>
  /** What this peer offers as a keeper; undefined when it is not one. */
  keeping: KeepingView | undefined
}
