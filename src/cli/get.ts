// `tabswarm get <link>` (and `keep <link>`): downloads into a folder, then maybe keeps seeding it.
import { resolve } from 'node:path'
import { TRACKER_PATH } from '../protocol/tracker'
import { bundleOffsets } from '../protocol/manifest'
import { parseShareLink } from '../protocol/links'
import type { SwarmClient } from '../engine/client'
import type { FileAccess } from '../engine/file-content'
import { formatBytes } from '../core/format-bytes'
import { visibleName } from '../core/file-name'
import { trackerUrlFor } from '../wiring/create-client'
import { connect, leaveOnSignal } from './node-peer'
import { DownloadStore } from './disk-store'
import { codeLine, noticeLine } from './notices'
import type { Output } from './output'
import { connectedPeers, opened, peersLine, serveFromDisk, stampOf, UsageError } from './seed'
import { progressBar, rate } from './terminal'

/** How often the download's status is told. */
const GET_STATUS_MS = 250
/** While the tracker cannot be reached, a join code is looked up again this often. */
const CODE_RETRY_MS = 1_000

export interface GetOptions {
  tracker: string | undefined
  out: string
  seed: boolean
  /** A keeper fetches the chunks as they travel, never using a key, and seeds them. */
  keep?: boolean
  /** Gives up once this long has passed with no chunk verified (no sharer, no tracker, stalled); undefined: waits. */
  timeoutMs?: number
}

/** `get --timeout` ran out: nothing verified for that long. What was saved stays for the next run. */
export class NoProgress extends Error {}

export async function get(linkText: string, options: GetOptions, out: Output): Promise<void> {
  const link = parseShareLink(linkText)
  if (!link.ok && link.reason === 'not-a-link') {
    throw new UsageError(`${linkText} is not a link. A TabSwarm link looks like http://host:8080/#/f/<64 hex characters>.`)
  }
  if (!link.ok) throw new UsageError('That link does not end in a file id (#/f/<64 hex characters>). Copy the whole link again.')
  const store = new DownloadStore(resolve(options.out))
  const trackerUrl = options.tracker ?? trackerUrlFor(link.origin, TRACKER_PATH)
  const { tracker, client } = await connect(store.stores(), trackerUrl)
  const found = 'fileId' in link ? link : await fileOfCode(client, tracker, link.joinCode)
  const { fileId } = found
  // A keeper drops the key even when the link carries one: it holds what it cannot read.
  const access: FileAccess = options.keep ? { keeper: true } : { secret: found.secret }
  store.access = access
  const forgetSignal = leaveOnSignal(() => {
    out.done()
    tracker.stop()
    out.end('Stopped. Run the same command again to continue where it left off.', { event: 'stopped' })
  })
  const stored = await store.loadManifest(fileId)
  if (stored) {
    const held = (await store.storedChunks(fileId)).length
    const { meta } = await opened(stored, access)
    out.say(`Resuming “${visibleName(meta.name)}”: ${held} of ${stored.hashes.length} chunks are already on disk.`, {
      event: 'resuming',
      fileId,
      have: held,
      total: stored.hashes.length,
    })
  }
  await (options.keep ? client.keep(fileId) : client.open(fileId, access.secret))
  const started = Date.now()
  const progress = { at: started, have: -1 }
  const stopAll = () => {
    forgetSignal()
    tracker.stop()
    client.close()
  }
  await new Promise<void>((resolveDone, reject) => {
    const timer = setInterval(() => {
      const view = client.snapshot().transfers.get(fileId)
      const now = Date.now()
      if (view && view.have > progress.have) Object.assign(progress, { at: now, have: view.have })
      if (options.timeoutMs !== undefined && now - progress.at >= options.timeoutMs) {
        clearInterval(timer)
        const why = view?.notice ? ` (${noticeLine(view.notice)})` : tracker.status === 'online' ? '' : ' (the tracker cannot be reached)'
        return reject(
          new NoProgress(
            `Nothing arrived for ${Math.round(options.timeoutMs / 1000)} s${why}, so it gave up. Run the same command again to continue where it left off.`,
          ),
        )
      }
      // Nobody sharing is not the end: the sender may come back (or the tracker be rebuilding its
      // swarms after an outage), and the download starts by itself when the tracker says so.
      const waiting = view?.state === 'error' && view.notice?.kind === 'not-shared'
      if (view?.state === 'error' && !waiting) {
        clearInterval(timer)
        return reject(new Error(noticeLine(view.notice)))
      }
      if (!view || view.total === 0) {
        const notice = waiting ? noticeLine(view.notice) : undefined
        const looking = notice ?? (tracker.status === 'online' ? 'Looking for the file…' : 'Connecting to the tracker…')
        const told = notice ? { notice } : {}
        return out.update(looking, { event: 'looking', fileId, tracker: tracker.status, peerId: tracker.peerId, ...told })
      }
      const figures = {
        event: 'progress',
        fileId,
        state: view.state,
        have: view.have,
        total: view.total,
        bytesDone: view.bytesDone,
        size: view.size,
        downRate: Math.round(view.downRate),
        peers: connectedPeers(view),
        tracker: tracker.status,
        peerId: tracker.peerId,
      }
      if (view.state === 'complete') {
        clearInterval(timer)
        const seconds = (Date.now() - started) / 1000
        out.update(`${visibleName(view.name)}: ${progressBar(1, 1)} ${formatBytes(view.size)} in ${seconds.toFixed(1)} s`, figures, true)
        return resolveDone()
      }
      const note = view.state === 'stalled' ? ` · ${noticeLine(view.notice)}` : ''
      const text = `${visibleName(view.name)}: ${progressBar(view.bytesDone, view.size)} ${formatBytes(view.bytesDone)} of ${formatBytes(view.size)} · ${rate(view.downRate)} · ${peersLine(view)}${note}`
      out.update(text, view.notice ? { ...figures, notice: noticeLine(view.notice) } : figures)
    }, GET_STATUS_MS)
  }).catch((error: unknown) => {
    stopAll()
    throw error
  })
  const manifest = (await store.loadManifest(fileId))!
  const content = await opened(manifest, access)
  const { meta } = content
  const written = await store.finish(fileId)
  stopAll()
  const how = options.keep ? ', as it travels: encrypted if private' : ''
  out.say(`Saved (every chunk verified${how}):\n${written.map((path) => `  ${path}`).join('\n')}`, {
    event: 'done',
    fileId,
    paths: written,
    seconds: (Date.now() - started) / 1000,
  })
  if (!options.seed) return
  // Shared again from where it was saved, under the same link (no hashing: every chunk was verified).
  const offsets = meta.files ? bundleOffsets(meta.files) : [{ offset: 0, size: meta.size }]
  const parts = offsets.map(({ offset, size }, i) => ({ path: written[i]!, offset, size }))
  const stamps = await Promise.all(parts.map(({ path }) => stampOf(path)))
  await serveFromDisk({ manifest, content, access, parts, stamps, trackerUrl, appOrigin: link.origin, reused: false }, out)
}

/** The file a join code stands for, once the tracker answers; a code that leads nowhere stops with the reason. */
async function fileOfCode(client: SwarmClient, tracker: { stop(): void }, code: string): Promise<{ fileId: string; secret?: string }> {
  for (;;) {
    const found = await client.lookupCode(code)
    if (found.ok) return found
    if (found.reason !== 'offline') {
      tracker.stop()
      throw new Error(codeLine(found))
    }
    await new Promise((resolveLater) => setTimeout(resolveLater, CODE_RETRY_MS))
  }
}
