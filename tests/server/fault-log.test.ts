// A lasting fault's two log lines: one when it starts, one when it ends, and nothing for the
// failures in between or for the tail of commands that were sent during it.
import { PassThrough } from 'node:stream'
import { afterEach, expect, it, vi } from 'vitest'
import { createLog, FaultLog } from '../../signaling-server/log'

afterEach(() => vi.useRealTimers())

function logged() {
  const lines: { event?: string; dropped?: number }[] = []
  const destination = new PassThrough()
  destination.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as { event?: string })
  })
  const log = createLog({ level: 'info', instance: 'test', pretty: false, destination })
  const events = async () => {
    await new Promise((resolve) => setImmediate(resolve))
    return lines.map((line) => line.event)
  }
  return { log, lines, events }
}

it('a command that times out just after Redis returned was sent during the outage: no new outage is logged', async () => {
  vi.useFakeTimers({ toFake: ['Date'] })
  const { log, events } = logged()
  const faults = new FaultLog(log, { down: 'redis.down', up: 'redis.up' }, true, 1_000)
  expect(faults.drop('Command timed out')).toBe(true)
  expect(faults.drop('Command timed out')).toBe(true)
  vi.advanceTimersByTime(3_000)
  faults.up()
  vi.advanceTimersByTime(400)
  expect(faults.drop('Command timed out')).toBe(true)
  expect(faults.active).toBe(false)
  expect(await events()).toEqual(['redis.down', 'redis.up'])
  // Later, a failure is Redis failing again.
  vi.advanceTimersByTime(1_000)
  expect(faults.drop('Command timed out')).toBe(true)
  expect(faults.active).toBe(true)
  expect(await events()).toEqual(['redis.down', 'redis.up', 'redis.down'])
})

it('a connection lost right after Redis returned is a new outage however soon', async () => {
  vi.useFakeTimers({ toFake: ['Date'] })
  const { log, lines, events } = logged()
  const faults = new FaultLog(log, { down: 'redis.down', up: 'redis.up' }, true, 1_000)
  faults.down('read ECONNRESET')
  faults.up()
  faults.down('connect ECONNREFUSED')
  expect(faults.active).toBe(true)
  expect(faults.drop('Command timed out')).toBe(true)
  faults.up()
  expect(await events()).toEqual(['redis.down', 'redis.up', 'redis.down', 'redis.up'])
  expect(lines.at(-1)).toMatchObject({ dropped: 1 })
})

it('without the failures-are-outages rule, a failure while all is well is not counted: the caller logs it', () => {
  const { log } = logged()
  const faults = new FaultLog(log, { down: 'bus.down', up: 'bus.up' })
  expect(faults.drop('publish failed')).toBe(false)
  expect(faults.active).toBe(false)
})
