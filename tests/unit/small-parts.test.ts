import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { safeFileName } from '../../src/core/file-name'
import { missingFeatures } from '../../src/core/capabilities'
import { compactRanges, formatChunkRanges } from '../../src/core/transfer-state'

const describeChunkRanges = (indexes: number[]) => {
  const { ranges, more } = compactRanges(indexes)
  return formatChunkRanges(ranges, more)
}
import { RateMeter } from '../../src/core/rate-meter'
import { reconnectDelay, RECONNECT_MAX_MS, TrackerClient } from '../../src/net/tracker-client'
import { describeFile } from '../../src/engine/describe-file'
import { parseManifest, type PublicManifest } from '../../src/protocol/manifest'
import { namedBlob, randomBytes } from '../support/engine-harness'

describe('safeFileName', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['Résumé — café (v2) 日本語!.txt', 'Résumé — café (v2) 日本語!.txt'],
    ['../../etc/passwd', '_.._etc_passwd'],
    ['a\\b/c:d*e?f"g<h>i|j', 'a_b_c_d_e_f_g_h_i_j'],
    ['bell\u0007.txt', 'bell_.txt'],
    ['CON', '_CON'],
    ['lpt1.txt', '_lpt1.txt'],
    ['trailing dots...', 'trailing dots'],
    ['', 'download'],
    ['...', 'download'],
  ])('%j → %j', (name, safe) => {
    expect(safeFileName(name)).toBe(safe)
  })

  it('keeps the extension when it shortens a long name', () => {
    const safe = safeFileName(`${'x'.repeat(300)}.tar.gz`)
    expect(safe.length).toBe(200)
    expect(safe.endsWith('.gz')).toBe(true)
  })
})

describe('describeChunkRanges', () => {
  it('compacts runs, 1-based, and elides long lists', () => {
    expect(describeChunkRanges([0, 1, 2, 6, 9, 10])).toBe('1–3, 7, 10–11')
    expect(describeChunkRanges([0, 2, 4, 6, 8, 10])).toBe('1, 3, 5, 7, …')
  })
})

describe('RateMeter', () => {
  it('averages over its window and forgets old bytes', () => {
    const meter = new RateMeter()
    meter.add(1000, 10_000)
    meter.add(1000, 10_500)
    meter.add(1000, 11_000)
    meter.add(1000, 11_500)
    expect(meter.rate(11_900)).toBe(2000) // the last 2 s hold 4000 bytes
    expect(meter.rate(20_000)).toBe(0)
    expect(meter.total).toBe(4000)
  })

  it('does not under-measure a link younger than its window', () => {
    const meter = new RateMeter()
    meter.add(500_000, 10_000)
    meter.add(500_000, 10_100)
    // 1 MB in its first 200 ms: averaged over the whole 2 s window it would read 0.5 MB/s.
    expect(meter.rate(10_200)).toBeGreaterThan(1_500_000)
    expect(meter.rate(10_200)).toBeLessThan(5_000_000)
  })
})

describe('reconnectDelay', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(reconnectDelay(0, () => 0)).toBe(250)
    expect(reconnectDelay(0, () => 1)).toBe(500)
    expect(reconnectDelay(2, () => 1)).toBe(2000)
    expect(reconnectDelay(3, () => 1)).toBe(RECONNECT_MAX_MS) // 4000 uncapped
    expect(reconnectDelay(30, () => 1)).toBe(RECONNECT_MAX_MS)
    expect(reconnectDelay(30, () => 0)).toBe(RECONNECT_MAX_MS / 2)
  })
})

