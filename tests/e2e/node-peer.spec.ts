import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { downloadedBytes, expect, fileIdOfLink, save, sha256, shareFile, test, transferOf, type Peers } from './fixtures'
import { Cli } from '../support/cli'
import { canonicalManifestJson, fileIdOf, type Manifest } from '../../src/protocol/manifest'

const trackerOf = (url: string) => `${url.replace('http', 'ws')}/ws`

test('a browser tab downloads a file from the command-line seeder alone, byte for byte', async ({ peers, service }) => {
  const dir = await mkdtemp(join(tmpdir(), 'tabswarm-seed-'))
  const bytes = randomBytes(3 * 1024 * 1024 + 123)
  await writeFile(join(dir, 'dataset.bin'), bytes)
  const seeder = new Cli(['seed', join(dir, 'dataset.bin'), '--public', '--tracker', trackerOf(service.url)])
  try {
    const link = await seeder.link()
    expect(link.startsWith(service.url)).toBe(true)
    const tab = await peers.open(link)
    await expect(transferOf(tab)).toHaveAttribute('data-state', 'complete')
    expect(sha256(await downloadedBytes(await save(tab)))).toBe(sha256(bytes))
    await expect(tab.getByTestId('peer')).toHaveCount(1)
  } finally {
    expect(await seeder.stop()).toBe(0)
  }
  expect(seeder.events.at(-1)).toEqual({ event: 'stopped' })
  // Ctrl-C left the swarm: the tracker lists only the tab now.
  const visitor = await peers.open()
  await expect(visitor.getByTestId('tracker-file')).toHaveAttribute('data-peers', '1')
})

test('the seeder re-announces after a tracker restart, and stops when its file changes on disk', async ({ peers, service }) => {
  const dir = await mkdtemp(join(tmpdir(), 'tabswarm-seed-'))
  const path = join(dir, 'notes.pdf')
  const bytes = randomBytes(1024 * 1024)
  await writeFile(path, bytes)
  const seeder = new Cli(['seed', path, '--tracker', trackerOf(service.url)])
  try {
    const link = await seeder.link()
    await service.stop()
    await service.start()
    const tab = await peers.open(link)
    await expect(transferOf(tab)).toHaveAttribute('data-state', 'complete')
    expect(sha256(await downloadedBytes(await save(tab)))).toBe(sha256(bytes))

    await writeFile(path, randomBytes(1024 * 1024))
    expect(await seeder.exited).toBe(1)
    expect(seeder.events.at(-1)).toEqual({
      event: 'error',
      message: `${path} changed on disk, so its chunks no longer match the link. Stopped sharing.`,
      changed: path,
    })
  } finally {
    await seeder.stop()
  }
})

test('a private seeder started again serves the same link for the same unchanged file, without hashing it again, and a `tabswarm get` started while it was away waits for it; --new-link makes a new one', async ({
  peers,
  service,
}) => {
  const dir = await mkdtemp(join(tmpdir(), 'tabswarm-seed-again-'))
  const path = join(dir, 'thesis.pdf')
  const bytes = randomBytes(1024 * 1024 + 3)
  await writeFile(path, bytes)
  const state = { TABSWARM_STATE_DIR: await mkdtemp(join(tmpdir(), 'tabswarm-state-')) }
  const args = ['seed', path, '--tracker', trackerOf(service.url)]
  const first = new Cli(args, state)
  const link = await first.link()
  expect(first.events.some((event) => event.event === 'hashing')).toBe(true)
  expect(await first.stop()).toBe(0)
  // A friend starts while no one shares the file: told so, it waits instead of giving up.
  const out = await mkdtemp(join(tmpdir(), 'tabswarm-get-waiting-'))
  const friend = new Cli(['get', link, '-o', out])
  const waiting = await friend.event('looking', (event) => typeof event.notice === 'string')
  expect(waiting.notice).toContain('No one is sharing this file right now: waiting')
  // After a crash or a reboot: the same command, the same link (its key was kept), nothing hashed.
  const again = new Cli(args, state)
  try {
    expect(await again.event('sharing')).toMatchObject({ link, reused: true, private: true })
    expect(again.events.some((event) => event.event === 'hashing')).toBe(false)
    expect(await friend.exited).toBe(0)
    expect(sha256(await readFile(join(out, 'thesis.pdf')))).toBe(sha256(bytes))
    const tab = await peers.open(link)
    await expect(transferOf(tab)).toHaveAttribute('data-state', 'complete')
    expect(sha256(await downloadedBytes(await save(tab)))).toBe(sha256(bytes))
  } finally {
    expect(await again.stop()).toBe(0)
  }
  const fresh = new Cli([...args, '--new-link'], state)
  try {
    const other = await fresh.link()
    expect(other).not.toBe(link)
    expect(fileIdOfLink(other)).not.toBe(fileIdOfLink(link))
  } finally {
    await fresh.stop()
  }
})

