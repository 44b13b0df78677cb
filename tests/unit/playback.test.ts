import { MessageChannel } from 'node:worker_threads'
import { describe, expect, it, vi } from 'vitest'
import { MAX_SLICE_BYTES, Playback, PlaybackClosed } from '../../src/engine/playback'
import { serveStreamPort } from '../../src/worker/stream-port'
import { readableFile } from '../../src/engine/readable-file'
import type { FileContent } from '../../src/engine/file-content'
import type { StreamAnswer } from '../../src/worker/stream-protocol'

const KiB = 1024
const chunkSize = 1536 * KiB
const size = 4 * chunkSize - 1000

/** A file of four chunks, byte i being i mod 251, of which `held` are stored. */
function storedFile(held: number[]) {
  const have = new Set(held)
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = i % 251
  const urgent: number[][] = []
  const playback = new Playback({
    layout: { size, chunkSize, count: 4 },
    has: (index) => have.has(index),
    read: async (index) => (have.has(index) ? bytes.slice(index * chunkSize, Math.min(size, (index + 1) * chunkSize)) : undefined),
    prioritize: (indexes) => urgent.push(indexes),
  })
  const arrive = (index: number) => {
    have.add(index)
    playback.arrived(index)
  }
  return { playback, bytes, urgent, arrive }
}

async function collect(reader: AsyncGenerator<Uint8Array>): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = []
  for await (const piece of reader) pieces.push(piece)
  return pieces
}

