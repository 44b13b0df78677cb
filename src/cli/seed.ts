// `tabswarm seed`: shares files from disk, and keeps serving them under the same link across runs.
import { openAsBlob } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, join, relative, resolve, sep } from 'node:path'
import QRCode from 'qrcode'
import { TRACKER_PATH } from '../protocol/tracker'
import { bundleOffsets, fileIdOf, type Manifest } from '../protocol/manifest'
import { shareLink } from '../protocol/links'
import { newSecret } from '../protocol/sealed'
import { describeBundle, describeFile, type BundleEntry } from '../engine/describe-file'
import { openContent, type FileAccess, type FileContent } from '../engine/file-content'
import type { TransferView } from '../engine/views'
import { formatBytes } from '../core/format-bytes'
import { visibleName } from '../core/file-name'
import { connect, EXIT_GRACE_MS, leaveOnSignal } from './node-peer'
import { SeedStore, type DiskPart, type Stamp } from './disk-store'
import { noticeLine } from './notices'
import type { Output } from './output'
import { SeedShares } from './shares'
import { progressBar, rate } from './terminal'

/** How often the seeding status is told. */
const SEED_STATUS_MS = 1_000

export const DEFAULT_TRACKER = `ws://localhost:8080${TRACKER_PATH}`

export class UsageError extends Error {}

export function appOriginOf(trackerUrl: string): string {
  const url = new URL(trackerUrl)
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
  return url.origin
}

/** What tells a file on disk changed after it was shared. */
export async function stampOf(path: string): Promise<Stamp> {
  const { size, mtimeMs } = await stat(path)
  return { size, mtimeMs }
}

/** Every file under a folder, with '/'-separated paths relative to it, in a stable order. */
async function walk(folder: string): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found.push(join(entry.parentPath, entry.name))
  }
  return found.sort()
}

/** Peers the transfer has a live link with. */
export function connectedPeers(view: TransferView | undefined): number {
  return view?.peers.filter((peer) => peer.status === 'connected').length ?? 0
}

export function peersLine(view: TransferView | undefined): string {
  const connected = connectedPeers(view)
  return `${connected} ${connected === 1 ? 'peer' : 'peers'}`
}

/** A manifest this peer made or verified, opened with its key (or as its keeper). */
export async function opened(manifest: Manifest, access: FileAccess): Promise<FileContent> {
  const content = await openContent(manifest, access)
  if (typeof content === 'string') throw new Error(noticeLine({ kind: content }))
  return content
}

export interface SeedOptions {
  tracker: string | undefined
  app: string | undefined
  listed: boolean
  keepers: boolean
  /** A fresh link (a new key) even where these files were shared before. */
  newLink: boolean
  /** Where the shares are remembered (see shares.ts). */
  stateDir: string
}

/** Hashes a file or folder (unless the same unchanged files were shared before), then serves it. */
export async function seed(target: string, options: SeedOptions, out: Output): Promise<void> {
  const path = resolve(target)
  const info = await stat(path).catch(() => undefined)
  if (!info) throw new UsageError(`${target} does not exist.`)
  const files = info.isDirectory() ? await walk(path) : [path]
  if (files.length === 0) throw new UsageError(`${target} holds no files to share.`)
  const stamps = await Promise.all(files.map(stampOf))
  const shares = new SeedShares(options.stateDir)
  const how = { listed: options.listed, keepers: options.keepers }
  const earlier = options.newLink ? undefined : await shares.find(files, stamps, how)
  let manifest = earlier?.manifest
  const secret = earlier ? earlier.secret : options.listed ? undefined : newSecret()
  if (!manifest) {
    const onChunk = (done: number, total: number) =>
      out.update(`Hashing ${progressBar(done, total)} ${done}/${total} chunks`, { event: 'hashing', done, total }, done === total)
    manifest = await describe(path, info.isDirectory(), files, onChunk, secret)
    out.done()
    await shares.save({ paths: files, stamps, ...how, ...(secret ? { secret } : {}), manifest })
  }
  const content = await opened(manifest, { secret })
  const { meta } = content
  // The parts are the files on disk, in manifest order (a bundle's layout, with the real paths).
  const parts: DiskPart[] = meta.files
    ? bundleOffsets(meta.files).map((file, i) => ({ path: files[i]!, offset: file.offset, size: file.size }))
    : [{ path, offset: 0, size: meta.size }]
  const trackerUrl = options.tracker ?? DEFAULT_TRACKER
  const access = { secret, keepers: options.keepers }
  await serveFromDisk(
    {
      manifest,
      content,
      access,
      parts,
      stamps,
      trackerUrl,
      appOrigin: options.app ?? appOriginOf(trackerUrl),
      reused: earlier !== undefined,
    },
    out,
  )
}

