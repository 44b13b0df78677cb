// The network lab: the friend's path (added round trip and loss) emulated two independent ways.
// - 'cdp': Chromium's own emulation on the sending page (Network.emulateNetworkConditions). It
//   reaches the WebRTC sockets the page creates afterwards; applied to the receiving page it
//   distorts the receive path, so it is only ever applied to the sender.
// - 'relay': every peer connects through coturn (relay-only ICE), and a user-space UDP forwarder
//   in front of coturn delays and drops datagrams (delay-relay.ts, its own process).
import { spawn, type ChildProcess } from 'node:child_process'
import { createHmac } from 'node:crypto'
import type { Page } from '@playwright/test'
import { startCoturn } from '../support/coturn'

export type Emulator = 'cdp' | 'relay'

export interface PathCase {
  /** Added round trip, ms. */
  rttMs: number
  /** Share of packets lost each way (0.01 for 1 %). */
  loss: number
  emulator: Emulator
}

export { shapeSender } from '../support/network-shape'

export const describePath = ({ rttMs, loss, emulator }: PathCase) =>
  `+${rttMs} ms${loss > 0 ? `, ${+(loss * 100).toFixed(2)} % loss` : ''} (${emulator})`

/** A TURN server behind a delaying relay; its ICE servers are what peers get to reach each other through it. */
export interface RelayPath {
  secret: string
  /** The TURN URL to give peers: the delaying relay's port. */
  url: string
  /** TURN credentials in the REST API scheme, as the service hands them out. */
  iceServers(): RTCIceServer[]
  stop(): Promise<void>
}

/**
 * coturn on loopback with a delaying relay in front: a datagram crosses the relay twice between two
 * peers (to coturn, then from it), so each crossing gets a quarter of the round trip and the loss
 * that makes `loss` one way.
 */
export async function startRelayPath({ rttMs, loss }: Pick<PathCase, 'rttMs' | 'loss'>): Promise<RelayPath> {
  const secret = `bench-${Math.random()}`
  const turn = await startCoturn(secret)
  const turnPort = Number(/:(\d+)\?/.exec(turn.url)![1])
  const perCrossing = 1 - Math.sqrt(1 - loss)
  // Node itself with tsx's loader (not npx), so stopping it stops the relay, not only a wrapper.
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./delay-relay.ts', import.meta.url).pathname,
      '0',
      String(turnPort),
      String(rttMs / 4),
      String(perCrossing),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the delaying relay exited (${code})`)))
    child.stdout!.on('data', (data: Buffer) => {
      const match = /ready (\d+)/.exec(data.toString())
      if (match) resolve(Number(match[1]))
    })
  })
  const url = `turn:127.0.0.1:${port}?transport=udp`
  return {
    secret,
    url,
    iceServers() {
      const username = `${Math.floor(Date.now() / 1000) + 3600}:bench`
      const credential = createHmac('sha1', secret).update(username).digest('base64')
      return [{ urls: url, username, credential }]
    },
    async stop() {
      child.kill('SIGTERM')
      await turn.stop()
    },
  }
}