describe('describeFile', () => {
  it('hashes chunk by chunk through slice and builds a valid manifest', async () => {
    const bytes = randomBytes(2 * 262144 + 5)
    const file = namedBlob(bytes, 'photo.jpg', 'image/jpeg')
    const slices: [number, number][] = []
    const spied = {
      name: 'photo.jpg',
      size: file.size,
      type: file.type,
      slice: (start: number, end: number) => {
        slices.push([start, end])
        return file.slice(start, end)
      },
    }
    const progress: number[] = []
    const manifest = await describeFile(spied, (done) => progress.push(done))
    expect(slices).toEqual([
      [0, 262144],
      [262144, 524288],
      [524288, 524293],
    ])
    expect(progress).toEqual([1, 2, 3])
    expect(manifest.hashes).toEqual(slices.map(([a, b]) => createHash('sha256').update(bytes.subarray(a, b)).digest('hex')))
    expect(parseManifest(manifest).ok).toBe(true)
    expect(manifest).toMatchObject({ name: 'photo.jpg', size: bytes.length, type: 'image/jpeg', chunkSize: 262144 })
  })

  it('makes a valid manifest from any name: control characters replaced, long names cut at a character boundary', async () => {
    const name = `${'😀'.repeat(200)}\u0001.txt`
    const manifest = (await describeFile(namedBlob(new Uint8Array(3), name), () => undefined)) as PublicManifest
    expect(parseManifest(manifest).ok).toBe(true)
    expect(manifest.name.length).toBeLessThanOrEqual(255)
    expect(manifest.name).toBe('😀'.repeat(127))
  })
})

describe('the tracker client back from sleep', () => {
  it('reconnects at once on reconnectNow instead of waiting out the backoff', () => {
    const sockets: { onclose: (() => void) | null; onopen: (() => void) | null }[] = []
    class FakeSocket {
      onopen: (() => void) | null = null
      onmessage: ((event: { data: unknown }) => void) | null = null
      onclose: (() => void) | null = null
      onerror: (() => void) | null = null
      constructor() {
        sockets.push(this)
      }
      send() {}
      close() {
        this.onclose?.()
      }
    }
    const client = new TrackerClient('ws://tracker.invalid/ws', () => 0.99, FakeSocket)
    client.start()
    expect(sockets).toHaveLength(1)
    sockets[0]!.onclose!() // the tracker went away: the next try waits for the backoff
    expect(client.status).toBe('offline')
    expect(sockets).toHaveLength(1)
    client.reconnectNow()
    expect(sockets).toHaveLength(2)
    expect(client.status).toBe('connecting')
    client.reconnectNow() // not offline: nothing more
    expect(sockets).toHaveLength(2)
    client.stop()
  })
})

describe('the tracker client and a tracker of the version before', () => {
  it('asks for swarm news, and greets again without when the tracker refuses the field', () => {
    const hellos: Record<string, unknown>[] = []
    let socket: FakeSocket | undefined
    class FakeSocket {
      onopen: (() => void) | null = null
      onmessage: ((event: { data: unknown }) => void) | null = null
      onclose: (() => void) | null = null
      onerror: (() => void) | null = null
      constructor() {
        socket = this
      }
      // Like that tracker: an unknown field in hello is malformed, a plain hello is welcomed.
      send(text: string) {
        const hello = JSON.parse(text) as Record<string, unknown>
        hellos.push(hello)
        const reply =
          'news' in hello
            ? { type: 'error', code: 'malformed', message: 'hello has an unknown field' }
            : { type: 'welcome', v: 1, peerId: 'peer-0001', resumeToken: 't', heartbeatMs: 1000, iceServers: [] }
        this.onmessage?.({ data: JSON.stringify(reply) })
      }
      close() {
        this.onclose?.()
      }
    }
    const client = new TrackerClient('ws://tracker.invalid/ws', () => 0.5, FakeSocket)
    client.start()
    socket!.onopen!()
    expect(hellos.map((hello) => hello.news)).toEqual([true, undefined])
    expect(client.status).toBe('online')
    client.stop()
  })
})

describe('what a browser lacks', () => {
  const full = { dataChannels: true, secureContext: true, subtleCrypto: true }
  it('is nothing in a current browser on https or localhost', () => {
    expect(missingFeatures(full)).toEqual([])
  })
  it('names WebRTC, and the insecure context rather than the WebCrypto it withholds', () => {
    expect(missingFeatures({ ...full, dataChannels: false })).toEqual(['webrtc'])
    expect(missingFeatures({ ...full, secureContext: false, subtleCrypto: false })).toEqual(['secure-context'])
    expect(missingFeatures({ ...full, subtleCrypto: false })).toEqual(['webcrypto'])
    expect(missingFeatures({ dataChannels: false, secureContext: false, subtleCrypto: false })).toEqual(['webrtc', 'secure-context'])
  })
})
