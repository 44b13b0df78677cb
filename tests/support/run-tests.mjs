#!/usr/bin/env node
// `npm test`: type check, unit and server tests, build, then end-to-end tests in real Chromium.
// Finds Chromium (CHROMIUM_PATH, /usr/bin/chromium, Playwright's own); as root on Debian it installs
// Debian's chromium when none is found. Browser tests run in a private network namespace with
// only loopback where Linux allows it, so no packet leaves the machine.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const args = process.argv.slice(2)
const e2eOnly = args.includes('--e2e-only')
const playwrightArgs = args.filter((arg) => arg !== '--e2e-only')
const isRoot = process.getuid?.() === 0

function run(title, command, commandArgs, options = {}) {
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

function ensureChromium() {
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

function canIsolateNetwork() {
  if (!isRoot || process.platform !== 'linux') return false
  return spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' }).status === 0
}

if (!e2eOnly) {
  run('Type check', 'npx', ['tsc', '-p', 'tsconfig.json'])
  run('Type check (server and tests)', 'npx', ['tsc', '-p', 'tsconfig.node.json'])
  run('Unit and server tests (vitest)', 'npx', ['vitest', 'run'])
}
run('Build the app (vite)', 'npx', ['vite', 'build', '--logLevel', 'warn'])
const chromium = ensureChromium()
console.log(`\nChromium: ${chromium}`)
const env = { ...process.env, CHROMIUM_PATH: chromium }
if (canIsolateNetwork()) {
  run('End-to-end tests (playwright, loopback-only network namespace)', 'unshare', [
    '-n',
    'sh',
    '-c',
    'ip link set lo up && exec npx playwright test "$@"',
    'sh',
    ...playwrightArgs,
  ], { env })
} else {
  console.log('\nNote: not root on Linux, so the browser tests share the host network (they use only 127.0.0.1).')
  run('End-to-end tests (playwright)', 'npx', ['playwright', 'test', ...playwrightArgs], { env })
}
