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

function findChromium() {
  if (process.env.CHROMIUM_PATH) {
    if (existsSync(process.env.CHROMIUM_PATH)) return process.env.CHROMIUM_PATH
    console.error(`CHROMIUM_PATH is set to ${process.env.CHROMIUM_PATH}, but there is no file there.`)
    process.exit(1)
  }
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium'
  return playwrightChromium()
}

export function ensureChromium() {
  const found = findChromium()
  if (found) return found
  if (isRoot && existsSync('/etc/debian_version')) {
    run('Installing Debian’s chromium for the browser tests', 'sh', [
      '-c',
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium',
    ])
    if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium'
  }
  console.error(
    '\nNo Chromium found for the end-to-end tests. Install one (Debian/Ubuntu: `sudo apt-get install chromium`) ' +
      'or set CHROMIUM_PATH to a Chromium or Chrome binary, then run `npm test` again.',
  )
  process.exit(1)
}

/**
 * Stock Firefox for the cross-browser tests, driven over WebDriver BiDi: FIREFOX_PATH, then
 * Debian's /usr/bin/firefox-esr, installed with apt as root on Debian when missing.
 */
export function ensureFirefox() {
  if (process.env.FIREFOX_PATH) {
    if (existsSync(process.env.FIREFOX_PATH)) return process.env.FIREFOX_PATH
    console.error(`FIREFOX_PATH is set to ${process.env.FIREFOX_PATH}, but there is no file there.`)
    process.exit(1)
  }
  if (existsSync('/usr/bin/firefox-esr')) return '/usr/bin/firefox-esr'
  if (isRoot && existsSync('/etc/debian_version')) {
    run('Installing Debian’s firefox-esr for the cross-browser tests', 'sh', [
      '-c',
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr',
    ])
    if (existsSync('/usr/bin/firefox-esr')) return '/usr/bin/firefox-esr'
  }
  console.error(
    '\nNo Firefox found for the cross-browser tests. Install one (Debian: `sudo apt-get install firefox-esr`) ' +
      'or set FIREFOX_PATH to a Firefox binary, then run `npm test` again.',
  )
  process.exit(1)
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
