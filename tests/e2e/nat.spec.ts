// Peers behind real routers (nftables NAT in network namespaces; see nat-lab.ts): each case says
// which way the link went, from the peers table, and that the file arrived whole. The service is
// the default one (STUN on at its HTTP port, the relay on), reached at a second address of its host.
import { randomBytes } from 'node:crypto'
import type { Page } from '@playwright/test'
import { downloadedBytes, expect, save, sha256, shareFile, test, transferOf } from './fixtures'
import { NatLab } from './nat-lab'

const file = () => ({ name: 'across.bin', mimeType: 'application/octet-stream', buffer: randomBytes(3 * 256 * 1024 + 17) })
/** Direct attempts give up sooner than the default 15 s, so the relay is reached quickly. */
const QUERY = '?connectTimeout=4000'

let lab: NatLab
test.beforeEach(() => {
  lab = new NatLab()
})
test.afterEach(async () => {
  await lab.close()
})

/** The friend opens the sharer's link; the file arrives whole; returns the friend's row for the sharer. */
async function fetchFrom(sharer: Page, friendComputer: string, shared: ReturnType<typeof file>, query = QUERY) {
  const link = await shareFile(sharer, shared)
  const friend = await lab.open(friendComputer, `/${query}${link.slice(link.indexOf('#'))}`)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete', { timeout: 60_000 })
  expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(shared.buffer))
  return { friend, row: friend.getByTestId('peer').first() }
}

test('behind two home routers (full-cone NAT), peers connect directly through the service’s own STUN', async () => {
  const alice = lab.computer(lab.router('full-cone'))
  const bob = lab.computer(lab.router('full-cone'))
  await lab.startService()
  const sharer = await lab.open(alice, `/${QUERY}`)
  const { row } = await fetchFrom(sharer, bob, file())
  await expect(row).toHaveAttribute('data-path', 'reflexive')
  await expect(row).toHaveAttribute('data-route', 'direct')
})

test('behind two office routers (symmetric NAT), peers connect through TURN where coturn is configured', async () => {
  const alice = lab.computer(lab.router('symmetric'))
  const bob = lab.computer(lab.router('symmetric'))
  const secret = `lab-turn-${Math.random()}`
  const turn = await lab.startCoturn(secret)
  // The relay off: every attempt is WebRTC, which TURN carries (the first through it may take a while).
  await lab.startService({ TURN_SECRET: secret, TURN_URLS: turn, RELAY_BYTES_PER_SECOND: '0' })
  const sharer = await lab.open(alice, '/?relay=1')
  const { row } = await fetchFrom(sharer, bob, file(), '?relay=1')
  await expect(row).toHaveAttribute('data-path', 'turn')
})

test('behind two office routers without TURN, peers fall back to the service’s relay, and the page says so', async () => {
  const alice = lab.computer(lab.router('symmetric'))
  const bob = lab.computer(lab.router('symmetric'))
  await lab.startService()
  const sharer = await lab.open(alice, `/${QUERY}`)
  const { row, friend } = await fetchFrom(sharer, bob, file())
  await expect(row).toHaveAttribute('data-path', 'server')
  await expect(row).toHaveAttribute('data-route', 'relayed')
  await expect(row).toContainText('relayed through the server')
  // The sharer's side of the same link.
  await expect(sharer.getByTestId('peer').first()).toHaveAttribute('data-path', 'server')
  void friend
})

test('a network that lets no UDP out gets the file through the service’s relay', async () => {
  const alice = lab.computer(lab.router('full-cone'))
  const bob = lab.computer(lab.router('no-udp'))
  await lab.startService()
  const sharer = await lab.open(alice, `/${QUERY}`)
  const { row } = await fetchFrom(sharer, bob, file())
  await expect(row).toHaveAttribute('data-path', 'server')
})

test('in one swarm, a peer on the sharer’s LAN connects host to host, one behind another router through STUN', async () => {
  const office = lab.router('full-cone')
  const alice = lab.computer(office)
  const colleague = lab.computer(office)
  const bob = lab.computer(lab.router('full-cone'))
  await lab.startService()
  const sharer = await lab.open(alice, `/${QUERY}`)
  const shared = file()
  const { row: lanRow } = await fetchFrom(sharer, colleague, shared)
  await expect(lanRow).toHaveAttribute('data-path', 'host')
  const link = (await sharer.getByTestId('share-link').first().getAttribute('href'))!
  const far = await lab.open(bob, `/${QUERY}${link.slice(link.indexOf('#'))}`)
  await expect(transferOf(far)).toHaveAttribute('data-state', 'complete', { timeout: 60_000 })
  // Bob may have fetched all three chunks from the sharer or the colleague: both are behind the office router.
  await expect(far.getByTestId('peer').first()).toHaveAttribute('data-path', 'reflexive')
})
