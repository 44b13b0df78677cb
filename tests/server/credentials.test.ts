import { describe, expect, it } from 'vitest'
import { Credentials } from '../../signaling-server/credentials'

const SECRET = 'a-secret-of-sixteen-or-more'
const TTL = 60_000

function credentials() {
  let now = 1_700_000_000_000
  const tick = (ms: number) => (now += ms)
  return { credentials: new Credentials(SECRET, TTL, undefined, () => now), tick }
}

describe('resume tokens', () => {
  it('prove the peer id they were issued for', () => {
    const { credentials: c } = credentials()
    const token = c.issue('peer-one-aaaa')
    expect(c.validResume({ peerId: 'peer-one-aaaa', token })).toBe('peer-one-aaaa')
    expect(c.validResume({ peerId: 'peer-two-bbbb', token })).toBeUndefined()
  })

  it('expire after their lifetime', () => {
    const { credentials: c, tick } = credentials()
    const token = c.issue('peer-one-aaaa')
    tick(TTL)
    expect(c.validResume({ peerId: 'peer-one-aaaa', token })).toBe('peer-one-aaaa')
    tick(1)
    expect(c.validResume({ peerId: 'peer-one-aaaa', token })).toBeUndefined()
  })

  it('stop working once a newer one is issued for the same peer', () => {
    const { credentials: c, tick } = credentials()
    const old = c.issue('peer-one-aaaa')
    tick(1)
    const fresh = c.issue('peer-one-aaaa')
    expect(c.validResume({ peerId: 'peer-one-aaaa', token: old })).toBeUndefined()
    expect(c.validResume({ peerId: 'peer-one-aaaa', token: fresh })).toBe('peer-one-aaaa')
  })

  it('survive a restart (another instance with the same secret remembers nothing), but not a different secret', () => {
    const { credentials: c } = credentials()
    const token = c.issue('peer-one-aaaa')
    const restarted = new Credentials(SECRET, TTL, undefined, () => 1_700_000_000_500)
    expect(restarted.validResume({ peerId: 'peer-one-aaaa', token })).toBe('peer-one-aaaa')
    const other = new Credentials('another-secret-entirely', TTL, undefined, () => 1_700_000_000_500)
    expect(other.validResume({ peerId: 'peer-one-aaaa', token })).toBeUndefined()
  })

  it.each([
    ['an old-style token', 'A'.repeat(43)],
    ['garbage', '..'],
    ['a tampered time', ''],
  ])('refuse %s', (what, given) => {
    const { credentials: c } = credentials()
    const real = c.issue('peer-one-aaaa')
    const token = what === 'a tampered time' ? real.replace(/^[0-9a-z]+/, (t) => (parseInt(t, 36) + 1000).toString(36)) : given
    expect(c.validResume({ peerId: 'peer-one-aaaa', token })).toBeUndefined()
  })
})
