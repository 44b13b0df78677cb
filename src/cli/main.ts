// `tabswarm seed <file-or-folder>` and `tabswarm get <link>`: a Node peer in the same swarms as
// the browser tabs, built from the same protocol, core and engine code. WebRTC comes from
// @roamhq/wrtc (prebuilt binaries from npm, no download or build at install).
import { openAsBlob } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, join, relative, resolve, sep } from 'node:path'
import { parseArgs } from 'node:util'
import QRCode from 'qrcode'
import { TRACKER_PATH } from '../protocol/tracker'
import { bundleOffsets, fileIdOf, type Manifest } from '../protocol/manifest'
import { parseShareLink, shareLink } from '../protocol/links'
import { describeBundle, describeFile, type BundleEntry } from '../engine/describe-file'
import type { TransferView } from '../engine/views'
import type { SwarmClient } from '../engine/client'
import { formatBytes, parseBytes } from '../core/format-bytes'
import { visibleName } from '../core/file-name'
import { trackerUrlFor } from '../wiring/create-client'
import { connect, EXIT_GRACE_MS, leaveOnSignal } from './node-peer'
import { DownloadStore, SeedStore, type DiskPart, type Stamp } from './disk-store'
import { openContent, type FileAccess, type FileContent } from '../engine/file-content'
import { newSecret } from '../protocol/sealed'
import { codeLine, noticeLine } from './notices'
import { keepSpace } from './keeper'
import { progressBar, rate, StatusLine } from './terminal'

/** How often the terminal's status line is redrawn while seeding, and while downloading. */
const SEED_STATUS_MS = 1_000
const GET_STATUS_MS = 250
/** While the tracker cannot be reached, a join code is looked up again this often. */
const CODE_RETRY_MS = 1_000

const USAGE = `Usage:
  tabswarm seed <file-or-folder> [--public | --keepers] [--tracker ws://host:port/ws] [--app http://host:port]
      Shares a file (or a folder, as one bundle) from disk into browser swarms, and keeps it
      available until stopped with Ctrl-C. The link is private (encrypted; only the link,
      which carries the key, opens it) unless --public lists it on the tracker by name.
      --keepers lets the tracker point keepers at the private file (they hold it unread).
  tabswarm keep <link> [-o <folder>] [--tracker ws://host:port/ws]
      Keeps a file available for others without reading it: fetches its chunks as they travel
      (a private file's encrypted; a key in the link is never used) into <file id>.kept in the
      folder, then seeds them until stopped with Ctrl-C. Run again, it resumes.
  tabswarm keep --space <size> [-o <folder>] [--tracker ws://host:port/ws]
      Donates up to <size> (e.g. 20GB) of the folder: the tracker points this keeper at the files
      with the fewest complete copies (listed ones, and private ones their sharer opened to
      keepers), and it lets go of the least recently wanted when full. Nothing it keeps is read.
  tabswarm get <link> [-o <folder>] [--seed] [--tracker ws://host:port/ws]
      Downloads a share link (or a join code's short link, http://host:port/K7MQX4) into a
      folder (default: the current one); running it again resumes from what is already on
      disk. With --seed it then keeps sharing what it saved (as \`tabswarm seed\` does) until
      stopped with Ctrl-C.

  --tracker  the tracker's WebSocket (default: from the link, or ws://localhost:8080${TRACKER_PATH})
  --app      the web app's address used in printed links (default: from --tracker)`

class UsageError extends Error {}

const DEFAULT_TRACKER = `ws://localhost:8080${TRACKER_PATH}`

function appOriginOf(trackerUrl: string): string {
  const url = new URL(trackerUrl)
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
  return url.origin
}

