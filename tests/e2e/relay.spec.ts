import { randomBytes } from 'node:crypto'
import { distDir, startTestService } from '../support/service'
import { downloadedBytes, expect, save, sha256, shareFile, test, transferOf, withQuery } from './fixtures'
import { startCoturn } from '../support/coturn'

test('with relay-only tabs, a file goes through coturn using the tracker’s TURN credentials, and the peers show it as relayed', async ({
  peers,
}) => {
  const secret = `turn-secret-${Math.random()}`
  const turn = await startCoturn(secret)
  const service = await startTestService({ TURN_SECRET: secret, TURN_URLS: turn.url }, distDir)
  try {
    const bytes = randomBytes(2 * 1024 * 1024)
    const sharer = await peers.open(`${service.url}/?relay=1`)
    const link = await shareFile(sharer, { name: 'relayed.bin', mimeType: 'application/octet-stream', buffer: bytes })
    const friend = await peers.open(withQuery(link, 'relay=1'))
    await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
    expect(sha256(await downloadedBytes(await save(friend)))).toBe(sha256(bytes))
    await expect(friend.getByTestId('peer')).toHaveAttribute('data-route', 'relayed')
    await expect(sharer.getByTestId('peer')).toHaveAttribute('data-route', 'relayed')
    await expect(friend.getByTestId('peer')).toContainText('connected (relayed)')
  } finally {
    await service.close()
    await turn.stop()
  }
})

test('tabs that reach each other directly show the link as direct', async ({ peers }) => {
  const sharer = await peers.open()
  const link = await shareFile(sharer, { name: 'direct.bin', mimeType: 'application/octet-stream', buffer: randomBytes(300_000) })
  const friend = await peers.open(link)
  await expect(transferOf(friend)).toHaveAttribute('data-state', 'complete')
  await expect(friend.getByTestId('peer')).toHaveAttribute('data-route', 'direct')
})
