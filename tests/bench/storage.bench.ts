// Where chunk bytes cost least, per browser: one dedicated worker writes a file's chunks into the
// origin private file system through a sync access handle (positioned writes, a flush every 64
// chunks, as the app does), or into IndexedDB (one Blob per chunk, one relaxed transaction each, as
// the fallback does), then reads them all back. Chromium on an on-disk profile and Firefox (its own
// on-disk profile), each timed and its whole process tree's CPU read from /proc, interleaved.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import puppeteer from 'puppeteer-core'
import type { Page as PlaywrightPage } from '@playwright/test'
import { launchProfile, median, report } from './harness'
import { cpuSeconds } from './proc'

const MIB = Number(process.env.BENCH_STORAGE_MIB ?? 256)
const CHUNK_KIB = Number(process.env.BENCH_STORAGE_CHUNK_KIB ?? 256)
const RUNS = Number(process.env.BENCH_STORAGE_RUNS ?? 3)
const STORES = ['opfs', 'idb'] as const
type Store = (typeof STORES)[number]

/** The worker: `{ phase, store, mib, chunkKiB }` in, milliseconds out. */
const WORKER = `
let state
const idb = () => new Promise((resolve, reject) => {
  const open = indexedDB.open('storage-bench', 1)
  open.onupgradeneeded = () => open.result.createObjectStore('chunks')
  open.onsuccess = () => resolve(open.result)
  open.onerror = () => reject(open.error)
})
const done = (tx) => new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error) })
onmessage = async ({ data: { phase, store, mib, chunkKiB } }) => {
  const size = chunkKiB * 1024
  const count = (mib * 1024) / chunkKiB
  const started = performance.now()
  if (phase === 'write') {
    const bytes = new Uint8Array(size)
    for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536))
    if (store === 'opfs') {
      const root = await navigator.storage.getDirectory()
      const file = await root.getFileHandle('storage-bench', { create: true })
      const handle = await file.createSyncAccessHandle()
      for (let i = 0; i < count; i++) {
        handle.write(bytes, { at: i * size })
        if (i % 64 === 63) handle.flush()
      }
      handle.flush()
      state = { root, handle }
    } else {
      const db = await idb()
      for (let i = 0; i < count; i++) {
        const tx = db.transaction('chunks', 'readwrite', { durability: 'relaxed' })
        tx.objectStore('chunks').put({ data: new Blob([bytes]) }, i)
        await done(tx)
      }
      state = { db }
    }
  } else if (phase === 'read') {
    let sum = 0
    if (store === 'opfs') {
      for (let i = 0; i < count; i++) {
        const buffer = new Uint8Array(size)
        state.handle.read(buffer, { at: i * size })
        sum += buffer[size - 1]
      }
    } else {
      for (let i = 0; i < count; i++) {
        const tx = state.db.transaction('chunks', 'readonly')
        const record = await new Promise((resolve) => (tx.objectStore('chunks').get(i).onsuccess = (event) => resolve(event.target.result)))
        sum += new Uint8Array(await record.data.arrayBuffer())[size - 1]
      }
    }
    state.sum = sum
  } else {
    if (store === 'opfs') {
      state.handle.close()
      await state.root.removeEntry('storage-bench')
    } else {
      state.db.close()
      await new Promise((resolve) => (indexedDB.deleteDatabase('storage-bench').onsuccess = resolve))
    }
  }
  postMessage(performance.now() - started)
}`

interface Phase {
  seconds: number
  cpu: number
}
type Sample = Record<'write' | 'read', Phase>

/** Anything that can evaluate a script in a page: Playwright's Page or puppeteer's. */
type Evaluates = Pick<PlaywrightPage, 'evaluate'>

async function measure(page: Evaluates, root: number, store: Store): Promise<Sample> {
  await page.evaluate(`window.benchWorker = new Worker('/worker.js')`)
  const phase = async (name: string): Promise<Phase> => {
    const cpu0 = cpuSeconds(root)
    const ms = (await page.evaluate(`new Promise((resolve) => {
      benchWorker.onmessage = (event) => resolve(event.data)
      benchWorker.postMessage(${JSON.stringify({ phase: name, store, mib: MIB, chunkKiB: CHUNK_KIB })})
    })`)) as number
    return { seconds: ms / 1000, cpu: cpuSeconds(root) - cpu0 }
  }
  const write = await phase('write')
  const read = await phase('read')
  await phase('clean')
  await page.evaluate('benchWorker.terminate()')
  return { write, read }
}

// A page and the worker's script of their own (the app's CSP rightly refuses workers from blobs).
const server = createServer((request, response) => {
  const worker = request.url === '/worker.js'
  response.writeHead(200, { 'content-type': worker ? 'text/javascript' : 'text/html' })
  response.end(worker ? WORKER : '<!doctype html><title>storage</title>')
})
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
const chromium = await launchProfile()
const chromiumPage = chromium.context.pages()[0] ?? (await chromium.context.newPage())
await chromiumPage.goto(origin)
const firefox = await puppeteer.launch({
  browser: 'firefox',
  executablePath: process.env.FIREFOX_PATH || '/usr/bin/firefox-esr',
  headless: true,
})
const firefoxPage = await firefox.newPage()
await firefoxPage.goto(origin)
/** The full version (the user agent string gives only the major one). */
async function chromiumVersion(): Promise<string> {
  const session = await chromium.context.newCDPSession(chromiumPage)
  const { product } = await session.send('Browser.getVersion')
  return product.replace(/^[^/]*\//, '')
}
const browsers = [
  { name: `Chromium ${await chromiumVersion()}`, page: chromiumPage as Evaluates, root: chromium.root },
  {
    name: `Firefox ${(await firefox.version()).replace(/^firefox\//i, '')}`,
    page: firefoxPage as unknown as Evaluates,
    root: firefox.process()!.pid!,
  },
]
const samples = new Map<string, Sample[]>()
for (let run = 0; run < RUNS; run++)
  for (const browser of browsers)
    for (const store of STORES) {
      const key = `${browser.name}|${store}`
      samples.set(key, [...(samples.get(key) ?? []), await measure(browser.page, browser.root, store)])
    }
const mbps = (phase: Phase) => (MIB * 1024 * 1024) / 1e6 / phase.seconds
const cpuPerGiB = (phase: Phase) => (phase.cpu * 1024) / MIB
const rows = [...samples].map(([key, runs]) => {
  const [browser, store] = key.split('|') as [string, Store]
  return {
    browser,
    store: store === 'opfs' ? 'OPFS sync handle' : 'IndexedDB Blobs',
    'write MB/s': Number(median(runs.map((run) => mbps(run.write))).toFixed(0)),
    'write CPU s/GiB': Number(median(runs.map((run) => cpuPerGiB(run.write))).toFixed(1)),
    'read MB/s': Number(median(runs.map((run) => mbps(run.read))).toFixed(0)),
    'read CPU s/GiB': Number(median(runs.map((run) => cpuPerGiB(run.read))).toFixed(1)),
  }
})
report('storage', browsers[0]!.name.replace('Chromium ', ''), rows, {
  runs: RUNS,
  mib: MIB,
  chunkKiB: CHUNK_KIB,
  note: 'one worker per run; CPU is the whole browser tree',
})
await firefox.close()
await chromium.close()
server.close()
