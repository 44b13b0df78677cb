#!/usr/bin/env node
// `npm test`: type check, unit and server tests, build, then end-to-end tests in real Chromium and
// Firefox. Finds Chromium (CHROMIUM_PATH, /usr/bin/chromium, Playwright's own) and Firefox
// (FIREFOX_PATH, /usr/bin/firefox-esr); as root on Debian it installs Debian's packages when one is
// missing. Browser tests run in a private network namespace where Linux allows it (loopback and a
// veth pair inside it), so no packet leaves the machine. The TURN relay test needs
// coturn and the tracker-on-Redis tests need redis-server (each test starts its own on loopback),
// installed the same way, as is nftables for the NAT lab (namespaces with real NAT around the service).
import {
  canIsolateNetwork,
  ensureChromium,
  ensureCoturn,
  ensureFfmpeg,
  ensureFirefox,
  ensureNftables,
  ensureNginx,
  ensureRedis,
  NAMESPACE_SETUP,
  run,
} from './browser-env.mjs'

const args = process.argv.slice(2)
const e2eOnly = args.includes('--e2e-only')
const playwrightArgs = args.filter((arg) => arg !== '--e2e-only')

ensureRedis()
if (!e2eOnly) {
  run('Format check (prettier; `npm run format` fixes)', 'npx', [
    'prettier',
    '--check',
    '--log-level',
    'warn',
    'src/**/*.{ts,tsx,css}',
    'signaling-server/**/*.ts',
    'tests/**/*.{ts,mjs}',
    'vite.config.ts',
    'playwright.config.ts',
  ])
  run('Type check', 'npx', ['tsc', '-p', 'tsconfig.json'])
  run('Type check (server and tests)', 'npx', ['tsc', '-p', 'tsconfig.node.json'])
  run('Unit and server tests (vitest)', 'npx', ['vitest', 'run'])
}
run('Build the app (vite)', 'npx', ['vite', 'build', '--logLevel', 'warn'])
const chromium = ensureChromium()
const firefox = ensureFirefox()
ensureCoturn()
ensureFfmpeg()
ensureNftables()
ensureNginx()
console.log(`\nChromium: ${chromium}\nFirefox: ${firefox}`)
const env = { ...process.env, CHROMIUM_PATH: chromium, FIREFOX_PATH: firefox }
if (canIsolateNetwork()) {
  run(
    'End-to-end tests in Chromium and Firefox (private network namespace)',
    'unshare',
    ['-n', 'sh', '-c', `${NAMESPACE_SETUP} && exec npx playwright test "$@"`, 'sh', ...playwrightArgs],
    { env },
  )
} else {
  console.log('\nNote: not root on Linux, so the browser tests share the host network (they use only 127.0.0.1).')
  run('End-to-end tests (playwright)', 'npx', ['playwright', 'test', ...playwrightArgs], { env })
}
