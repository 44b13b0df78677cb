// The tracker client against trackers that misbehave or go away on purpose.
import type { AddressInfo } from 'node:net'
import { afterEach, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { TrackerClient, type WebSocketConstructor } from '../../src/net/tracker-client'

const closers: (() => void)[] = []
afterEach(() => closers.splice(0).forEach((close) => close()))

it('told to reconnect by an instance that shuts down, it leaves at once and comes back after the delay given', async () => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  closers.push(() => server.close())
  await new Promise((resolve) => server.once('listening', resolve))
  const arrivals: number[] = []
  server.on('connection', (socket) => {
    arrivals.push(Date.now())
    socket.on('message', () => {
      socket.send(JSON.stringify({ type: 'welcome', v: 1, peerId: 'peer-0001', resumeToken: 't', heartbeatMs: 30000, iceServers: [] }))
      if (arrivals.length === 1) socket.send(JSON.stringify({ type: 'reconnect', afterMs: 300 }))
    })
  })
  const { port } = server.address() as AddressInfo
  const tracker = new TrackerClient(`ws://127.0.0.1:${port}/ws`, () => 0.5, WebSocket as unknown as WebSocketConstructor)
  closers.push(() => tracker.stop())
  const statuses: string[] = []
  tracker.onStatus((status) => statuses.push(status))
  tracker.start()
  await new Promise<void>((resolve) => tracker.onStatus((status) => status === 'online' && arrivals.length === 2 && resolve()))
  expect(statuses).toEqual(['connecting', 'online', 'offline', 'connecting', 'online'])
  expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(300)
  expect(arrivals[1]! - arrivals[0]!).toBeLessThan(2000)
})

it('in Node, keeps trying while nothing listens at the tracker’s port (a refused connection is not an uncaught error), and connects once it does', async () => {
  const probe = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise((resolve) => probe.once('listening', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  const tracker = new TrackerClient(`ws://127.0.0.1:${port}/ws`, () => 0, WebSocket as unknown as WebSocketConstructor)
  closers.push(() => tracker.stop())
  const statuses: string[] = []
  tracker.onStatus((status) => statuses.push(status))
  tracker.start()
  await new Promise<void>((resolve) => tracker.onStatus(() => statuses.filter((status) => status === 'offline').length >= 2 && resolve()))
  const server = new WebSocketServer({ port, host: '127.0.0.1' })
  closers.push(() => server.close())
  server.on('connection', (socket) =>
    socket.on('message', () =>
      socket.send(JSON.stringify({ type: 'welcome', v: 1, peerId: 'peer-0002', resumeToken: 't', heartbeatMs: 30000, iceServers: [] })),
    ),
  )
  await new Promise<void>((resolve) => tracker.onStatus((status) => status === 'online' && resolve()))
  expect(tracker.peerId).toBe('peer-0002')
})
