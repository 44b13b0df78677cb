import type { EngineApi } from '../engine/api'
import { bundleZip } from '../engine/bundle-zip'
import type { PieceMap } from '../core/piece-map'
import type { SwarmView, TrackerFilePage } from '../engine/tracker-views'
import type { BandwidthLimits, ClientSnapshot, ShareOptions, StorageNotice } from '../engine/views'
import type { CodeLookup, PresentedCode } from '../engine/join-codes'
import type { Clock } from '../core/ports'
import {
  readWorkerMessage,
  transferablesOf,
  type CallResult,
  type EngineCall,
  type PageToWorker,
  type WorkerInit,
  type WorkerToPage,
} from './messages'
import { PageLinks } from './page-links'
import { WorkerSupervisor } from './worker-supervisor'

/**
 * Snapshots come at most this often: progress reads fine at four a second, and every frame drawn
 * costs CPU the bytes need. Asked for on a timer, not an animation frame: a frame requested only
 * to ask would be a second one drawn per snapshot (the page draws when the snapshot arrives).
 */
const MIN_FRAME_MS = 250

export interface EngineProxyOptions {
  init: WorkerInit
  relayOnly: boolean
  /** Starts a new engine worker. */
  spawn: () => Worker
  clock: Clock
  /** Another tab of this site holds up or took over this one's storage. */
  onStorage?: (notice: StorageNotice) => void
}

export interface WorkerReady {
  storageInMemoryOnly: boolean
}

const emptySnapshot = (): ClientSnapshot => ({
  tracker: 'connecting',
  limits: { up: undefined, down: undefined },
  peerId: undefined,
  shares: [],
  keeping: undefined,
  transfers: new Map(),
})

/**
 * The engine API on the page, for an engine that runs in a dedicated worker: calls become
 * messages, snapshots arrive at most once per animation frame, and a worker that stops answering
 * is replaced by a new one, which resumes every transfer from what was stored.
 */
export class EngineProxy implements EngineApi {
  private worker!: Worker
  private links!: PageLinks
  private latest = emptySnapshot()
  private pieceMaps = new Map<string, PieceMap>()
  /** Files whose piece map was drawn since the last frame. */
  private readonly pieceMapsWanted = new Set<string>()
  private readonly listeners = new Set<() => void>()
  private readonly calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  private readonly swarmWatches = new Map<number, { fileId: string; listener: (view: SwarmView) => void }>()
  private nextId = 1
  private frameScheduled = false
  private lastFrameAt = 0
  private limits: BandwidthLimits | undefined
  /** The space this tab donates as a keeper, given again to a restarted worker. */
  private keeping: number | undefined
  private readonly supervisor: WorkerSupervisor
  private readyListeners: ((ready: WorkerReady) => void)[] = []

  constructor(private readonly options: EngineProxyOptions) {
    this.supervisor = new WorkerSupervisor({
      clock: options.clock,
      ping: (n) => this.post({ type: 'ping', n }),
      onDead: () => this.dead(),
      replace: () => this.launch(),
    })
    this.launch()
    this.supervisor.start()
  }

  /** Stops watching and ends the worker (the page is going away, or a test is done). */
  close(): void {
    this.supervisor.stop()
    this.worker.terminate()
    this.links.closeAll()
  }

  /** Resolves once the (first) worker has opened its storage. */
  ready(): Promise<WorkerReady> {
    return new Promise((resolve) => this.readyListeners.push(resolve))
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    this.requestFrame()
    return () => this.listeners.delete(listener)
  }

  snapshot(): ClientSnapshot {
    return this.latest
  }

  pieceMap(fileId: string): PieceMap | undefined {
    if (!this.pieceMapsWanted.has(fileId)) {
      this.pieceMapsWanted.add(fileId)
      this.requestFrame()
    }
    return this.pieceMaps.get(fileId)
  }

  share(file: File, options: ShareOptions = {}): Promise<string | undefined> {
    return this.call('share', file, options)
  }

  shareBundle(name: string, entries: { path: string; file: File }[], options: ShareOptions = {}): Promise<string | undefined> {
    return this.call('shareBundle', name, entries, options)
  }

  open(fileId: string, secret?: string): Promise<void> {
    return this.call('open', fileId, secret)
  }

  retry(fileId: string): void {
    void this.call('retry', fileId).catch(() => undefined)
  }

  fileForSaving(fileId: string, path?: string): Promise<{ blob: Blob; name: string }> {
    return this.call('fileForSaving', fileId, path)
  }

  /** The zip is made here, from the stored bundle the worker hands over (a disk-backed Blob). */
  async zipForSaving(fileId: string): Promise<{ zip: Response; name: string }> {
    const view = this.latest.transfers.get(fileId)
    if (!view?.files) throw new Error('This is not a bundle of files.')
    const { blob } = await this.fileForSaving(fileId)
    return bundleZip(blob, view.name, view.files)
  }

