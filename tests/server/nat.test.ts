import { createHmac, randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import { PassThrough } from 'node:stream'
import { networkInterfaces } from 'node:os'
import type { ServerMessageOf } from '../../src/protocol/tracker'
import { ConfigError, loadConfig } from '../../signaling-server/config'
import { startService, type RunningService } from '../../signaling-server/server'
import { startTestService, testEnv } from '../support/service'
import WebSocket from 'ws'
import { RawClient } from '../support/raw-client'
import { STUN_MAGIC_COOKIE, stunBindingRequest } from '../support/stun'
import { TrackerClient, type WebSocketConstructor } from '../../src/net/tracker-client'

let service: RunningService | undefined
afterEach(async () => {
  await service?.close()
  service = undefined
})

async function start(env: Record<string, string>): Promise<RunningService> {
  service = await startTestService(env)
  return service
}

async function welcome(url: string): Promise<ServerMessageOf<'welcome'>> {
  const client = await RawClient.connect(url)
  client.send({ type: 'hello', v: 1 })
  const message = await client.next<ServerMessageOf<'welcome'>>((m) => m.type === 'welcome')
  client.close()
  return message
}

/** Sends UDP datagrams from one socket and resolves with the first reply (or undefined after `ms`). */
async function exchange(port: number, datagrams: Buffer[], ms = 1000): Promise<{ reply: Buffer | undefined; localPort: number }> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const localPort = socket.address().port
  const reply = new Promise<Buffer | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms)
    socket.once('message', (message) => {
      clearTimeout(timer)
      resolve(message)
    })
  })
  for (const datagram of datagrams) socket.send(datagram, port, '127.0.0.1')
  const result = { reply: await reply, localPort }
  socket.close()
  return result
}

