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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An upkeep over a registry whose refresh runs `refresh`; returns when each sweep began. */
function upkeepOver(refresh: () => Promise<string[]>, faults: { active: boolean; lastEndedAt: number | undefined }): number[] {
  const sweeps: number[] = []
  const registry = {
    refresh,
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
    faults: Object.assign(faults, { drop: () => true, onEnd: () => () => undefined }),
  })
  return sweeps
}

/** The first sweep after `at` came no sooner than a TTL after it. */
function expectHeldOffFrom(sweeps: number[], at: number): void {
  const after = sweeps.filter((sweptAt) => sweptAt > at)
  expect(after.length).toBeGreaterThan(0)
  expect(Math.min(...after) - at).toBeGreaterThanOrEqual(TTL_MS - 5)
}

it('holds off sweeping for a TTL after a refresh failed, then sweeps again', async () => {
  let down = false
  let lastFailure = 0
  const sweeps = upkeepOver(
    async () => {
      if (!down) return []
      lastFailure = Date.now()
      throw new Error('Redis did not answer')
    },
    { active: false, lastEndedAt: undefined },
  )
  await sleep(250)
  expect(sweeps.length).toBeGreaterThan(0)
  down = true
  await sleep(250)
  down = false
  expect(lastFailure).toBeGreaterThan(0)
  await sleep(TTL_MS + 300)
  expectHeldOffFrom(sweeps, lastFailure)
})

it('holds off sweeping for a TTL after an outage its own refreshes never hit (a pause the ping watchdog saw)', async () => {
  const faults = { active: false, lastEndedAt: undefined as number | undefined }
  const sweeps = upkeepOver(async () => [], faults)
  await sleep(250)
  expect(sweeps.length).toBeGreaterThan(0)
  faults.active = true
  await sleep(250)
  faults.active = false
  const endedAt = (faults.lastEndedAt = Date.now())
  await sleep(TTL_MS + 300)
  expectHeldOffFrom(sweeps, endedAt)
})

it('holds off sweeping for a TTL after a refresh that stalled longer than a pass', async () => {
  let stallMs = 0
  let stalledUntil = 0
  const sweeps = upkeepOver(
    async () => {
      if (stallMs > 0) {
        await sleep(stallMs)
        stallMs = 0
        stalledUntil = Date.now()
      }
      return []
    },
    { active: false, lastEndedAt: undefined },
  )
  await sleep(250)
  expect(sweeps.length).toBeGreaterThan(0)
  stallMs = 250
  await sleep(300 + TTL_MS + 300)
  expect(stalledUntil).toBeGreaterThan(0)
  expectHeldOffFrom(sweeps, stalledUntil)
})
