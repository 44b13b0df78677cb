// Shared by `npm test` and `npm run bench`: finding Chromium and isolating the network.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const isRoot = process.getuid?.() === 0

export function run(title, command, commandArgs, options = {}) {
  console.log(`\n▶ ${title}`)
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', ...options })
  if (result.status !== 0) {
    console.error(`✖ ${title} failed${result.status === null ? ` (signal ${result.signal})` : ` (exit ${result.status})`}`)
    process.exit(result.status || 1)
  }
}

function playwrightChromium() {
  try {
    const probe = spawnSync(process.execPath, ['-e', "process.stdout.write(require('playwright-core').chromium.executablePath())"], {
      encoding: 'utf8',
    })
    return probe.stdout && existsSync(probe.stdout) ? probe.stdout : undefined
  } catch {
    return undefined
  }
}

/**
 * A browser binary: `env` if set (it must exist), else Debian's `path`, else `fallback()`; as root on
 * Debian, when none is found, Debian's `pkg` is installed with apt. Otherwise the run stops saying
 * what to install: the browser tests are never skipped.
 */
function ensureBrowser({ env, path, pkg, fallback = () => undefined, name, neededFor }) {
  if (process.env[env]) {
    if (existsSync(process.env[env])) return process.env[env]
    console.error(`${env} is set to ${process.env[env]}, but there is no file there.`)
    process.exit(1)
  }
  const found = existsSync(path) ? path : fallback()
  if (found) return found
  if (isRoot && existsSync('/etc/debian_version')) {
    run(`Installing Debian’s ${pkg} for ${neededFor}`, 'sh', [
      '-c',
      `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`,
    ])
    if (existsSync(path)) return path
  }
  console.error(
    `\nNo ${name} found for ${neededFor}. Install one (Debian/Ubuntu: \`sudo apt-get install ${pkg}\`) ` +
      `or set ${env} to a ${name} binary, then run \`npm test\` again.`,
  )
  process.exit(1)
}

export function ensureChromium() {
  return ensureBrowser({
    env: 'CHROMIUM_PATH',
    path: '/usr/bin/chromium',
    pkg: 'chromium',
    fallback: playwrightChromium,
    name: 'Chromium',
    neededFor: 'the end-to-end tests',
  })
}

/** Stock Firefox for the cross-browser tests, driven over WebDriver BiDi. */
export function ensureFirefox() {
  return ensureBrowser({
    env: 'FIREFOX_PATH',
    path: '/usr/bin/firefox-esr',
    pkg: 'firefox-esr',
    name: 'Firefox',
    neededFor: 'the cross-browser tests',
  })
}

/** A Debian package's command, installed with apt as root when missing (coturn, redis-server). */
function ensureDebianTool(command, pkg, neededBy) {
  const found = () => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
  if (found()) return
  if (isRoot && existsSync('/etc/debian_version')) {
    run(`Installing Debian’s ${pkg} for ${neededBy}`, 'sh', [
      '-c',
      `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`,
    ])
    if (found()) return
  }
  console.error(`\n${neededBy} need ${pkg} (Debian/Ubuntu: \`sudo apt-get install ${pkg}\`). Install it, then run \`npm test\` again.`)
  process.exit(1)
}

/** coturn's turnserver, for the TURN relay test. */
export function ensureCoturn() {
  ensureDebianTool('turnserver', 'coturn', 'the TURN relay tests')
}

/** nginx and openssl, for the test behind a TLS reverse proxy (the deployment document's own config). */
export function ensureNginx() {
  ensureDebianTool('nginx', 'nginx', 'the reverse proxy tests')
  ensureDebianTool('openssl', 'openssl', 'the reverse proxy tests')
}

/** nftables, for the NAT lab: its routers are network namespaces with nft rules. */
export function ensureNftables() {
  ensureDebianTool('nft', 'nftables', 'the NAT lab tests')
}

/** ffmpeg, for the streaming tests and benchmark: they make their own video. */
export function ensureFfmpeg() {
  ensureDebianTool('ffmpeg', 'ffmpeg', 'the streaming tests')
}

/** redis-server, for the tracker on Redis (registry, cluster and end-to-end tests, and the benchmark). */
export function ensureRedis() {
  ensureDebianTool('redis-server', 'redis-server', 'the Redis tracker tests')
}

/**
 * Sets up the private network namespace the browser tests run in: loopback, plus a veth pair with
 * addresses from 198.18.0.0/15 (reserved for benchmarking) and a default route into it. Firefox
 * gathers no ICE candidate with loopback alone; with this it gathers a host candidate. The pair's
 * two ends are both in the namespace, so no packet can leave it.
 */
export const NAMESPACE_SETUP = [
  'ip link set lo up',
  'ip link add tsw0 type veth peer name tsw1',
  'ip addr add 198.18.0.1/24 dev tsw0',
  'ip addr add 198.18.0.2/24 dev tsw1',
  'ip link set tsw0 up',
  'ip link set tsw1 up',
  'ip route add default via 198.18.0.2 dev tsw0',
].join(' && ')

export function canIsolateNetwork() {
  if (!isRoot || process.platform !== 'linux') return false
  return spawnSync('unshare', ['-n', 'sh', '-c', NAMESPACE_SETUP], { stdio: 'ignore' }).status === 0
}
