import { afterAll, beforeAll, expect, it } from 'vitest'
import { seededRandom } from '../../src/core/random'
import type { ServerMessageOf } from '../../src/protocol/tracker'
import type { RunningService } from '../../signaling-server/server'
import { startTestService } from '../support/service'
import { RawClient } from '../support/raw-client'

const CLIENTS = 24
const MESSAGES_PER_CLIENT = 400
const fileId = 'ab'.repeat(32)
const manifest = { v: 1, name: 'seed.txt', size: 10, type: 'text/plain', chunkSize: 262144, hashes: ['cd'.repeat(32)] }
const valid = [
  { type: 'hello', v: 1 },
  { type: 'publish', id: 1, manifest },
  { type: 'unpublish', fileId },
  { type: 'have', fileId, indexes: [0] },
  { type: 'list', id: 2 },
  { type: 'locate', id: 3, fileId },
  { type: 'signal', to: 'abcdefgh12345678', fileId, link: 'L1', data: { type: 'offer', sdp: 'v=0' } },
]
const oddValues: unknown[] = [
  null,
  -1,
  0,
  2 ** 53,
  1.5,
  '',
  'x'.repeat(300),
  [],
  {},
  true,
  '__proto__',
  { __proto__: { admin: true } },
  '\u0000',
  NaN,
]

/** Random and mutated messages: valid shapes with fields swapped for odd values, junk text and bytes. */
function hostileFrame(random: () => number): string | Buffer {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!
  const roll = random()
  if (roll < 0.1) return Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)))
  if (roll < 0.2) return String.fromCharCode(...Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 0xffff)))
  const message: Record<string, unknown> = structuredClone(pick(valid))
  const mutations = 1 + Math.floor(random() * 3)
  for (let i = 0; i < mutations; i++) {
    const keys = Object.keys(message)
    if (random() < 0.7) message[pick(keys)] = pick(oddValues)
    else message[`extra${i}`] = pick(oddValues)
  }
  if (random() < 0.1)
    (message as { manifest?: unknown }).manifest = { ...manifest, hashes: Array(3000).fill('ef'.repeat(32)), size: 3000 * 262144 }
  return JSON.stringify(message)
}

let service: RunningService
let url: string
beforeAll(async () => {
  service = await startTestService()
  url = `ws://127.0.0.1:${service.port}/ws`
})
afterAll(() => service.close())

it(
  'survives thousands of random and mutated messages from many clients, and still serves a normal client',
  { timeout: 60_000 },
  async () => {
    global.gc?.()
    const rssBefore = process.memoryUsage().rss
    const outcomes = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, n) => {
        const random = seededRandom(1000 + n)
        const fuzzer = await RawClient.connect(url)
        if (n % 2 === 0) fuzzer.send({ type: 'hello', v: 1 }) // half get past hello, half stay strangers
        for (let i = 0; i < MESSAGES_PER_CLIENT && fuzzer.socket.readyState === fuzzer.socket.OPEN; i++) {
          fuzzer.sendRaw(hostileFrame(random))
          if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve)) // let the server breathe between bursts
        }
        // A round trip proves the server handled this client's flood; or it closed it over the limits.
        if (fuzzer.socket.readyState === fuzzer.socket.OPEN) fuzzer.send({ type: 'list', id: 999_999 })
        const outcome = await Promise.race([
          fuzzer
            .next((m) => 'id' in m && m.id === 999_999, 20_000)
            .then(
              () => 'answered',
              () => 'no answer',
            ),
          fuzzer.closed.then((code) => `closed with ${code}`),
        ])
        fuzzer.close()
        return outcome
      }),
    )
    // Each client was answered, or closed for going over the limits (1008): none was left hanging or dropped otherwise.
    expect(outcomes.filter((outcome) => outcome !== 'answered' && outcome !== 'closed with 1008')).toEqual([])
    const rssGrowth = process.memoryUsage().rss - rssBefore
    expect(rssGrowth).toBeLessThan(200 * 1024 * 1024)

    const alice = await RawClient.greeted(url)
    const published = await alice.ask<ServerMessageOf<'published'>>({ type: 'publish', id: 1, manifest })
    const bob = await RawClient.greeted(url)
    const location = await bob.ask<ServerMessageOf<'location'>>({ type: 'locate', id: 2, fileId: published.fileId })
    expect(location.manifest).toEqual(manifest)
    expect(location.peers.map((p) => p.peerId)).toContain(alice.peerId)
    alice.close()
    bob.close()
  },
)
