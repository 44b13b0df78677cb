import { chunkLength, type ContentLayout } from '../protocol/manifest'
import type { FileContent } from './file-content'
import type { ChunkScheduler } from '../core/scheduler'
import type { TransferStatus } from '../core/transfer-state'
import type { LibraryRole } from '../core/ports'
import type { PeerView, TransferView } from './views'

export interface TransferFigures {
  fileId: string
  role: LibraryRole
  /** Undefined until the manifest is known. */
  known: { content: FileContent; scheduler: ChunkScheduler } | undefined
  status: TransferStatus
  downRate: number
  upRate: number
  bytesUp: number
  bytesDown: number
  peers: PeerView[]
  addedAt: number | undefined
  paused: boolean
  kept: boolean
}

/** What the UI shows of one file, from the session's figures. */
export function transferView(figures: TransferFigures): TransferView {
  const { known, status, downRate } = figures
  const content = known?.content
  const bytesDone = known ? bytesHeld(known.content.layout, known.scheduler) : 0
  const remaining = content ? content.layout.size - bytesDone : 0
  return {
    fileId: figures.fileId,
    role: figures.role,
    name: content?.meta.name ?? '',
    type: content?.meta.type ?? '',
    size: content?.layout.size ?? 0,
    chunkSize: content?.layout.chunkSize ?? 0,
    secret: content?.secret,
    state: status.state,
    notice: status.notice,
    have: known?.scheduler.haveCount ?? 0,
    total: content?.layout.count ?? 0,
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
    kept: figures.kept,
    files: content?.meta.files,
  }
}

/** A file nothing is known of yet (a link being opened, a file being hashed): `overrides` says what is. */
export function blankTransferView(fileId: string, role: LibraryRole, overrides: Partial<TransferView> = {}): TransferView {
  return {
    fileId,
    role,
    name: '',
    type: '',
    size: 0,
    chunkSize: 0,
    secret: undefined,
    state: 'locating',
    notice: undefined,
    have: 0,
    total: 0,
    bytesDone: 0,
    downRate: 0,
    upRate: 0,
    bytesUp: 0,
    bytesDown: 0,
    etaSeconds: undefined,
    peers: [],
    addedAt: undefined,
    paused: false,
    complete: false,
    kept: false,
    files: undefined,
    ...overrides,
  }
}

/** Bytes of the file in the chunks held (the last chunk may be short). */
function bytesHeld(layout: ContentLayout, scheduler: ChunkScheduler): number {
  const last = layout.count - 1
  let bytes = scheduler.haveCount * layout.chunkSize
  if (last >= 0 && scheduler.has(last)) bytes -= layout.chunkSize - chunkLength(layout, last)
  return bytes
}
