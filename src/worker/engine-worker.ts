/// <reference lib="webworker" />
// The engine's home in the browser, a dedicated worker: tracker connection, wires, verification,
// storage and serving all run here, so no chunk byte crosses the page's main thread. The page
// keeps the UI and makes the RTCPeerConnections (only a window can); see page-links.ts.
import type { SwarmClient } from '../engine/client'
import { storesOf } from '../core/ports'
import { openBrowserStore, spaceAvailable } from '../store/open-store'
import { createClient } from '../wiring/create-client'
import {
  readCallArguments,
  readPageMessage,
  transferablesOf,
  type EngineCall,
  type PageToWorker,
  type WorkerInit,
  type WorkerToPage,
} from './messages'
import { WorkerLinks } from './worker-links'
import { serveStreamPort } from './stream-port'

const scope = self as unknown as DedicatedWorkerGlobalScope
const post = (message: WorkerToPage) => scope.postMessage(message, transferablesOf(message))

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
    const opened = await openBrowserStore({
      withOpfs: true,
      onBlocked: () => post({ type: 'storage', notice: 'upgrade-blocked' }),
      onSuperseded: () => post({ type: 'storage', notice: 'superseded' }),
    })
    const { client, start } = createClient({
      trackerUrl: init.trackerUrl,
      stores: storesOf(opened.store),
      links: () => this.links,
      spaceAvailable,
      privateWindow: opened.privateWindow,
      connectTimeoutMs: init.connectTimeoutMs,
      maxLanes: init.maxLanes,
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

  private async call<K extends EngineCall>(client: SwarmClient, id: number, method: K, args: unknown[]): Promise<void> {
    const checked = readCallArguments(method, args)
    if (!checked) return post({ type: 'reply', id, ok: false, message: `Bad arguments to ${method}.` })
    try {
      const value: unknown = await (client[method] as (...values: unknown[]) => unknown).apply(client, checked)
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
