// The tracker's registration upkeep: after the registry could not be reached, no sweep until the
// owners have had a TTL to refresh their live peers (every deadline may have passed meanwhile).
import { afterEach, expect, it } from 'vitest'
import type { WebSocketServer } from 'ws'
import type { Registry } from '../../signaling-server/registry'
import type { Rooms } from '../../signaling-server/rooms'
import { Upkeep } from '../../signaling-server/upkeep'
import { createLog } from '../../signaling-server/log'

const TTL_MS = 400
let upkeep: Upkeep | undefined
afterEach(() => upkeep?.stop())

it('holds off sweeping for a TTL after a refresh failed, then sweeps again', async () => {
  let down = false
  let lastFailure = 0
  const sweeps: number[] = []
  const registry = {
    refresh: async () => {
      if (down) {
        lastFailure = Date.now()
        throw new Error('Redis did not answer')
      }
      return []
    },
    expire: async () => {
      sweeps.push(Date.now())
      return []
    },
  } as unknown as Registry
  upkeep = new Upkeep({
    wss: { clients: new Set() } as unknown as WebSocketServer,
    registry,
    rooms: {} as Rooms,
    sockets: new Map(),
    connections: new Map(),
    heartbeatMs: 60_000,
    peerTtlMs: TTL_MS,
    log: createLog({ level: 'silent', instance: 'test', pretty: false }),
    faults: { drop: () => true },
  })
  await new Promise((resolve) => setTimeout(resolve, 250))
  expect(sweeps.length).toBeGreaterThan(0)
  down = true
  await new Promise((resolve) => setTimeout(resolve, 250))
  down = false
  const failedAt = lastFailure
  expect(failedAt).toBeGreaterThan(0)
  await new Promise((resolve) => setTimeout(resolve, TTL_MS + 300))
  const after = sweeps.filter((at) => at > failedAt)
  expect(after.length).toBeGreaterThan(0)
  expect(Math.min(...after) - failedAt).toBeGreaterThanOrEqual(TTL_MS - 5)
})
