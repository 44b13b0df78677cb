import { chunkLength, type Manifest } from '../protocol/manifest'
import type { ChunkScheduler } from '../core/scheduler'
import type { TransferStatus } from '../core/transfer-state'
import type { LibraryRole } from '../core/ports'
import type { PeerView, TransferView } from './views'

export interface TransferFigures {
  fileId: string
  role: LibraryRole
  /** Undefined until the manifest is known. */
  known: { manifest: Manifest; scheduler: ChunkScheduler } | undefined
  status: TransferStatus
  downRate: number
  upRate: number
  bytesUp: number
  bytesDown: number
  peers: PeerView[]
  addedAt: number | undefined
  paused: boolean
}

/** What the UI shows of one file, from the session's figures. */
export function transferView(figures: TransferFigures): TransferView {
  const { known, status, downRate } = figures
  const manifest = known?.manifest
  const bytesDone = known ? bytesHeld(known.manifest, known.scheduler) : 0
  const remaining = manifest ? manifest.size - bytesDone : 0
  return {
    fileId: figures.fileId,
    role: figures.role,
    name: manifest?.name ?? '',
    size: manifest?.size ?? 0,
    chunkSize: manifest?.chunkSize ?? 0,
    state: status.state,
    notice: status.notice,
    have: known?.scheduler.haveCount ?? 0,
    total: manifest?.hashes.length ?? 0,
    bytesDone,
    downRate,
    upRate: figures.upRate,
    bytesUp: figures.bytesUp,
    bytesDown: figures.bytesDown,
    etaSeconds: status.state === 'downloading' && downRate > 0 ? Math.ceil(remaining / downRate) : undefined,
    peers: figures.peers,
    addedAt: figures.addedAt,
    paused: figures.paused,
    complete: known?.scheduler.isComplete ?? false,
    files: manifest?.files,
  }
}

/** Bytes of the chunks held (the last chunk may be short). */
function bytesHeld(manifest: Manifest, scheduler: ChunkScheduler): number {
  const last = manifest.hashes.length - 1
  let bytes = scheduler.haveCount * manifest.chunkSize
  if (last >= 0 && scheduler.has(last)) bytes -= manifest.chunkSize - chunkLength(manifest, last)
  return bytes
}
