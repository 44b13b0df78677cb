#!/usr/bin/env node
// `npm run screenshots`: builds the app, finds Chromium, and runs take.ts (loopback-only network
// namespace where Linux allows it). Writes public/screenshots/*.png.
import { canIsolateNetwork, ensureChromium, ensureFfmpeg, run } from '../support/browser-env.mjs'

run('Build the app (vite)', 'npx', ['vite', 'build', '--logLevel', 'warn'])
ensureFfmpeg()
const env = { ...process.env, CHROMIUM_PATH: ensureChromium() }
if (canIsolateNetwork()) {
  run(
    'Screenshots (loopback-only network namespace)',
    'unshare',
    ['-n', 'sh', '-c', 'ip link set lo up && exec npx tsx tests/screenshots/take.ts'],
    {
      env,
    },
  )
} else {
  run('Screenshots', 'npx', ['tsx', 'tests/screenshots/take.ts'], { env })
}