test('`tabswarm get` downloads from a browser sharer to disk, every chunk verified', async ({ peers }) => {
  const bytes = randomBytes(2 * 1024 * 1024 + 77)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'photos.tar', mimeType: 'application/x-tar', buffer: bytes })
  const out = await mkdtemp(join(tmpdir(), 'tabswarm-get-'))
  const get = new Cli(['get', link, '-o', out])
  expect(await get.exited).toBe(0)
  expect(await get.event('done')).toMatchObject({ fileId: fileIdOfLink(link), paths: [join(out, 'photos.tar')] })
  expect(get.events.filter((event) => event.event === 'progress').at(-1)).toMatchObject({ state: 'complete', have: 9, total: 9 })
  expect(sha256(await readFile(join(out, 'photos.tar')))).toBe(sha256(bytes))
  expect(await readdir(out)).toEqual(['photos.tar'])
})

test('`tabswarm get --seed` keeps sharing what it saved: a new tab downloads from it after the sharer left', async ({ peers }) => {
  const bytes = randomBytes(2 * 1024 * 1024 + 11)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'slides.pdf', mimeType: 'application/pdf', buffer: bytes })
  const out = await mkdtemp(join(tmpdir(), 'tabswarm-get-seed-'))
  const get = new Cli(['get', link, '-o', out, '--seed'])
  try {
    expect((await get.event('done')).paths).toEqual([join(out, 'slides.pdf')])
    expect(await get.link()).toBe(link)
    expect(sha256(await readFile(join(out, 'slides.pdf')))).toBe(sha256(bytes))
    await sharer.close()
    // The command-line peer is the only source left.
    const friend = await peers.open(link)
    await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
    expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
  } finally {
    expect(await get.stop()).toBe(0)
  }
  expect(get.events.at(-1)).toEqual({ event: 'stopped' })
  expect(get.events.filter((event) => event.event === 'stopped')).toHaveLength(1)
})

test('`tabswarm keep` holds a private file without its key: after the sharer left, a new tab downloads it from the keeper alone', async ({
  peers,
}) => {
  const bytes = randomBytes(2 * 1024 * 1024 + 77)
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'board-minutes.txt', mimeType: 'text/plain', buffer: bytes })
  const fileId = fileIdOfLink(link)
  const out = await mkdtemp(join(tmpdir(), 'tabswarm-keep-'))
  // The keeper gets the link without its key.
  const keeper = new Cli(['keep', link.replace(/\/[A-Za-z0-9_-]{22}$/, ''), '-o', out])
  try {
    expect(await keeper.event('sharing')).toMatchObject({ fileId, keeper: true, private: false })
    expect(await readdir(out)).toEqual([`${fileId}.kept`])
    // What it holds is the encrypted file: 17 bytes more per chunk, and none of the file's bytes.
    const kept = await readFile(join(out, `${fileId}.kept`))
    expect(kept.length).toBe(bytes.length + 17 * Math.ceil(bytes.length / (256 * 1024 - 17)))
    expectNoPlaintext(kept, bytes)
    expect(keeper.output).not.toContain('board-minutes')
    await sharer.close()
    await arrivesFromTheKeeperAlone(peers, link, bytes)
  } finally {
    expect(await keeper.stop()).toBe(0)
  }
  expect(keeper.events.at(-1)).toEqual({ event: 'stopped' })
})

test('`tabswarm keep --space` takes on the file with the fewest copies and lets go of a more common one when full', async ({
  peers,
  service,
}) => {
  const common = randomBytes(2 * 1024 * 1024)
  const alice = await peers.open()
  const commonLink = await shareFile(alice, { name: 'handout.pdf', mimeType: 'application/pdf', buffer: common }, { listed: true })
  const commonId = fileIdOfLink(commonLink)
  const bob = await peers.open(commonLink)
  await expect(transferOf(bob)).toHaveAttribute('data-state', 'complete')

  // Room for one file of 2 MiB, not two; the tracker is asked every 300 ms.
  const out = await mkdtemp(join(tmpdir(), 'tabswarm-keep-space-'))
  const keeper = new Cli(['keep', '--space', '3MB', '-o', out, '--tracker', trackerOf(service.url)], { TABSWARM_KEEPER_POLL_MS: '300' })
  try {
    await keeper.event('kept', (event) => event.fileId === commonId)
    expect(sha256(await readFile(join(out, `${commonId}.kept`)))).toBe(sha256(common))

    // A private file whose sharer opened it to keepers, with one copy: the common one (three) goes.
    const rare = randomBytes(2 * 1024 * 1024)
    const carol = await peers.open()
    const rareLink = await shareFile(carol, { name: 'minutes.txt', mimeType: 'text/plain', buffer: rare }, { keepers: true })
    const rareId = fileIdOfLink(rareLink)
    await keeper.event('released', (event) => event.fileId === commonId)
    expect(await keeper.event('kept', (event) => event.fileId === rareId)).toMatchObject({ size: rare.length + 17 * 9 })
    expect((await readdir(out)).sort()).toEqual(['.tabswarm', `${rareId}.kept`])
    const kept = await readFile(join(out, `${rareId}.kept`))
    expectNoPlaintext(kept, rare)

    // Its sharer leaves: a friend with the link gets it from the keeper alone.
    await carol.close()
    await arrivesFromTheKeeperAlone(peers, rareLink, rare)
  } finally {
    expect(await keeper.stop()).toBe(0)
  }
  expect(keeper.events.at(-1)).toEqual({ event: 'stopped' })
})

