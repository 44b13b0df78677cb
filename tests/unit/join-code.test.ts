import { describe, expect, it } from 'vitest'
import {
  formatJoinCode,
  JOIN_CODE_ALPHABET,
  JOIN_CODE_PATTERN,
  JOIN_CODE_SPACE,
  newJoinCode,
  readJoinCode,
} from '../../src/protocol/join-code'
import { EXPIRED_CODE_REMEMBERED_MS, MemoryJoinCodes } from '../../signaling-server/join-codes'

describe('join codes', () => {
  it('reads a code as typed: any case, spaces and dashes between groups', () => {
    expect(readJoinCode('k7m-qx4')).toEqual({ ok: true, code: 'K7MQX4' })
    expect(readJoinCode('  K7M QX4 ')).toEqual({ ok: true, code: 'K7MQX4' })
    expect(readJoinCode('')).toEqual({ ok: false, reason: 'empty' })
    expect(readJoinCode('K7MQX')).toEqual({ ok: false, reason: 'length' })
    expect(readJoinCode('K7MQX44')).toEqual({ ok: false, reason: 'length' })
    // Look-alikes are not guessed at: an O might be a 0 or a Q.
    for (const text of ['K7MQXO', 'K7MQX0', 'K7MQX1', 'K7MQXI', 'K7MQXL', 'K7MQXU', 'K7MQXV', 'K7M/X4']) {
      expect(readJoinCode(text)).toEqual({ ok: false, reason: 'characters' })
    }
  })

  it('has no look-alike characters and enough codes', () => {
    for (const char of '01ILOUV') expect(JOIN_CODE_ALPHABET).not.toContain(char)
    expect(new Set(JOIN_CODE_ALPHABET).size).toBe(JOIN_CODE_ALPHABET.length)
    expect(JOIN_CODE_SPACE).toBeGreaterThan(5e8)
  })

  it('makes codes from the alphabet only, every character reachable, shown in two groups', () => {
    let n = 0
    const counting = (max: number) => n++ % max
    const seen = new Set<string>()
    for (let i = 0; i < 10; i++) {
      const code = newJoinCode(counting)
      expect(code).toMatch(JOIN_CODE_PATTERN)
      for (const char of code) seen.add(char)
    }
    expect(seen.size).toBe(JOIN_CODE_ALPHABET.length)
    expect(formatJoinCode('K7MQX4')).toBe('K7M-QX4')
  })

  it('remembers an expired code for a day, so a late lookup hears "expired", then forgets it', async () => {
    let now = 1_000_000
    const codes = new MemoryJoinCodes(() => now)
    await codes.put('K7MQX4', { fileId: 'a', owner: 'p', expiresAt: now + 1000 })
    expect(await codes.put('K7MQX4', { fileId: 'b', owner: 'q', expiresAt: now + 1000 })).toBe(false)
    now += 2000
    expect(await codes.get('K7MQX4')).toMatchObject({ fileId: 'a' })
    // Expired: another file may take it.
    expect(await codes.put('K7MQX4', { fileId: 'b', owner: 'q', expiresAt: now + 1000 })).toBe(true)
    now += 1000 + EXPIRED_CODE_REMEMBERED_MS
    expect(await codes.get('K7MQX4')).toBeUndefined()
  })
})
