import type { ContentLayout, Manifest } from '../protocol/manifest'
import type { ClientMessage, ServerMessage, SignalData } from '../protocol/tracker'

// Interfaces that the store and net layers implement, so the engine and tests can swap them.

export type LibraryRole = 'shared' | 'downloaded'

export interface LibraryEntry {
  fileId: string
  name: string
  size: number
  role: LibraryRole
  addedAt: number
  updatedAt: number
  /** Paused by the user (a download not fetching, or a file not seeded); kept across reloads. */
  paused?: boolean
  /** A private file's key, kept so that this browser can open what it holds after a reload. */
  secret?: string
  /** Held for others without a key (a keeper): its chunks are kept as they travel. */
  kept?: boolean
  /** The sharer let keepers hold this private file: the tracker may point them at it. */
  keepers?: boolean
}

/** The manifests of the files a peer holds or fetches. */
export interface ManifestStore {
  /** `kept`: the chunks will be stored as they travel (a keeper's copy), laid out as `wireLayout(manifest)`. */
  saveManifest(fileId: string, manifest: Manifest, options?: { kept?: boolean }): Promise<void>
  /** Undefined when absent; throws a StoreError when the stored record is not a valid manifest. */
  loadManifest(fileId: string): Promise<Manifest | undefined>
}

/**
 * Reading chunk bytes, to serve them. Stores hold a file's own bytes laid out as
 * `contentLayout(manifest)` says: a private file's chunks decrypted.
 */
export interface ChunkReader {
  /** A whole stored chunk; undefined when it is not stored. */
  readChunk(fileId: string, index: number): Promise<Uint8Array<ArrayBuffer> | undefined>
  storedChunks(fileId: string): Promise<number[]>
}

/** Writing verified chunk bytes of a download (or of a file being shared). */
export interface ChunkWriter {
  /** The store owns `bytes` afterwards: the caller must not change them. */
  putChunk(fileId: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void>
}

/** What survives a reload: the entries of the library, the stored files, removing one with its bytes. */
export interface Library {
  saveEntry(entry: LibraryEntry): Promise<void>
  listEntries(): Promise<LibraryEntry[]>
  /** The complete stored file as one Blob of `type`, backed by the store's files (never assembled in memory). */
  fileBlob(fileId: string, layout: ContentLayout, type: string): Promise<Blob>
  /** Deletes the manifest, every chunk and the library entry of a file, freeing the space. */
  deleteFile(fileId: string): Promise<void>
}

/**
 * The stores a client works with. A seeder from disk has no writer; a peer that remembers nothing
 * across runs (the command-line peer) has no library.
 */
export interface Stores {
  manifests: ManifestStore
  chunks: ChunkReader
  writer: ChunkWriter | undefined
  library: Library | undefined
}

/** A browser store does every job. */
export type ChunkStore = ManifestStore & ChunkReader & ChunkWriter & Library

export function storesOf(store: ChunkStore): Stores {
  return { manifests: store, chunks: store, writer: store, library: store }
}

export class StoreError extends Error {
  constructor(
    message: string,
    readonly kind: 'quota' | 'corrupt' | 'unavailable',
  ) {
    super(message)
    this.name = 'StoreError'
  }
}

// ---- time ----

/** Cancels a timer. */
export type Cancel = () => void

/** Time and timers, injected so the engine runs on a fake clock in tests. */
export interface Clock {
  now(): number
  after(ms: number, callback: () => void): Cancel
  every(ms: number, callback: () => void): Cancel
}

// ---- network ports ----

export type TrackerStatus = 'connecting' | 'online' | 'offline'

export interface IceServer {
  urls: string | string[]
  username?: string | undefined
  credential?: string | undefined
}

/** Requests without an `id`: the tracker client assigns it and matches the reply. */
export type TrackerRequest = DistributiveOmit<Extract<ClientMessage, { id: number }>, 'id'>
export type TrackerNotice = Exclude<ClientMessage, { id: number } | { type: 'hello' }>
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never

export interface TrackerPort {
  readonly status: TrackerStatus
  readonly peerId: string | undefined
  readonly iceServers: IceServer[]
  /** Resolves with the reply (which may be an `error` message); rejects when offline or timed out. */
  request(message: TrackerRequest): Promise<ServerMessage>
  /** Fire-and-forget; dropped while offline (state is re-announced on reconnect). */
  send(message: TrackerNotice): void
  onPush(listener: (message: ServerMessage) => void): () => void
  onStatus(listener: (status: TrackerStatus) => void): () => void
  /** While offline, tries again now instead of after the backoff (the page is back from sleep). */
  reconnectNow(): void
}

export interface PeerLink {
  readonly remoteId: string
  /** Names this link in signals (a first link's random id, or a lane's). */
  readonly linkId: string
  readonly open: boolean
  /** Queues a frame; the link sends as fast as the channel's buffer allows. */
  send(frame: Uint8Array<ArrayBuffer>): void
  /** Bytes queued here plus bytes buffered in the channel. */
  readonly queuedBytes: number
  /** The largest message the far end accepts (`RTCSctpTransport.maxMessageSize`); undefined while unknown. */
  readonly maxMessageBytes: number | undefined
  signal(data: SignalData): void
  /** How the connection goes now (ICE can change it); undefined while unknown. */
  stats(): Promise<LinkStats | undefined>
  close(): void
}

/** Direct, or through a TURN relay. */
export type LinkRoute = 'direct' | 'relayed'

/**
 * The path a link's packets take: between the peers' own addresses (`host`), through their
 * routers' public ones (`reflexive`, learnt through STUN), through a TURN server, or over the
 * service's own WebSocket relay (`server`).
 */
export type LinkPath = 'host' | 'reflexive' | 'turn' | 'server'

export interface LinkStats {
  route: LinkRoute | undefined
  path: LinkPath | undefined
  /** The transport's round trip (ICE consent checks: the path alone, no queueing), ms. */
  rttMs: number | undefined
}

export interface PeerLinkEvents {
  onSignal(data: SignalData): void
  onOpen(): void
  onData(bytes: Uint8Array): void
  onDrain(): void
  onClose(reason: string): void
}

export interface PeerLinkOptions {
  initiator: boolean
  remoteId: string
  linkId: string
  fileId: string
  iceServers: IceServer[]
}

export interface PeerLinkFactory {
  create(options: PeerLinkOptions, events: PeerLinkEvents): PeerLink
}

/** The service's relay, for peers no WebRTC connection reaches. */
export interface RelayOption {
  links: PeerLinkFactory
  /** Whether the tracker relays (it said so on this connection). */
  available: () => boolean
  /** What it carries for this peer, as the tracker said. */
  bytesPerSecond: () => number | undefined
}