async function describe(
  path: string,
  folder: boolean,
  files: string[],
  onChunk: (done: number, total: number) => void,
  secret: string | undefined,
): Promise<Manifest> {
  if (folder) {
    const entries: BundleEntry[] = await Promise.all(
      files.map(async (file) => ({ path: relative(path, file).split(sep).join('/'), file: await openAsBlob(file) })),
    )
    return (await describeBundle(basename(path), entries, onChunk, secret)).manifest
  }
  const blob = await openAsBlob(path)
  return describeFile({ name: basename(path), size: blob.size, type: '', slice: (start, end) => blob.slice(start, end) }, onChunk, secret)
}

export interface Served {
  manifest: Manifest
  content: FileContent
  access: FileAccess
  parts: DiskPart[]
  stamps: Stamp[]
  trackerUrl: string
  appOrigin: string
  /** The link is the one these files had before (they were not hashed again). */
  reused: boolean
}

/** Shares files already on disk whose manifest is known, until Ctrl-C or until one of them changes. */
export async function serveFromDisk(served: Served, out: Output): Promise<void> {
  const { manifest, content, access } = served
  const store = new SeedStore()
  const fileId = await fileIdOf(manifest)
  store.add(fileId, manifest, served.parts, served.stamps, content.layout)
  const { tracker, client } = await connect(store.stores(), served.trackerUrl)
  await client.shareStored(manifest, access)
  const link = shareLink(served.appOrigin, fileId, access.secret)
  const kind = access.keeper ? 'kept for others, unread' : access.secret ? 'private: only the link opens it' : 'listed on the tracker'
  const again = served.reused ? ' (the same link as before: the files did not change)' : ''
  out.say(
    `Sharing “${visibleName(content.meta.name)}” (${formatBytes(content.meta.size)}, ${manifest.hashes.length} chunks), ${kind}${again}.`,
    {
      event: 'sharing',
      fileId,
      link,
      name: content.meta.name,
      size: content.meta.size,
      chunks: manifest.hashes.length,
      private: access.secret !== undefined,
      keeper: access.keeper === true,
      reused: served.reused,
    },
  )
  if (process.stdout.isTTY) out.aside(`\n${await QRCode.toString(link, { type: 'terminal', small: true })}`)
  out.aside(`Link: ${link}\nKeep this running while others download; Ctrl-C stops sharing.\n`)
  leaveOnSignal(() => {
    out.done()
    tracker.send({ type: 'unpublish', fileId })
    tracker.stop()
    out.end('Stopped sharing.', { event: 'stopped' })
  })
  setInterval(async () => {
    const changed = await store.changedFile(fileId)
    if (changed) {
      out.fail(`${changed} changed on disk, so its chunks no longer match the link. Stopped sharing.`, { changed })
      out.aside('Run `tabswarm seed` again to share the new version under a new link.')
      tracker.send({ type: 'unpublish', fileId })
      tracker.stop()
      setTimeout(() => process.exit(1), EXIT_GRACE_MS)
      return
    }
    const view = client.snapshot().transfers.get(fileId)
    const online = tracker.status === 'online'
    const text = `Seeding: ${peersLine(view)}, ${formatBytes(view?.bytesUp ?? 0)} sent, ${rate(view?.upRate ?? 0)} · ${online ? 'tracker connected' : 'tracker unreachable, retrying'}`
    out.update(text, {
      event: 'seeding',
      peers: connectedPeers(view),
      bytesUp: view?.bytesUp ?? 0,
      upRate: Math.round(view?.upRate ?? 0),
      tracker: tracker.status,
      peerId: tracker.peerId,
    })
  }, SEED_STATUS_MS)
}
