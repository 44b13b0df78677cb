import { describe, expect, it } from 'vitest'
import { DEAD_AFTER_MS, MAX_RESTART_DELAY_MS, PING_MS, WorkerSupervisor } from '../../src/worker/worker-supervisor'
import { FakeClock } from '../support/fake-clock'

function setup({ answers = true } = {}) {
  const clock = new FakeClock()
  const events: string[] = []
  const state = { answers }
  const supervisor: WorkerSupervisor = new WorkerSupervisor({
    clock,
    ping: (n) => {
      events.push(`ping ${n}`)
      if (state.answers) supervisor.pong(n)
    },
    onDead: () => events.push(`dead at ${clock.now()}`),
    replace: () => events.push(`replaced at ${clock.now()}`),
  })
  supervisor.start()
  return { clock, events, supervisor, state }
}

describe('the engine worker’s supervisor, on a fake clock', () => {
  it('pings once a second and leaves a worker that answers alone', () => {
    const { clock, events } = setup()
    clock.advance(10 * PING_MS)
    expect(events).toEqual(Array.from({ length: 10 }, (_, i) => `ping ${i + 1}`))
  })

  it('declares a silent worker dead after DEAD_AFTER_MS and replaces it at once the first time', () => {
    const { clock, events } = setup({ answers: false })
    clock.advance(PING_MS + DEAD_AFTER_MS)
    expect(events).toEqual(['ping 1'])
    clock.advance(PING_MS)
    expect(events).toEqual(['ping 1', `dead at ${2 * PING_MS + DEAD_AFTER_MS}`, `replaced at ${2 * PING_MS + DEAD_AFTER_MS}`])
  })

  it('waits longer before each replacement while workers keep dying, up to the cap, and watches each new one', () => {
    const { clock, events } = setup({ answers: false })
    clock.advance(10 * 60_000)
    const deaths = events.filter((e) => e.startsWith('dead')).map((e) => Number(e.split(' at ')[1]))
    const replacements = events.filter((e) => e.startsWith('replaced')).map((e) => Number(e.split(' at ')[1]))
    const delays = replacements.map((at, i) => at - deaths[i]!)
    expect(delays.slice(0, 5)).toEqual([0, 1_000, 3_000, 7_000, 15_000])
    expect(Math.max(...delays)).toBe(MAX_RESTART_DELAY_MS - 1_000)
    // A replacement is pinged from its first second.
    const afterFirst = events.indexOf(`replaced at ${replacements[0]}`)
    expect(events[afterFirst + 1]).toMatch(/^ping /)
  })

  it('a worker that answers again is not replaced; stop leaves no timer behind', () => {
    const { clock, events, supervisor, state } = setup({ answers: false })
    clock.advance(PING_MS + DEAD_AFTER_MS - 1)
    state.answers = true
    supervisor.pong(1)
    clock.advance(10 * PING_MS)
    expect(events.some((e) => e.startsWith('dead'))).toBe(false)
    supervisor.stop()
    expect(clock.pending).toBe(0)
  })
})
