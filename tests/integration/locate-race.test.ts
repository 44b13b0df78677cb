// A "file available" push that overtakes the "not found" reply of a locate (an older tracker
// could send them in that order, when the file was published while the locate was handled) must
// not leave the link stuck on "no one is sharing": the engine asks again. Nor must a locate the
// tracker could not answer (its Redis away) leave the link on "the tracker refused this link".
import { afterEach, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import type { AddressInfo } from 'node:net'
import { createClient } from '../../src/wiring/create-client'
import { storesOf } from '../../src/core/ports'
import { MemoryChunkStore } from '../../src/store/memory-store'
import type { WebSocketConstructor } from '../../src/net/tracker-client'
import { MemoryNetwork } from '../support/memory-links'

const fileId = 'ab'.repeat(32)
const closers: (() => void)[] = []
afterEach(() => closers.splice(0).forEach((close) => close()))

/** A tracker that welcomes anyone and answers each locate (numbered from 1) as `answer` says. */
async function fakeTracker(answer: (locate: number, id: number | undefined) => object[]) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  closers.push(() => server.close())
  const seen = { locates: 0 }
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: number }
      if (message.type === 'hello') {
        socket.send(
          JSON.stringify({ type: 'welcome', v: 1, peerId: 'fake-peer-0001', resumeToken: 't', heartbeatMs: 30_000, iceServers: [] }),
        )
      } else if (message.type === 'locate') {
        for (const reply of answer(++seen.locates, message.id)) socket.send(JSON.stringify(reply))
      }
    })
  })
  await new Promise((resolve) => server.once('listening', resolve))
  return { server, seen }
}

const notFound = (id: number | undefined) => ({ type: 'error', id, code: 'not-found', message: 'no one is sharing that file' })

it('locates again when the file was announced available while its locate was refused', async () => {
  // The first time, the push comes before the reply it should follow.
  const { server, seen } = await fakeTracker((locate, id) => [...(locate === 1 ? [{ type: 'file-available', fileId }] : []), notFound(id)])
  const client = await openedClient(server)
  await new Promise<void>((resolve) => {
    const check = () => client.snapshot().transfers.get(fileId)?.state === 'error' && seen.locates >= 2 && (unsubscribe(), resolve())
    const unsubscribe = client.subscribe(check)
    check()
  })
  expect(seen.locates).toBe(2)
  expect(client.snapshot().transfers.get(fileId)?.notice).toEqual({ kind: 'not-shared' })
})

it('locates again, without saying the tracker refused the link, while the tracker cannot answer for its storage', async () => {
  const failing = (id: number | undefined) => ({
    type: 'error',
    id,
    code: 'internal',
    message: 'the tracker failed to handle this message',
  })
  const { server, seen } = await fakeTracker((locate, id) => [locate <= 2 ? failing(id) : notFound(id)])
  const client = await openedClient(server)
  const states: string[] = []
  await new Promise<void>((resolve) => {
    const check = () => {
      const view = client.snapshot().transfers.get(fileId)
      if (view?.notice) states.push(view.notice.kind)
      if (view?.state === 'error' && seen.locates >= 3) (unsubscribe(), resolve())
    }
    const unsubscribe = client.subscribe(check)
    check()
  })
  expect(seen.locates).toBe(3)
  expect(states).not.toContain('tracker-refused')
  expect(client.snapshot().transfers.get(fileId)?.notice).toEqual({ kind: 'not-shared' })
})

async function openedClient(server: WebSocketServer) {
  const network = new MemoryNetwork()
  const { client, start, tracker } = createClient({
    trackerUrl: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`,
    stores: storesOf(new MemoryChunkStore()),
    links: (t) => network.factoryFor(() => t.peerId),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  })
  closers.push(() => {
    client.close()
    tracker.stop()
  })
  start()
  await new Promise<void>((resolve) => {
    const unsubscribe = client.subscribe(() => client.snapshot().tracker === 'online' && (unsubscribe(), resolve()))
  })
  await client.open(fileId)
  return client
}
