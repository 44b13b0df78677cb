// `tabswarm keep --space 20GB`: donates disk to keep files available. The tracker says which files
// most need a copy; the client's KeeperDuty takes them on and lets go of them (engine/keeper-duty).
import { resolve } from 'node:path'
import { formatBytes } from '../core/format-bytes'
import { StoreError, type Library, type LibraryEntry, type Stores } from '../core/ports'
import { DownloadStore } from './disk-store'
import { connect, leaveOnSignal } from './node-peer'
import type { Output } from './output'
import { rate } from './terminal'

const STATUS_MS = 1_000
/** How often the keeper asks the tracker which files need it (TABSWARM_KEEPER_POLL_MS overrides). */
const DEFAULT_POLL_MS = 30_000

/**
 * A folder of kept files, each `<file id>.kept` beside its manifest in `.tabswarm/`: the folder is
 * the library, so a keeper started again resumes and seeds everything in it.
 */
class KeptFolder extends DownloadStore implements Library {
  constructor(root: string) {
    super(root, { inPlace: true })
    this.access = { keeper: true }
  }

  async saveEntry(): Promise<void> {} // the manifest in the folder is the record

  async listEntries(): Promise<LibraryEntry[]> {
    const entries: LibraryEntry[] = []
    for (const fileId of await this.fileIds()) {
      const manifest = await this.loadManifest(fileId).catch(() => undefined)
      if (!manifest) continue
      entries.push({ fileId, name: '', size: manifest.size, role: 'downloaded', addedAt: 0, updatedAt: 0, kept: true })
    }
    return entries
  }

  fileBlob(): Promise<Blob> {
    return Promise.reject(new StoreError('A keeper does not open the files it keeps.', 'unavailable'))
  }

  deleteFile(fileId: string): Promise<void> {
    return this.discard(fileId)
  }

  override stores(): Stores {
    return { manifests: this, chunks: this, writer: this, library: this }
  }
}

export async function keepSpace(space: number, options: { tracker: string; out: string }, out: Output): Promise<void> {
  const folder = new KeptFolder(resolve(options.out))
  const pollMs = Number(process.env.TABSWARM_KEEPER_POLL_MS) || DEFAULT_POLL_MS
  const { tracker, client } = await connect(folder.stores(), options.tracker, { keeperPollMs: pollMs })
  client.setKeeping(space)
  out.say(`Keeping files available in ${folder.root}, up to ${formatBytes(space)}, as the tracker asks.`, {
    event: 'keeping',
    folder: folder.root,
    space,
  })
  out.aside('Files are kept as they travel (a private file encrypted, unread). Ctrl-C stops; run again to go on.\n')
  leaveOnSignal(() => {
    out.done()
    tracker.stop()
    out.end('Stopped keeping; what is kept stays in the folder.', { event: 'stopped' })
  })
  const told = new Map<string, string>()
  setInterval(() => {
    const { transfers, keeping } = client.snapshot()
    for (const [fileId, view] of transfers) {
      const state = view.complete ? 'kept' : 'fetching'
      if (told.get(fileId) === state) continue
      told.set(fileId, state)
      const text = view.complete ? `Kept ${fileId} (${formatBytes(view.size)}), every chunk verified; seeding it.` : `Fetching ${fileId}…`
      out.say(text, { event: view.complete ? 'kept' : 'fetching', fileId, size: view.size })
    }
    for (const fileId of told.keys()) {
      if (transfers.has(fileId)) continue
      out.say(`Let go of ${fileId}: another file needed the space more.`, { event: 'released', fileId })
      told.delete(fileId)
    }
    const sent = [...transfers.values()].reduce((sum, view) => sum + view.bytesUp, 0)
    const upRate = [...transfers.values()].reduce((sum, view) => sum + view.upRate, 0)
    const online = tracker.status === 'online' ? 'tracker connected' : 'tracker unreachable, retrying'
    const used = keeping?.used ?? 0
    out.update(
      `Keeping ${transfers.size} files, ${formatBytes(used)} of ${formatBytes(space)}, ${formatBytes(sent)} sent, ${rate(upRate)} · ${online}`,
      {
        event: 'keeping-status',
        files: transfers.size,
        used,
        space,
        bytesUp: sent,
        upRate: Math.round(upRate),
        tracker: tracker.status,
        peerId: tracker.peerId,
      },
    )
  }, STATUS_MS)
}