  setLimits(limits: BandwidthLimits): void {
    this.limits = { ...limits }
    void this.call('setLimits', this.limits).catch(() => undefined)
  }

  setKeeping(space: number | undefined): void {
    this.keeping = space
    void this.call('setKeeping', space).catch(() => undefined)
  }

  pause(fileId: string): Promise<void> {
    return this.call('pause', fileId)
  }

  resume(fileId: string): Promise<void> {
    return this.call('resume', fileId)
  }

  remove(fileId: string): Promise<void> {
    return this.call('remove', fileId)
  }

  listFiles(): Promise<TrackerFilePage> {
    return this.call('listFiles')
  }

  watchSwarm(fileId: string, listener: (view: SwarmView) => void): () => void {
    const watchId = this.nextId++
    this.swarmWatches.set(watchId, { fileId, listener })
    this.post({ type: 'watch-swarm', watchId, fileId })
    return () => {
      this.swarmWatches.delete(watchId)
      this.post({ type: 'unwatch-swarm', watchId })
    }
  }

  presentCode(fileId: string): Promise<PresentedCode> {
    return this.call('presentCode', fileId)
  }

  endCode(fileId: string): Promise<void> {
    return this.call('endCode', fileId)
  }

  lookupCode(text: string): Promise<CodeLookup> {
    return this.call('lookupCode', text)
  }

  wake(): void {
    void this.call('wake').catch(() => undefined)
  }

  mediaDuration(fileId: string, seconds: number, path?: string): void {
    void this.call('mediaDuration', fileId, seconds, path).catch(() => undefined)
  }

  /** One of the Service Worker's requests: its port goes to the engine's worker, which answers on it. */
  serveStream(port: MessagePort): void {
    this.post({ type: 'stream-port', port })
  }

  /** One engine call, as declared in messages.ts: its arguments and its answer typed by the engine's API. */
  private call<K extends EngineCall>(method: K, ...args: Parameters<EngineApi[K]>): Promise<CallResult<K>> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (value: unknown) => void, reject })
      this.post({ type: 'call', id, method, args })
    })
  }

  private post(message: PageToWorker, transfer: Transferable[] = transferablesOf(message)): void {
    this.worker.postMessage(message, transfer)
  }

  private launch(): void {
    const worker = this.options.spawn()
    this.worker = worker
    this.links = new PageLinks((message, transfer) => this.post(message, transfer), this.options.relayOnly)
    worker.addEventListener('message', (event: MessageEvent) => {
      if (worker !== this.worker) return
      const message = readWorkerMessage(event.data)
      if (message) this.receive(message)
    })
    worker.addEventListener('error', (event) => console.warn('The engine worker reported an error:', event.message))
    this.post(this.options.init)
    // What the page set goes to a new worker too (calls made before it answers are kept in order).
    if (this.limits) void this.call('setLimits', this.limits).catch(() => undefined)
    if (this.keeping) void this.call('setKeeping', this.keeping).catch(() => undefined)
    for (const [watchId, { fileId }] of this.swarmWatches) this.post({ type: 'watch-swarm', watchId, fileId })
    this.frameScheduled = false
    this.requestFrame()
  }

  private receive(message: WorkerToPage): void {
    switch (message.type) {
      case 'ready':
        for (const listener of this.readyListeners.splice(0)) listener(message)
        return
      case 'reply': {
        const call = this.calls.get(message.id)
        this.calls.delete(message.id)
        if (message.ok) call?.resolve(message.value)
        else call?.reject(new Error(message.message))
        return
      }
      case 'snapshot':
        this.latest = message.snapshot
        this.pieceMaps = new Map(message.pieceMaps)
        this.frameScheduled = false
        for (const listener of this.listeners) listener()
        return this.requestFrame()
      case 'swarm':
        return this.swarmWatches.get(message.watchId)?.listener(message.view)
      case 'pong':
        return this.supervisor.pong(message.n)
      case 'storage':
        return this.options.onStorage?.(message.notice)
      default:
        return this.links.handle(message)
    }
  }

  /** Asks for the next snapshot MIN_FRAME_MS after the last one was asked for (one at a time). */
  private requestFrame(): void {
    if (this.frameScheduled || this.listeners.size === 0) return
    this.frameScheduled = true
    const worker = this.worker
    const { clock } = this.options
    clock.after(Math.max(0, this.lastFrameAt + MIN_FRAME_MS - clock.now()), () => {
      if (worker !== this.worker) return
      this.lastFrameAt = clock.now()
      const pieceMaps = [...this.pieceMapsWanted].slice(0, 64)
      this.pieceMapsWanted.clear()
      this.post({ type: 'frame', pieceMaps })
    })
  }

  /** The worker stopped answering: its links close, calls in flight fail; a new one resumes every transfer from what was stored. */
  private dead(): void {
    console.warn('The engine worker stopped answering; starting a new one.')
    this.worker.terminate()
    this.links.closeAll()
    for (const call of this.calls.values()) call.reject(new Error('The engine restarted; try again.'))
    this.calls.clear()
  }
}