describe('STUN responder', () => {
  it('answers a Binding request with the sender’s address and port (XOR-MAPPED-ADDRESS)', async () => {
    const { stunPort } = await start({ STUN_PORT: '0' })
    const transaction = randomBytes(12)
    const { reply, localPort } = await exchange(stunPort!, [stunBindingRequest(transaction)])
    expect(reply).toBeDefined()
    expect(reply!.readUInt16BE(0)).toBe(0x0101)
    expect(reply!.readUInt32BE(4)).toBe(STUN_MAGIC_COOKIE)
    expect(reply!.subarray(8, 20)).toEqual(transaction)
    expect(reply!.readUInt16BE(2)).toBe(reply!.length - 20)
    // First attribute: XOR-MAPPED-ADDRESS, IPv4.
    expect(reply!.readUInt16BE(20)).toBe(0x0020)
    expect(reply!.readUInt8(25)).toBe(0x01)
    expect(reply!.readUInt16BE(26) ^ 0x2112).toBe(localPort)
    const ip = [...reply!.subarray(28, 32)].map((byte, i) => byte ^ [0x21, 0x12, 0xa4, 0x42][i]!)
    expect(ip.join('.')).toBe('127.0.0.1')
  })

  it('drops anything that is not a well-formed Binding request, and keeps answering', async () => {
    const { stunPort } = await start({ STUN_PORT: '0' })
    const wrongCookie = stunBindingRequest(randomBytes(12))
    wrongCookie.writeUInt32BE(0xdeadbeef, 4)
    const wrongLength = Buffer.concat([stunBindingRequest(randomBytes(12)), Buffer.alloc(3)])
    for (const junk of [randomBytes(7), randomBytes(600), wrongCookie, wrongLength, Buffer.alloc(0)]) {
      expect((await exchange(stunPort!, [junk], 300)).reply).toBeUndefined()
    }
    expect((await exchange(stunPort!, [stunBindingRequest(randomBytes(12))])).reply?.readUInt16BE(0)).toBe(0x0101)
  })

  it('is on by default at the HTTP port’s number, announced in welcome; STUN_PORT=off turns it off', async () => {
    const running = await start({})
    expect(running.stunPort).toBe(running.port)
    expect((await welcome(`ws://127.0.0.1:${running.port}/ws`)).stunPort).toBe(running.port)
    expect((await exchange(running.port, [stunBindingRequest(randomBytes(12))])).reply?.readUInt16BE(0)).toBe(0x0101)
    await running.close()
    service = undefined
    const off = await start({ STUN_PORT: 'off' })
    expect(off.stunPort).toBeUndefined()
    expect((await welcome(`ws://127.0.0.1:${off.port}/ws`)).stunPort).toBeUndefined()
  })

  it('answers from the address it was asked on, on a host with several addresses', async () => {
    // Every address of this host gets a socket of its own; ask on each and read the reply's source.
    const running = await start({ HOST: '0.0.0.0' })
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((info) => info?.family === 'IPv4')
      .map((info) => info!.address)
    for (const address of addresses) {
      const socket = createSocket('udp4')
      await new Promise<void>((resolve) => socket.bind(0, address, resolve))
      const reply = new Promise<string>((resolve) => socket.once('message', (_m, from) => resolve(from.address)))
      socket.send(stunBindingRequest(randomBytes(12)), running.port, address)
      expect(await reply).toBe(address)
      socket.close()
    }
  })

  it('goes on without STUN, saying so, when the default port is taken; a port asked for must be had', async () => {
    const taken = createSocket('udp4')
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve))
    const port = taken.address().port
    try {
      await expect(start({ PORT: String(port), STUN_PORT: String(port) })).rejects.toThrow(/EADDRINUSE/)
      const lines: string[] = []
      const logTo = new PassThrough()
      logTo.on('data', (chunk: Buffer) => lines.push(chunk.toString()))
      service = await startService(loadConfig(testEnv({ PORT: String(port) }), { staticDir: '/nonexistent' }), { logTo })
      expect(service.stunPort).toBeUndefined()
      expect(lines.join('')).toMatch(/"event":"stun.off".*STUN is off: UDP port \d+ is taken .*set STUN_PORT/)
    } finally {
      taken.close()
    }
  })

  it('refuses a STUN_PORT that is neither off nor a port, naming the variable', () => {
    expect(() => loadConfig({ STUN_PORT: 'on' }, { staticDir: '' })).toThrow(/STUN_PORT must be off or a UDP port/)
    expect(() => loadConfig({ STUN_PORT: '70000' }, { staticDir: '' })).toThrow(/STUN_PORT/)
    expect(loadConfig({}, { staticDir: '' }).stunPort).toBe('http')
  })

  it('becomes an ICE server of every client, at the host the client reached the tracker on', async () => {
    const running = await start({ STUN_PORT: '0', ICE_SERVERS: '[{"urls":"stun:stun.example.org:3478"}]' })
    const tracker = new TrackerClient(`ws://127.0.0.1:${running.port}/ws`, Math.random, WebSocket as unknown as WebSocketConstructor)
    const online = new Promise<void>((resolve) => tracker.onStatus((status) => status === 'online' && resolve()))
    tracker.start()
    await online
    tracker.stop()
    expect(tracker.iceServers).toEqual([{ urls: 'stun:stun.example.org:3478' }, { urls: `stun:127.0.0.1:${running.stunPort}` }])
  })
})

describe('TURN credentials', () => {
  it('hands each peer time-limited credentials in the TURN REST API scheme coturn checks', async () => {
    const running = await start({
      TURN_SECRET: 'shared-with-coturn',
      TURN_URLS: 'turn:127.0.0.2:3478?transport=udp',
      TURN_TTL_SECONDS: '600',
    })
    const before = Math.floor(Date.now() / 1000)
    const message = await welcome(`ws://127.0.0.1:${running.port}/ws`)
    const turn = message.iceServers.find((server) => server.username !== undefined)!
    expect(turn.urls).toEqual(['turn:127.0.0.2:3478?transport=udp'])
    const [expiry, peer] = turn.username!.split(':')
    expect(peer).toBe(message.peerId)
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600)
    expect(Number(expiry)).toBeLessThanOrEqual(before + 602)
    expect(turn.credential).toBe(createHmac('sha1', 'shared-with-coturn').update(turn.username!).digest('base64'))
  })

  it('refuses half a TURN configuration with a message naming both variables', () => {
    expect(() => loadConfig({ TURN_SECRET: 'x' }, { staticDir: '' })).toThrow(ConfigError)
    expect(() => loadConfig({ TURN_URLS: 'turn:a:3478' }, { staticDir: '' })).toThrow(/TURN_SECRET and TURN_URLS go together/)
    expect(() => loadConfig({ TURN_SECRET: 'x', TURN_URLS: 'http://a' }, { staticDir: '' })).toThrow(/turn: or turns:/)
  })
})
