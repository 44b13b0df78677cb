// Installs WebTorrent and bittorrent-tracker for the throughput benchmark alone, into
// tests/bench/.webtorrent, on first use: never into the project's own dependencies. Uses
// --ignore-scripts because ip-set's preinstall (`npx only-allow pnpm`) fails a plain install.
// Runs before the benchmark enters its network namespace, which has no route to the registry.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const WEBTORRENT_DIR = fileURLToPath(new URL('./.webtorrent/', import.meta.url))
export const WEBTORRENT_VERSIONS = { webtorrent: '3.0.21', 'bittorrent-tracker': '11.2.3' }

export function webTorrentInstalled() {
  return (
    existsSync(`${WEBTORRENT_DIR}node_modules/webtorrent/dist/webtorrent.min.js`) &&
    existsSync(`${WEBTORRENT_DIR}node_modules/bittorrent-tracker/server.js`)
  )
}

export function ensureWebTorrent() {
  if (webTorrentInstalled()) return
  mkdirSync(WEBTORRENT_DIR, { recursive: true })
  writeFileSync(`${WEBTORRENT_DIR}package.json`, `${JSON.stringify({ name: 'tabswarm-bench-webtorrent', private: true }, null, 2)}\n`)
  console.log(`\nInstalling WebTorrent ${WEBTORRENT_VERSIONS.webtorrent} for the benchmark into ${WEBTORRENT_DIR} (once)…`)
  const packages = Object.entries(WEBTORRENT_VERSIONS).map(([name, version]) => `${name}@${version}`)
  execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel', 'error', ...packages], {
    cwd: WEBTORRENT_DIR,
    stdio: 'inherit',
  })
}
