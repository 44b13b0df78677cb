import type { BandwidthLimits, ClientSnapshot } from '../engine/views'
import type { SwarmView } from '../engine/tracker-views'
import type { PieceMap } from '../core/piece-map'
import type { FileSummary } from '../protocol/tracker'

/** Everything the UI may ask of the rest of the app. */
export interface AppFacade {
  subscribe(listener: () => void): () => void
  snapshot(): ClientSnapshot
  share(file: File): Promise<string | undefined>
  open(fileId: string): Promise<void>
  retry(fileId: string): void
  shareBundle(name: string, entries: { path: string; file: File }[]): Promise<string | undefined>
  /** The whole file, or one file of a bundle by its path. */
  fileForSaving(fileId: string, path?: string): Promise<{ blob: Blob; name: string }>
  zipForSaving(fileId: string): Promise<{ zip: Response; name: string }>
  setLimits(limits: BandwidthLimits): void
  pause(fileId: string): Promise<void>
  resume(fileId: string): Promise<void>
  remove(fileId: string): Promise<void>
  pieceMap(fileId: string): PieceMap | undefined
  /** Files shared on the tracker now; rejects while offline. */
  listFiles(): Promise<FileSummary[]>
  watchSwarm(fileId: string, listener: (view: SwarmView) => void): () => void
}
