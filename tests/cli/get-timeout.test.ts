import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDuration } from '../../src/core/duration'
import type { RunningService } from '../../signaling-server/server'
import { Cli } from '../support/cli'
import { startTestService } from '../support/service'

describe('parseDuration', () => {
  it('reads seconds, minutes, hours and milliseconds, a bare number as seconds', () => {
    expect(parseDuration('90')).toBe(90_000)
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('1.5m')).toBe(90_000)
    expect(parseDuration(' 2h ')).toBe(7_200_000)
    expect(parseDuration('500ms')).toBe(500)
  })

  it('refuses what is not a positive duration', () => {
    for (const text of ['', 'soon', '0', '-5s', '5 days', '1e3', 's']) expect(parseDuration(text)).toBeUndefined()
  })
})

describe('tabswarm get --timeout', () => {
  let service: RunningService
  beforeAll(async () => {
    service = await startTestService()
  })
  afterAll(() => service.close())

  it('gives up with exit code 3 and says why once nothing has arrived for that long; without it, it waits', async () => {
    const link = `${service.url}/#/f/${'ab'.repeat(32)}/${'A'.repeat(22)}`
    const tracker = `${service.url.replace('http', 'ws')}/ws`
    const out = await mkdtemp(join(tmpdir(), 'tabswarm-get-timeout-'))
    const startedAt = Date.now()
    const impatient = new Cli(['get', link, '-o', out, '--timeout', '2s', '--tracker', tracker])
    const patient = new Cli(['get', link, '-o', out, '--tracker', tracker])
    try {
      expect(await impatient.exited).toBe(3)
      const seconds = (Date.now() - startedAt) / 1000
      expect(seconds).toBeGreaterThanOrEqual(2)
      const error = impatient.events.find((event) => event.event === 'error')
      expect(error?.message).toMatch(
        /^Nothing arrived for 2 s \(No one is sharing this file right now.*\), so it gave up\. Run the same command again/,
      )
      // The one without a timeout is still waiting for a sharer.
      expect(patient.child.exitCode).toBeNull()
      expect((await patient.event('looking', (event) => typeof event.notice === 'string')).notice).toContain('No one is sharing')
    } finally {
      await patient.stop()
    }
  }, 60_000)
})