/** What tells a file on disk changed after it was shared. */
async function stampOf(path: string): Promise<Stamp> {
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

function peersLine(view: TransferView | undefined): string {
  const connected = view?.peers.filter((peer) => peer.status === 'connected').length ?? 0
  return `${connected} ${connected === 1 ? 'peer' : 'peers'}`
}

async function seed(
  target: string,
  options: { tracker: string | undefined; app: string | undefined; listed: boolean; keepers: boolean },
): Promise<void> {
  const path = resolve(target)
  const info = await stat(path).catch(() => undefined)
  if (!info) throw new UsageError(`${target} does not exist.`)
  const files = info.isDirectory() ? await walk(path) : [path]
  if (files.length === 0) throw new UsageError(`${target} holds no files to share.`)
  const stamps = await Promise.all(files.map(stampOf))
  const status = new StatusLine()
  const onChunk = (done: number, total: number) => status.update(`Hashing ${progressBar(done, total)} ${done}/${total} chunks`)
  const secret = options.listed ? undefined : newSecret()
  let manifest: Manifest
  if (info.isDirectory()) {
    const entries: BundleEntry[] = await Promise.all(
      files.map(async (file) => ({ path: relative(path, file).split(sep).join('/'), file: await openAsBlob(file) })),
    )
    manifest = (await describeBundle(basename(path), entries, onChunk, secret)).manifest
  } else {
    const blob = await openAsBlob(path)
    manifest = await describeFile(
      { name: basename(path), size: blob.size, type: '', slice: (start, end) => blob.slice(start, end) },
      onChunk,
      secret,
    )
  }
  status.done()
  const content = await opened(manifest, { secret })
  const { meta } = content
  // The parts are the files on disk, in manifest order (a bundle's layout, with the real paths).
  const parts: DiskPart[] = meta.files
    ? bundleOffsets(meta.files).map((file, i) => ({ path: files[i]!, offset: file.offset, size: file.size }))
    : [{ path, offset: 0, size: meta.size }]
  const trackerUrl = options.tracker ?? DEFAULT_TRACKER
  const access = { secret, keepers: options.keepers }
  await serveFromDisk(manifest, content, access, parts, stamps, trackerUrl, options.app ?? appOriginOf(trackerUrl))
}

/** A manifest this peer made or verified, opened with its key (or as its keeper). */
async function opened(manifest: Manifest, access: FileAccess): Promise<FileContent> {
  const content = await openContent(manifest, access)
  if (typeof content === 'string') throw new Error(noticeLine({ kind: content }))
  return content
}

/** Shares files already on disk whose manifest is known, until Ctrl-C or until one of them changes. */
async function serveFromDisk(
  manifest: Manifest,
  content: FileContent,
  access: FileAccess,
  parts: DiskPart[],
  stamps: Stamp[],
  trackerUrl: string,
  appOrigin: string,
): Promise<void> {
  const store = new SeedStore()
  const fileId = await fileIdOf(manifest)
  store.add(fileId, manifest, parts, stamps, content.layout)
  const { tracker, client } = await connect(store.stores(), trackerUrl)
  await client.shareStored(manifest, access)
  const link = shareLink(appOrigin, fileId, access.secret)
  const status = new StatusLine()
  const kind = access.keeper ? 'kept for others, unread' : access.secret ? 'private: only the link opens it' : 'listed on the tracker'
  console.log(`Sharing “${visibleName(content.meta.name)}” (${formatBytes(content.meta.size)}, ${manifest.hashes.length} chunks), ${kind}.`)
  if (process.stdout.isTTY) console.log(`\n${await QRCode.toString(link, { type: 'terminal', small: true })}`)
  console.log(`Link: ${link}\nKeep this running while others download; Ctrl-C stops sharing.\n`)
  leaveOnSignal(() => {
    status.done()
    tracker.send({ type: 'unpublish', fileId })
    tracker.stop()
    console.log('Stopped sharing.')
  })
  setInterval(async () => {
    const changed = await store.changedFile(fileId)
    if (changed) {
      status.done()
      console.error(`${changed} changed on disk, so its chunks no longer match the link. Stopped sharing.`)
      console.error('Run `tabswarm seed` again to share the new version under a new link.')
      tracker.send({ type: 'unpublish', fileId })
      tracker.stop()
      setTimeout(() => process.exit(1), EXIT_GRACE_MS)
      return
    }
    const view = client.snapshot().transfers.get(fileId)
    const online = tracker.status === 'online' ? 'tracker connected' : 'tracker unreachable, retrying'
    status.update(`Seeding: ${peersLine(view)}, ${formatBytes(view?.bytesUp ?? 0)} sent, ${rate(view?.upRate ?? 0)} · ${online}`)
  }, SEED_STATUS_MS)
}

/** Downloads a link into a folder; a keeper (`keep`) fetches the chunks as they travel, never using a key, and seeds them. */
async function get(linkText: string, options: { tracker: string | undefined; out: string; seed: boolean; keep?: boolean }): Promise<void> {
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
  const status = new StatusLine()
  const forgetSignal = leaveOnSignal(() => {
    status.done()
    tracker.stop()
    console.log('Stopped. Run the same command again to continue where it left off.')
  })
  const stored = await store.loadManifest(fileId)
  if (stored) {
    const held = (await store.storedChunks(fileId)).length
    const { meta } = await opened(stored, access)
    console.log(`Resuming “${visibleName(meta.name)}”: ${held} of ${stored.hashes.length} chunks are already on disk.`)
  }
  await (options.keep ? client.keep(fileId) : client.open(fileId, access.secret))
  const started = Date.now()
  await new Promise<void>((resolveDone, reject) => {
    const timer = setInterval(() => {
      const view = client.snapshot().transfers.get(fileId)
      if (!view || view.total === 0) {
        status.update(tracker.status === 'online' ? 'Looking for the file…' : 'Connecting to the tracker…')
        if (view?.state === 'error') {
          clearInterval(timer)
          reject(new Error(noticeLine(view.notice)))
        }
        return
      }
      if (view.state === 'complete') {
        clearInterval(timer)
        status.done(
          `${visibleName(view.name)}: ${progressBar(1, 1)} ${formatBytes(view.size)} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        )
        resolveDone()
        return
      }
      if (view.state === 'error') {
        clearInterval(timer)
        reject(new Error(noticeLine(view.notice)))
        return
      }
      const note = view.state === 'stalled' ? ` · ${noticeLine(view.notice)}` : ''
      status.update(
        `${visibleName(view.name)}: ${progressBar(view.bytesDone, view.size)} ${formatBytes(view.bytesDone)} of ${formatBytes(view.size)} · ${rate(view.downRate)} · ${peersLine(view)}${note}`,
      )
    }, GET_STATUS_MS)
  })
  const manifest = (await store.loadManifest(fileId))!
  const content = await opened(manifest, access)
  const { meta } = content
  const written = await store.finish(fileId)
  forgetSignal()
  tracker.stop()
  client.close()
  console.log(
    `Saved (every chunk verified${options.keep ? ', as it travels: encrypted if private' : ''}):\n${written.map((path) => `  ${path}`).join('\n')}`,
  )
  if (!options.seed) return
  // Shared again from where it was saved, under the same link (no hashing: every chunk was verified).
  const offsets = meta.files ? bundleOffsets(meta.files) : [{ offset: 0, size: meta.size }]
  const parts = offsets.map(({ offset, size }, i) => ({ path: written[i]!, offset, size }))
  const stamps = await Promise.all(parts.map(({ path }) => stampOf(path)))
  await serveFromDisk(manifest, content, access, parts, stamps, trackerUrl, link.origin)
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

export async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        tracker: { type: 'string' },
        app: { type: 'string' },
        out: { type: 'string', short: 'o', default: '.' },
        seed: { type: 'boolean' },
        public: { type: 'boolean' },
        keepers: { type: 'boolean' },
        space: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  const [command, target, ...rest] = parsed.positionals
  if (parsed.values.help || !command) {
    console.log(USAGE)
    return parsed.values.help ? 0 : 2
  }
  try {
    if (parsed.values.tracker !== undefined && !/^wss?:\/\//.test(parsed.values.tracker)) {
      throw new UsageError(`--tracker must be a ws:// or wss:// address, e.g. ${DEFAULT_TRACKER}`)
    }
    if (parsed.values.public && parsed.values.keepers) {
      throw new UsageError('--keepers is for private files; a --public one is open to keepers already.')
    }
    if (command === 'keep' && parsed.values.space !== undefined) {
      const space = parseBytes(parsed.values.space)
      if (!space) throw new UsageError(`--space takes a size, e.g. --space 20GB (not “${parsed.values.space}”).`)
      if (target) throw new UsageError('`tabswarm keep --space` takes no link: the tracker says what to keep.')
      await keepSpace(space, { tracker: parsed.values.tracker ?? DEFAULT_TRACKER, out: parsed.values.out! })
      return -1
    }
    if (!target || rest.length > 0)
      throw new UsageError(`\`tabswarm ${command}\` takes exactly one ${command === 'seed' ? 'path' : 'link'}.`)
    if (command === 'seed')
      await seed(target, {
        tracker: parsed.values.tracker,
        app: parsed.values.app,
        listed: parsed.values.public ?? false,
        keepers: parsed.values.keepers ?? false,
      })
    else if (command === 'get')
      await get(target, { tracker: parsed.values.tracker, out: parsed.values.out!, seed: parsed.values.seed ?? false })
    else if (command === 'keep') await get(target, { tracker: parsed.values.tracker, out: parsed.values.out!, seed: true, keep: true })
    else throw new UsageError(`Unknown command “${command}”.`)
    // Seeding runs until a signal ends the process.
    return command === 'seed' || command === 'keep' || parsed.values.seed ? -1 : 0
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`)
      return 2
    }
    console.error(`Error: ${(error as Error).message}`)
    return 1
  }
}
