// Temporary probe: CPU profiles of every worker and page of both browsers during a 128 MiB transfer.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { chromium } from '@playwright/test'
import WebSocket from 'ws'
import { CHROMIUM_ARGS } from '../../playwright.config'
import { share, startTracker, untilStored, writeRandomFile } from './harness'

const MIB = Number(process.env.PROBE_MIB ?? 128)
async function launch(port: number) {
  const dir = mkdtempSync(`${tmpdir()}/probe-`)
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, `--remote-debugging-port=${port}`],
    permissions: ['camera', 'microphone'],
  })
  return { context, port }
}
class Cdp {
  ws: WebSocket
  id = 0
  pending = new Map<number, (r: any) => void>()
  events: any[] = []
  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 1 << 30 })
    this.ws.on('message', (d) => {
      const m = JSON.parse(String(d))
      if (m.id !== undefined) this.pending.get(m.id)?.(m)
      else this.events.push(m)
    })
  }
  open() {
    return new Promise((r) => this.ws.once('open', r))
  }
  send(method: string, params: any = {}, sessionId?: string): Promise<any> {
    const id = ++this.id
    this.ws.send(JSON.stringify({ id, method, params, sessionId }))
    return new Promise((r) => this.pending.set(id, r))
  }
}
async function cdpOf(port: number) {
  const v = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json()
  const c = new Cdp(v.webSocketDebuggerUrl)
  await c.open()
  return c
}
async function startAll(c: Cdp) {
  const { result } = await c.send('Target.getTargets')
  const sessions: { s: string; t: any }[] = []
  for (const t of result.targetInfos) {
    if (!['page', 'worker'].includes(t.type)) continue
    const r = await c.send('Target.attachToTarget', { targetId: t.targetId, flatten: true })
    const s = r.result.sessionId
    await c.send('Profiler.enable', {}, s)
    await c.send('Profiler.setSamplingInterval', { interval: 200 }, s)
    await c.send('Profiler.start', {}, s)
    sessions.push({ s, t })
  }
  return sessions
}
const service = await startTracker()
const path = `${tmpdir()}/probe-${MIB}.bin`
await writeRandomFile(path, MIB)
const a = await launch(9301)
const pa = a.context.pages()[0] ?? (await a.context.newPage())
await pa.goto(service.url)
await pa.waitForSelector('[data-testid="tracker-status"][data-status="online"]')
const link = await share(pa, path)
await untilStored(pa)
const b = await launch(9302)
const pb = b.context.pages()[0] ?? (await b.context.newPage())
await pb.goto(service.url)
await pb.waitForSelector('[data-testid="tracker-status"][data-status="online"]')
const ca = await cdpOf(9301),
  cb = await cdpOf(9302)
const sa = await startAll(ca)
await pb.goto(link)
await new Promise((r) => setTimeout(r, 300))
const sb = await startAll(cb)
const t0 = performance.now()
await pb.waitForSelector('[data-testid="transfer"][data-state="complete"]', { timeout: 600_000 })
console.log('seconds', ((performance.now() - t0) / 1000).toFixed(1))
for (const [name, c, ss] of [
  ['sharer', ca, sa],
  ['getter', cb, sb],
] as const) {
  for (const { s, t } of ss) {
    const r = await c.send('Profiler.stop', {}, s)
    if (!r.result) {
      console.log(name, t.type, t.url, 'no profile')
      continue
    }
    const file = `/tmp/wprof/${name}-${t.type}-${t.targetId.slice(0, 6)}.cpuprofile`
    writeFileSync(file, JSON.stringify(r.result.profile))
    console.log(name, t.type, t.url, file)
  }
}
await a.context.close()
await b.context.close()
await service.close()
process.exit(0)
