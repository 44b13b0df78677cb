import type { EngineApi } from '../engine/api'
import { bundleZip } from '../engine/bundle-zip'
import type { PieceMap } from '../core/piece-map'
import type { SwarmView, TrackerFilePage } from '../engine/tracker-views'
import type { BandwidthLimits, ClientSnapshot, ShareOptions } from '../engine/views'
import type { CodeLookup, PresentedCode } from '../engine/join-codes'
import { readWorkerMessage, transferablesOf, type EngineCall, type PageToWorker, type WorkerInit, type WorkerToPage } from './messages'
import { PageLinks } from './page-links'

/** The page checks the worker is alive this often... */
const PING_MS = 1_000
/** ...and restarts it when a ping goes unanswered this long (it crashed, or was killed). */
const DEAD_AFTER_MS = 5_000
/** Snapshots come at most this often: progress reads fine at four a second, and every frame drawn costs CPU the bytes need... */
const MIN_FRAME_MS = 250
/** ...and a hidden page, which draws no frames, still takes one this often. */
const HIDDEN_FRAME_MS = 250
/** Restarts back off up to this long when the worker keeps dying. */
const MAX_RESTART_DELAY_MS = 30_000

export interface EngineProxyOptions {
  init: WorkerInit
  relayOnly: boolean
  /** Starts a new engine worker. */
  spawn: () => Worker
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
  private ping: { n: number; sentAt: number } | undefined
  private restarts: number[] = []
  private readyListeners: ((ready: WorkerReady) => void)[] = []

  constructor(private readonly options: EngineProxyOptions) {
    this.launch()
    setInterval(() => this.checkAlive(), PING_MS)
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
    return this.call('share', [file, options]) as Promise<string | undefined>
  }

  shareBundle(name: string, entries: { path: string; file: File }[], options: ShareOptions = {}): Promise<string | undefined> {
    return this.call('shareBundle', [name, entries, options]) as Promise<string | undefined>
  }

  async open(fileId: string, secret?: string): Promise<void> {
    await this.call('open', secret === undefined ? [fileId] : [fileId, secret])
  }

  retry(fileId: string): void {
    void this.call('retry', [fileId]).catch(() => undefined)
  }

  fileForSaving(fileId: string, path?: string): Promise<{ blob: Blob; name: string }> {
    return this.call('fileForSaving', path === undefined ? [fileId] : [fileId, path]) as Promise<{ blob: Blob; name: string }>
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
    void this.call('setLimits', [limits]).catch(() => undefined)
  }

  setKeeping(space: number | undefined): void {
    this.keeping = space
    void this.call('setKeeping', [space]).catch(() => undefined)
  }

  async pause(fileId: string): Promise<void> {
    await this.call('pause', [fileId])
  }

  async resume(fileId: string): Promise<void> {
    await this.call('resume', [fileId])
  }

  async remove(fileId: string): Promise<void> {
    await this.call('remove', [fileId])
  }

  listFiles(): Promise<TrackerFilePage> {
    return this.call('listFiles', []) as Promise<TrackerFilePage>
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
    return this.call('presentCode', [fileId]) as Promise<PresentedCode>
  }

  endCode(fileId: string): Promise<void> {
    return this.call('endCode', [fileId]) as Promise<void>
  }

  lookupCode(text: string): Promise<CodeLookup> {
    return this.call('lookupCode', [text]) as Promise<CodeLookup>
  }

  wake(): void {
    void this.call('wake', []).catch(() => undefined)
  }

  mediaDuration(fileId: string, seconds: number, path?: string): void {
    void this.call('mediaDuration', path === undefined ? [fileId, seconds] : [fileId, seconds, path]).catch(() => undefined)
  }

  /** One of the Service Worker's requests: its port goes to the engine's worker, which answers on it. */
  serveStream(port: MessagePort): void {
    this.post({ type: 'stream-port', port })
  }

  private call(method: EngineCall, args: unknown[]): Promise<unknown> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject })
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
    if (this.limits) this.post({ type: 'call', id: this.nextId++, method: 'setLimits', args: [this.limits] })
    if (this.keeping) this.post({ type: 'call', id: this.nextId++, method: 'setKeeping', args: [this.keeping] })
    for (const [watchId, { fileId }] of this.swarmWatches) this.post({ type: 'watch-swarm', watchId, fileId })
    this.ping = undefined
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
        if (this.ping?.n === message.n) this.ping = undefined
        return
      default:
        return this.links.handle(message)
    }
  }

  /** Asks for the next snapshot when the page next draws (or soon, when hidden and not drawing), at most every MIN_FRAME_MS. */
  private requestFrame(): void {
    if (this.frameScheduled || this.listeners.size === 0) return
    this.frameScheduled = true
    const worker = this.worker
    let sent = false
    const send = () => {
      if (sent || worker !== this.worker) return
      sent = true
      this.lastFrameAt = performance.now()
      const pieceMaps = [...this.pieceMapsWanted].slice(0, 64)
      this.pieceMapsWanted.clear()
      this.post({ type: 'frame', pieceMaps })
    }
    setTimeout(
      () => {
        requestAnimationFrame(send)
        setTimeout(send, HIDDEN_FRAME_MS)
      },
      Math.max(0, this.lastFrameAt + MIN_FRAME_MS - performance.now()),
    )
  }

  private checkAlive(): void {
    const now = Date.now()
    if (!this.ping) {
      this.ping = { n: this.nextId++, sentAt: now }
      this.post({ type: 'ping', n: this.ping.n })
    } else if (now - this.ping.sentAt > DEAD_AFTER_MS) {
      this.restart(now)
    }
  }

  /** Replaces a worker that stopped answering; its links close, calls in flight fail, transfers resume from storage. */
  private restart(now: number): void {
    this.restarts = [...this.restarts.filter((at) => now - at < MAX_RESTART_DELAY_MS * 4), now]
    const delay = Math.min(MAX_RESTART_DELAY_MS, 2 ** (this.restarts.length - 1) * 1_000) - 1_000
    console.warn('The engine worker stopped answering; starting a new one.')
    this.worker.terminate()
    this.links.closeAll()
    for (const call of this.calls.values()) call.reject(new Error('The engine restarted; try again.'))
    this.calls.clear()
    this.ping = { n: -1, sentAt: now + delay + DEAD_AFTER_MS }
    setTimeout(() => this.launch(), Math.max(0, delay))
  }
}
