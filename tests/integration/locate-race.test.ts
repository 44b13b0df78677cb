// A "file available" push that overtakes the "not found" reply of a locate (an older tracker
// could send them in that order, when the file was published while the locate was handled) must
// not leave the link stuck on "no one is sharing": the engine asks again.
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

it('locates again when the file was announced available while its locate was refused', async () => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  closers.push(() => server.close())
  let locates = 0
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: number }
      if (message.type === 'hello') {
        socket.send(
          JSON.stringify({ type: 'welcome', v: 1, peerId: 'fake-peer-0001', resumeToken: 't', heartbeatMs: 30_000, iceServers: [] }),
        )
      } else if (message.type === 'locate') {
        locates++
        // The first time, the push comes before the reply it should follow.
        if (locates === 1) socket.send(JSON.stringify({ type: 'file-available', fileId }))
        socket.send(JSON.stringify({ type: 'error', id: message.id, code: 'not-found', message: 'no one is sharing that file' }))
      }
    })
  })
  await new Promise((resolve) => server.once('listening', resolve))
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
  await new Promise<void>((resolve) => {
    const check = () => client.snapshot().transfers.get(fileId)?.state === 'error' && locates >= 2 && (unsubscribe(), resolve())
    const unsubscribe = client.subscribe(check)
    check()
  })
  expect(locates).toBe(2)
  expect(client.snapshot().transfers.get(fileId)?.notice).toEqual({ kind: 'not-shared' })
})
