// The engine's one API: everything the UI may ask of the rest of the app, and the shapes it gets
// back. The UI imports this module and nothing else of the engine, core or net.
import type { FileSummary } from '../protocol/tracker'
import type { PieceMap } from '../core/piece-map'
import type { BandwidthLimits, ClientSnapshot, ShareOptions } from './views'
import type { TrackerFilePage, SwarmView } from './tracker-views'
import type { CodeLookup, PresentedCode } from './join-codes'

export type {
  BandwidthLimits,
  ChunkRange,
  ClientSnapshot,
  KeepingView,
  PeerView,
  ShareJob,
  ShareOptions,
  ShareProblem,
  StorageNotice,
  StreamSupport,
  TransferNotice,
  TransferState,
  TransferView,
} from './views'
export type { TrackerFilePage, SwarmView } from './tracker-views'
export type { CodeLookup, PresentedCode } from './join-codes'
export { formatJoinCode, readJoinCode, JOIN_CODE_LENGTH } from '../protocol/join-code'
export type { PieceMap, PieceCell } from '../core/piece-map'
export type { FileSummary } from '../protocol/tracker'
export type { TrackerStatus, LinkRoute } from '../core/ports'
export type { MissingFeature } from '../core/capabilities'
export { parseRate } from '../core/rate-limit'
export { blankTransferView } from './transfer-view'
export { MAX_LANES_PER_MEMBER } from '../core/lane-controller'
export { formatBytes, parseBytes } from '../core/format-bytes'
export { formatChunkRanges } from '../core/transfer-state'
export { noticeWords } from '../core/notice-words'
export { safeFileName, visibleName } from '../core/file-name'
export { previewOf, previewsWhileArriving, type PreviewKind } from '../core/preview-kind'

export interface EngineApi {
  subscribe(listener: () => void): () => void
  snapshot(): ClientSnapshot
  /** Private (encrypted, unlisted) unless `options.listed`. */
  share(file: File, options?: ShareOptions): Promise<string | undefined>
  /** `secret` is a private file's key, from its link. */
  open(fileId: string, secret?: string): Promise<void>
  retry(fileId: string): void
  shareBundle(name: string, entries: { path: string; file: File }[], options?: ShareOptions): Promise<string | undefined>
  /** The whole file, or one file of a bundle by its path. */
  fileForSaving(fileId: string, path?: string): Promise<{ blob: Blob; name: string }>
  zipForSaving(fileId: string): Promise<{ zip: Response; name: string }>
  setLimits(limits: BandwidthLimits): void
  /** Donates up to `space` bytes as a keeper of files the tracker says need copies; undefined stops. */
  setKeeping(space: number | undefined): void
  pause(fileId: string): Promise<void>
  resume(fileId: string): Promise<void>
  remove(fileId: string): Promise<void>
  pieceMap(fileId: string): PieceMap | undefined
  /** The first page of files shared on the tracker now (the most shared first) and how many there are; rejects while offline. */
  listFiles(): Promise<TrackerFilePage>
  watchSwarm(fileId: string, listener: (view: SwarmView) => void): () => void
  /** A join code for a file this tab shares (the same one each time while the tracker keeps it); rejects with the reason. */
  presentCode(fileId: string): Promise<PresentedCode>
  /** Ends this file's join code now: typed later, it says the sharer ended it; a private file's key leaves the tracker. */
  endCode(fileId: string): Promise<void>
  /** The file a join code (as typed) stands for, or why not. */
  lookupCode(text: string): Promise<CodeLookup>
  /** The page is back (from the background, a locked screen, another window): reconnect now rather than after the backoff, and resume what waited for storage space. */
  wake(): void
  /** A player of the file (or of one file in its bundle) learned how long it plays: what is fetched ahead is sized from that. */
  mediaDuration(fileId: string, seconds: number, path?: string): void
}