test('`tabswarm get` resumes from what an interrupted run left on disk, keeping only verified chunks', async ({ peers }) => {
  const chunk = 256 * 1024
  const bytes = randomBytes(8 * chunk)
  const sharer = await peers.open()
  // Listed, so the test can write the manifest an interrupted run leaves (a private one's salt and key are the tab's).
  const link = await shareFile(sharer, { name: 'video.webm', mimeType: 'video/webm', buffer: bytes }, { listed: true })
  // What an interrupted run leaves: the manifest beside the download, and a part file holding
  // chunks 0-4 intact and chunk 5 damaged.
  const hashes = Array.from({ length: 8 }, (_, i) => sha256(bytes.subarray(i * chunk, (i + 1) * chunk)))
  const manifest: Manifest = { v: 1, name: 'video.webm', size: bytes.length, type: 'video/webm', chunkSize: chunk, hashes }
  const fileId = await fileIdOf(manifest)
  expect(link).toContain(fileId)
  const out = await mkdtemp(join(tmpdir(), 'tabswarm-resume-'))
  await mkdir(join(out, '.tabswarm'))
  await writeFile(join(out, '.tabswarm', `${fileId}.json`), canonicalManifestJson(manifest))
  await writeFile(join(out, 'video.webm.part'), Buffer.concat([bytes.subarray(0, 5 * chunk), randomBytes(chunk)]))

  const get = new Cli(['get', link, '-o', out])
  expect(await get.exited).toBe(0)
  expect(await get.event('resuming')).toEqual({ event: 'resuming', fileId, have: 5, total: 8 })
  expect(sha256(await readFile(join(out, 'video.webm')))).toBe(sha256(bytes))
})

test('a tab fetches from the command-line seeder and another tab at once', async ({ peers, service }) => {
  const dir = await mkdtemp(join(tmpdir(), 'tabswarm-swarm-'))
  const bytes = randomBytes(12 * 1024 * 1024)
  await writeFile(join(dir, 'lecture.mp4'), bytes)
  const seeder = new Cli(['seed', join(dir, 'lecture.mp4'), '--tracker', trackerOf(service.url)])
  try {
    const link = await seeder.link()
    const first = await peers.open(link)
    await expect(transferOf(first)).toHaveAttribute('data-state', 'complete')
    const second = await peers.open(link)
    await expect(transferOf(second)).toHaveAttribute('data-state', 'complete')
    const rows = second.getByTestId('peer')
    await expect(rows).toHaveCount(2)
    const received = await rows.evaluateAll((all) => all.map((row) => Number(row.getAttribute('data-bytes-down'))))
    expect(received.every((bytesDown) => bytesDown > 0)).toBe(true)
    expect(received.reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(bytes.length)
    expect(sha256(await downloadedBytes(await save(second)))).toBe(sha256(bytes))
  } finally {
    await seeder.stop()
  }
})

test('`tabswarm get` takes a join code’s short link from the projector, and says so when a code leads nowhere', async ({
  peers,
  service,
}) => {
  const bytes = randomBytes(1024 * 1024 + 5)
  const teacher = await peers.open()
  await shareFile(teacher, { name: 'lab-data.csv', mimeType: 'text/csv', buffer: bytes })
  await teacher.getByTestId('present-link').first().click()
  await expect(teacher.getByTestId('present')).toHaveAttribute('data-code', /^[2-9A-Z]{6}$/)
  const code = (await teacher.getByTestId('present').getAttribute('data-code'))!
  const out = await mkdtemp(join(tmpdir(), 'tabswarm-get-'))
  // As typed from the screen: lower case, with the dash.
  const get = new Cli(['get', `${service.url}/${code.slice(0, 3).toLowerCase()}-${code.slice(3).toLowerCase()}`, '-o', out])
  expect(await get.exited).toBe(0)
  expect(sha256(await readFile(join(out, 'lab-data.csv')))).toBe(sha256(bytes))

  const wrong = new Cli(['get', `${service.url}/#/c/${code === '222222' ? '333333' : '222222'}`, '-o', out])
  expect(await wrong.exited).toBe(1)
  expect(wrong.events.at(-1)).toMatchObject({ event: 'error', message: expect.stringContaining('No share has that code.') })
})

/** A keeper's copy holds none of the file's bytes (samples at 0 and 1 MiB). */
function expectNoPlaintext(kept: Buffer, bytes: Buffer): void {
  for (const at of [0, 1024 * 1024]) expect(kept.includes(bytes.subarray(at, at + 32))).toBe(false)
}

/** A friend with the link gets the whole file, with the keeper its one peer. */
async function arrivesFromTheKeeperAlone(peers: Peers, link: string, bytes: Buffer): Promise<void> {
  const friend = await peers.open(link)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
  await expect(friend.getByTestId('peer')).toHaveCount(1)
}
