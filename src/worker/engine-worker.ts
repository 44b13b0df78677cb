/// <reference lib="webworker" />
// The engine's home in the browser, a dedicated worker: tracker connection, wires, verification,
// storage and serving all run here, so no chunk byte crosses the page's main thread. The page
// keeps the UI and makes the RTCPeerConnections (only a window can); see page-links.ts.
import { z } from '../protocol/zod'
import type { SwarmClient } from '../engine/client'
import { storesOf } from '../core/ports'
import { openBrowserStore, spaceAvailable } from '../store/open-store'
import { createClient } from '../wiring/create-client'
import { readPageMessage, transferablesOf, type EngineCall, type PageToWorker, type WorkerInit, type WorkerToPage } from './messages'
import { WorkerLinks } from './worker-links'
import { serveStreamPort } from './stream-port'

const scope = self as unknown as DedicatedWorkerGlobalScope
const post = (message: WorkerToPage) => scope.postMessage(message, transferablesOf(message))

const fileId = z.string().max(64)
const rate = z.number().positive().finite().optional()
const shareOptions = z.object({ listed: z.boolean().optional(), keepers: z.boolean().optional() }).strict()
/** The arguments of each call, checked before the engine sees them. */
const CALL_ARGUMENTS: Record<EngineCall, z.ZodType<unknown[]>> = {
  share: z.tuple([z.instanceof(Blob), shareOptions]),
  shareBundle: z.tuple([
    z.string().max(1024),
    z.array(z.object({ path: z.string().max(4096), file: z.instanceof(Blob) })).max(100_000),
    shareOptions,
  ]),
  open: z.tuple([fileId, z.string().max(64).optional()]),
  retry: z.tuple([fileId]),
  fileForSaving: z.tuple([fileId, z.string().max(4096).optional()]),
  setLimits: z.tuple([z.object({ up: rate, down: rate })]),
  setKeeping: z.tuple([z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional()]),
  pause: z.tuple([fileId]),
  resume: z.tuple([fileId]),
  remove: z.tuple([fileId]),
  listFiles: z.tuple([]),
  wake: z.tuple([]),
  presentCode: z.tuple([fileId]),
  endCode: z.tuple([fileId]),
  lookupCode: z.tuple([z.string().max(64)]),
  mediaDuration: z.tuple([fileId, z.number().positive().finite(), z.string().max(4096).optional()]),
}

class EngineWorker {
  private readonly links = new WorkerLinks(post)
  private client: SwarmClient | undefined
  private readonly early: PageToWorker[] = []
  /** Snapshots are sent only when the page asks (once per frame it draws), and only when changed. */
  private frameWanted: string[] | undefined
  private changed = true
  private pieceMapsSent = ''
  private readonly swarmWatches = new Map<number, () => void>()

  receive(message: PageToWorker): void {
    if (message.type === 'init') return void this.start(message)
    if (!this.client) return void this.early.push(message)
    this.handle(this.client, message)
  }

  private async start(init: WorkerInit): Promise<void> {
    if (this.client) return
    const opened = await openBrowserStore({ withOpfs: true })
    const { client, start } = createClient({
      trackerUrl: init.trackerUrl,
      stores: storesOf(opened.store),
      links: () => this.links,
      spaceAvailable,
      privateWindow: opened.privateWindow,
      connectTimeoutMs: init.connectTimeoutMs,
    })
    this.client = client
    client.subscribe(() => {
      this.changed = true
      this.sendFrame()
    })
    start()
    post({ type: 'ready', storageInMemoryOnly: opened.inMemory })
    for (const message of this.early.splice(0)) this.handle(client, message)
  }

  private handle(client: SwarmClient, message: PageToWorker): void {
    switch (message.type) {
      case 'call':
        return void this.call(client, message.id, message.method, message.args)
      case 'frame':
        // A piece map not sent last time is news even when nothing else changed.
        if (message.pieceMaps.join() !== this.pieceMapsSent) this.changed = true
        this.frameWanted = message.pieceMaps
        return this.sendFrame()
      case 'watch-swarm':
        this.swarmWatches.get(message.watchId)?.()
        this.swarmWatches.set(
          message.watchId,
          client.watchSwarm(message.fileId, (view) => post({ type: 'swarm', watchId: message.watchId, view })),
        )
        return
      case 'unwatch-swarm':
        this.swarmWatches.get(message.watchId)?.()
        this.swarmWatches.delete(message.watchId)
        return
      case 'ping':
        return post({ type: 'pong', n: message.n })
      case 'stream-port':
        return serveStreamPort(message.port, client)
      case 'init':
        return
      default:
        return this.links.handle(message)
    }
  }

  private async call(client: SwarmClient, id: number, method: EngineCall, args: unknown[]): Promise<void> {
    const parsed = CALL_ARGUMENTS[method].safeParse(args)
    if (!parsed.success) return post({ type: 'reply', id, ok: false, message: `Bad arguments to ${method}.` })
    try {
      const engine = client as unknown as Record<EngineCall, (...values: unknown[]) => unknown>
      const value = await engine[method].apply(client, parsed.data)
      post({ type: 'reply', id, ok: true, value })
    } catch (error) {
      post({ type: 'reply', id, ok: false, message: (error as Error)?.message ?? String(error) })
    }
  }

  private sendFrame(): void {
    const client = this.client
    if (!client || !this.frameWanted || !this.changed) return
    const pieceMaps = this.frameWanted.flatMap((id) => {
      const map = client.pieceMap(id)
      return map ? [[id, map] as [string, typeof map]] : []
    })
    this.pieceMapsSent = this.frameWanted.join()
    this.frameWanted = undefined
    this.changed = false
    post({ type: 'snapshot', snapshot: client.snapshot(), pieceMaps })
  }
}

const engine = new EngineWorker()
scope.addEventListener('message', (event: MessageEvent) => {
  const message = readPageMessage(event.data)
  if (message) engine.receive(message)
})
