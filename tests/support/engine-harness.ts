import WebSocket from 'ws'
import { afterEach, beforeEach } from 'vitest'
import type { SwarmClient } from '../../src/engine/client'
import type { ClientSnapshot } from '../../src/engine/views'
import type { TrackerClient, WebSocketConstructor } from '../../src/net/tracker-client'
import { MemoryChunkStore } from '../../src/store/memory-store'
import { seededRandom } from '../../src/core/random'
import { storesOf } from '../../src/core/ports'
import { noticeSentence } from '../../src/ui/sentences'
import { createClient } from '../../src/wiring/create-client'
import type { RunningService } from '../../signaling-server/server'
import { MemoryNetwork } from './memory-links'
import { startTestService } from './service'

export interface TestPeer {
  client: SwarmClient
  tracker: TrackerClient
  store: MemoryChunkStore
  peerId: string
  /** Resolves when the predicate holds for a snapshot; rejects with the last snapshot after `ms`. */
  until(predicate: (snapshot: ClientSnapshot) => boolean, ms?: number): Promise<ClientSnapshot>
  close(): void
}

export class EngineHarness {
  readonly network = new MemoryNetwork()
  private readonly peers: TestPeer[] = []
  private seed = 1

  private constructor(readonly service: RunningService) {}

  static async start(): Promise<EngineHarness> {
    const service = await startTestService()
    return new EngineHarness(service)
  }

  async peer(
    store = new MemoryChunkStore(),
    options: {
      connectTimeoutMs?: number
      privateWindow?: { holdAboveBytes: number }
      keeperPollMs?: number
      /** Called with the peer's tracker client before it connects (to watch what it sends). */
      beforeStart?: (tracker: TrackerClient) => void
    } = {},
  ): Promise<TestPeer> {
    const { client, tracker, start } = createClient({
      trackerUrl: `ws://127.0.0.1:${this.service.port}/ws`,
      stores: storesOf(store),
      links: (tracker) => this.network.factoryFor(() => tracker.peerId),
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      random: seededRandom(this.seed++),
      connectTimeoutMs: options.connectTimeoutMs,
      keeperPollMs: options.keeperPollMs,
      privateWindow: options.privateWindow,
    })
    const until = (predicate: (snapshot: ClientSnapshot) => boolean, ms = 10_000) =>
      new Promise<ClientSnapshot>((resolve, reject) => {
        const check = () => {
          const snapshot = client.snapshot()
          if (!predicate(snapshot)) return false
          clearTimeout(timer)
          unsubscribe()
          resolve(snapshot)
          return true
        }
        const timer = setTimeout(() => {
          unsubscribe()
          const views = [...client.snapshot().transfers.values()].map(({ state, have, total, notice }) => ({
            state,
            have,
            total,
            message: notice && noticeSentence(notice),
          }))
          reject(new Error(`condition not met in ${ms} ms; transfers: ${JSON.stringify(views)}`))
        }, ms)
        const unsubscribe = client.subscribe(check)
        check()
      })
    options.beforeStart?.(tracker)
    start()
    await until((snapshot) => snapshot.tracker === 'online')
    const peer: TestPeer = {
      client,
      tracker,
      store,
      peerId: tracker.peerId!,
      until,
      close: () => {
        client.close()
        tracker.stop()
        this.network.disconnect(peer.peerId)
      },
    }
    this.peers.push(peer)
    return peer
  }

  async stop(): Promise<void> {
    for (const peer of this.peers) peer.close()
    await this.service.close()
  }
}

/** A file-like Blob with a name, as the browser's File is. */
export function namedBlob(bytes: Uint8Array, name: string, type = 'application/octet-stream') {
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type })
  return Object.assign(blob, { name })
}

export function randomBytes(size: number, seed = 7): Uint8Array {
  const random = seededRandom(seed)
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = Math.floor(random() * 256)
  return out
}

/**
 * A harness (real tracker, in-memory links) started before each test of the file and stopped
 * after it. The object stands for the current test's harness, so tests keep writing `harness.peer()`.
 */
export function useEngineHarness(): EngineHarness {
  let current: EngineHarness | undefined
  beforeEach(async () => {
    current = await EngineHarness.start()
  })
  afterEach(async () => {
    await current?.stop()
  })
  return new Proxy({} as EngineHarness, {
    get: (_, key) => {
      const value: unknown = Reflect.get(current!, key)
      return typeof value === 'function' ? value.bind(current) : value
    },
  })
}

export async function bytesOf(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer())
}