/** The pieces as one Buffer (compared with Buffer.equals: toEqual walks millions of bytes slowly). */
const joined = (pieces: Uint8Array[]) => Buffer.concat(pieces)
const same = (a: Uint8Array, b: Uint8Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

describe('playback', () => {
  it('reads a range across chunks in slices of its own, waiting for a chunk not here yet and asking for it first', async () => {
    const { playback, bytes, urgent, arrive } = storedFile([0, 2])
    const start = chunkSize - 10
    const end = 2 * chunkSize + 20
    let done = false
    const read = collect(playback.read(start, end)).finally(() => (done = true))
    // The window from where the reader waits (chunk 1 is missing) is fetched first...
    await vi.waitFor(() => expect(urgent.at(-1)).toEqual([1, 2]))
    expect(done).toBe(false) // ...and the reader waits
    arrive(1)
    const pieces = await read
    expect(same(joined(pieces), bytes.slice(start, end))).toBe(true)
    expect(Math.max(...pieces.map((piece) => piece.length))).toBeLessThanOrEqual(MAX_SLICE_BYTES)
    for (const piece of pieces) expect(piece.byteLength).toBe(piece.buffer.byteLength) // each can be transferred alone
    expect(urgent.at(-1)).toEqual([]) // no reader left: nothing urgent
  })

  it('puts the newest reader first, sizes the window from the bitrate, and stops every reader when the file goes', async () => {
    const { playback, urgent } = storedFile([])
    const first = playback.read(0, size)
    void first.next().catch(() => undefined)
    await Promise.resolve()
    expect(urgent.at(-1)).toEqual([0, 1])
    void playback
      .read(3 * chunkSize, size)
      .next()
      .catch(() => undefined) // a seek: a second reader
    await Promise.resolve()
    expect(urgent.at(-1)).toEqual([3, 0, 1])
    playback.setBitrate(chunkSize / 2) // 8 s of media is four chunks
    expect(urgent.at(-1)).toEqual([3, 0, 1, 2])
    const second = playback.read(2 * chunkSize, size).next()
    playback.close()
    await expect(second).rejects.toBeInstanceOf(PlaybackClosed)
  })

  it('fetches the head and the end of a file a player will open before it asks, after what readers wait for', async () => {
    const { playback, urgent } = storedFile([])
    playback.expectPlayer()
    expect(urgent.at(-1)).toEqual([0, 1, 3])
    void playback
      .read(2 * chunkSize, size)
      .next()
      .catch(() => undefined)
    await Promise.resolve()
    expect(urgent.at(-1)).toEqual([2, 3, 0, 1])
    playback.close()
  })

  it('ends a read waiting for a chunk when it is stopped, and its window with it', async () => {
    const { playback, urgent } = storedFile([0])
    const stop = new AbortController()
    const waiting = collect(playback.read(2 * chunkSize, size, stop.signal))
    await vi.waitFor(() => expect(urgent.at(-1)).toEqual([2, 3]))
    stop.abort()
    expect(await waiting).toEqual([])
    expect(urgent.at(-1)).toEqual([])
  })

  it('reads one file of a bundle at its own offset', async () => {
    const { playback, bytes } = storedFile([0, 1, 2, 3])
    const meta = {
      name: 'course',
      type: '',
      size,
      files: [
        { path: 'intro.txt', size: 1000 },
        { path: 'talk.webm', size: size - 1000 },
      ],
    }
    const content = { meta, layout: { size, chunkSize, count: 4 } } as unknown as FileContent
    const talk = readableFile(content, playback, 'talk.webm')!
    expect(talk.size).toBe(size - 1000)
    expect(same(joined(await collect(talk.read(10, 30))), bytes.slice(1010, 1030))).toBe(true)
    expect(readableFile(content, playback, 'missing.txt')).toBeUndefined()
  })
})

/** The engine's side of a stream port, driven as the Service Worker drives it. */
function streamPort(files: Parameters<typeof serveStreamPort>[1]) {
  const { port1, port2 } = new MessageChannel()
  serveStreamPort(port1 as unknown as MessagePort, files)
  const answers: StreamAnswer[] = []
  let wake: (() => void) | undefined
  port2.on('message', (answer: StreamAnswer) => {
    answers.push(answer)
    wake?.()
  })
  const next = async (): Promise<StreamAnswer> => {
    while (answers.length === 0) await new Promise<void>((resolve) => (wake = resolve))
    return answers.shift()!
  }
  return { ask: (request: unknown) => port2.postMessage(request), next, close: () => port2.close() }
}

describe('stream port', () => {
  const { playback, bytes } = storedFile([0, 1, 2, 3])
  const content = { meta: { name: 'talk.webm', type: 'video/webm', size }, layout: { size, chunkSize, count: 4 } } as unknown as FileContent
  const fileId = 'ab'.repeat(32)
  const files = { readable: (id: string, path?: string) => (id === fileId ? readableFile(content, playback, path) : undefined) }

  it('answers a range with its head, then its bytes one pull at a time, then the end', async () => {
    const port = streamPort(files)
    port.ask({ type: 'open', fileId, range: 'bytes=100-' })
    expect(await port.next()).toEqual({
      type: 'head',
      status: 206,
      start: 100,
      end: size,
      size,
      contentType: 'video/webm',
      name: 'talk.webm',
      inline: true,
    })
    const received: Uint8Array[] = []
    for (;;) {
      port.ask({ type: 'pull' })
      const answer = await port.next()
      if (answer.type === 'end') break
      expect(answer.type).toBe('data')
      if (answer.type === 'data') received.push(new Uint8Array(answer.bytes))
    }
    expect(same(joined(received), bytes.slice(100))).toBe(true)
    port.close()
  })

  it('refuses an unknown file (404) and a range past the end (416), each with a sentence', async () => {
    const unknown = streamPort(files)
    unknown.ask({ type: 'open', fileId: 'cd'.repeat(32), range: null })
    expect(await unknown.next()).toMatchObject({ type: 'refused', status: 404, message: expect.stringMatching(/not in this browser/) })
    const past = streamPort(files)
    past.ask({ type: 'open', fileId, range: `bytes=${size}-` })
    expect(await past.next()).toMatchObject({ type: 'refused', status: 416, size })
    unknown.close()
    past.close()
  })
})
