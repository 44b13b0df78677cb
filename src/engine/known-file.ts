import type { Bitfield } from '../protocol/bitfield'
import type { Manifest } from '../protocol/manifest'
import type { Bandwidth } from '../core/rate-limit'
import type { ChunkWriter, Clock } from '../core/ports'
import type { TransferNotice } from '../core/transfer-state'
import { ChunkKeeper } from './chunk-keeper'
import { Downloader } from './downloader'
import type { FileContent } from './file-content'
import type { PeerLinks } from './peer-links'
import { Playback } from './playback'

/** The parts of a file session that exist once the manifest is known (and opened). */
export interface Known {
  manifest: Manifest
  content: FileContent
  downloader: Downloader
  keeper: ChunkKeeper
  /** The file read while it arrives (a player, a preview). */
  playback: Playback
}

/** What the session lends the parts, and hears from them. */
export interface KnownFileHooks {
  clock: Clock
  random: () => number
  bandwidth: Bandwidth
  writer: ChunkWriter | undefined
  /** A stored chunk, to read the file while it arrives. */
  read: (index: number) => Promise<Uint8Array<ArrayBuffer> | undefined>
  links: Pick<PeerLinks, 'wires' | 'wire' | 'ban'>
  canFetch: () => boolean
  isClosed: () => boolean
  onReceived: (bytes: number) => void
  onStored: (index: number) => void
  onChange: () => void
  /** A chunk matched its hash but does not open with the link's key. */
  onUnopenable: () => void
  /** Storing failed: the session pauses with this reason, keeping what it has. */
  onStorageFailed: (notice: Extract<TransferNotice, { kind: 'storage-paused' }>) => void
  /** A stored chunk failed its check; the downloader already counts it missing. */
  onDamaged: (index: number) => void
}

/** The downloader and the chunk keeper of a file, wired to each other and to the session. */
export function knowFile(fileId: string, manifest: Manifest, content: FileContent, have: Bitfield, hooks: KnownFileHooks): Known {
  const { links } = hooks
  const downloader = new Downloader(manifest, have, {
    clock: hooks.clock,
    random: hooks.random,
    bandwidth: hooks.bandwidth,
    wires: () => links.wires(),
    wire: (peerId) => links.wire(peerId),
    canFetch: hooks.canFetch,
    isStoring: (index) => keeper.isStoring(index),
    keep: (peerId, index, bytes) => keeper.keep(peerId, index, bytes),
    onReceived: hooks.onReceived,
    onStored: hooks.onStored,
    onChange: hooks.onChange,
  })
  const keeper = new ChunkKeeper({
    fileId,
    manifest,
    toStored: content.toStored,
    onUnopenable: hooks.onUnopenable,
    writer: hooks.writer,
    isClosed: hooks.isClosed,
    has: (index) => downloader.scheduler.has(index),
    ban: (peerId, reason) => links.ban(peerId, reason),
    onStorageFailed: (detail) => {
      const { haveCount, total } = downloader.scheduler
      hooks.onStorageFailed({ kind: 'storage-paused', detail, have: haveCount, total })
    },
    onDamaged: (index) => {
      downloader.lose(index)
      hooks.onDamaged(index)
    },
  })
  const playback = new Playback({
    layout: content.layout,
    has: (index) => downloader.scheduler.has(index),
    read: hooks.read,
    prioritize: (indexes) => downloader.prioritize(indexes),
  })
  return { manifest, content, downloader, keeper, playback }
}
