#!/usr/bin/env node
// `npm run bench [part...]`: builds the app, finds Chromium, and runs each benchmark part in a
// loopback-only network namespace where Linux allows it. Parts: every tests/bench/*.bench.ts
// (memory, stream, swarm, throughput, ...); none named runs them all.
import { readdirSync } from 'node:fs'
import {
  NAMESPACE_SETUP,
  canIsolateNetwork,
  ensureChromium,
  ensureCoturn,
  ensureFfmpeg,
  ensureFirefox,
  ensureRedis,
  run,
} from '../support/browser-env.mjs'
import { ensureWebTorrent } from './webtorrent-install.mjs'

const available = readdirSync(new URL('.', import.meta.url))
  .filter((name) => name.endsWith('.bench.ts'))
  .map((name) => name.replace('.bench.ts', ''))
const asked = process.argv.slice(2)
const unknown = asked.filter((part) => !available.includes(part))
if (unknown.length > 0) {
  console.error(`Unknown benchmark part: ${unknown.join(', ')}. Parts: ${available.join(', ')}`)
  process.exit(2)
}
run('Build the app (vite)', 'npx', ['vite', 'build', '--logLevel', 'warn'])
const env = { ...process.env, CHROMIUM_PATH: ensureChromium() }
const parts = asked.length > 0 ? asked : available
if (['throughput', 'stream', 'paths'].some((part) => parts.includes(part)) && process.env.BENCH_WEBTORRENT !== '0') ensureWebTorrent()
if (parts.includes('paths')) ensureCoturn()
if (parts.includes('stream')) ensureFfmpeg()
if (['tracker', 'chaos'].some((part) => parts.includes(part))) ensureRedis()
/** Parts with Firefox peers: Firefox's ICE needs an address besides loopback (the namespace's own pair). */
const FIREFOX_PEERS = ['paths-firefox']
if (['storage', ...FIREFOX_PEERS].some((part) => parts.includes(part))) env.FIREFOX_PATH = ensureFirefox()
for (const part of parts) {
  const script = `tests/bench/${part}.bench.ts`
  const setup = FIREFOX_PEERS.includes(part) ? NAMESPACE_SETUP : 'ip link set lo up'
  if (canIsolateNetwork()) run(`Benchmark: ${part}`, 'unshare', ['-n', 'sh', '-c', `${setup} && exec npx tsx ${script}`], { env })
  else run(`Benchmark: ${part}`, 'npx', ['tsx', script], { env })
}
