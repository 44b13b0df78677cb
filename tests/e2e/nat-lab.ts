// A lab of network namespaces with real NAT (nftables), for the tests of how peers reach each
// other across routers: an "internet" (a bridge) with the service on it, home and office routers,
// computers behind them, and Chromium running in each computer's namespace. Built inside the
// test run's own private namespace, so nothing of it reaches the machine's network.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from '@playwright/test'
import { CHROMIUM_ARGS } from '../../playwright.config'
import { distDir } from '../support/service'

/** The service's host on the internet: its own address, and a second ("floating") one it is reached at. */
export const SERVICE_ADDRESS = '203.0.113.10'
export const FLOATING_ADDRESS = '203.0.113.11'
const SERVICE_PORT = 8080
const serverMain = fileURLToPath(new URL('../../signaling-server/main.ts', import.meta.url))

/**
 * How a router treats its computer's traffic: `full-cone` (a home router: one public port per
 * computer port, and any inbound UDP forwarded to the one computer behind), `symmetric` (an
 * office: a new public port for every destination, nothing unasked in), `no-udp` (a network that
 * lets no UDP out at all; TCP goes through).
 */
export type RouterKind = 'full-cone' | 'symmetric' | 'no-udp'

function sh(command: string): void {
  execFileSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] })
}

let labs = 0

export class NatLab {
  private readonly prefix = `t${process.pid % 10000}${labs++}`
  private readonly namespaces: string[] = []
  private readonly processes: ChildProcess[] = []
  private readonly browsers: Browser[] = []
  private routers = 0
  /** Computers on each router's LAN so far. */
  private readonly hosts = new Map<number, number>()
  private readonly dir = mkdtempSync(`${tmpdir()}/tabswarm-natlab-`)
  readonly internet = `${this.prefix}inet`

  constructor() {
    this.namespace(this.internet)
    sh(`ip -n ${this.internet} link add br0 type bridge && ip -n ${this.internet} link set br0 up`)
    sh(`ip -n ${this.internet} addr add ${SERVICE_ADDRESS}/24 dev br0 && ip -n ${this.internet} addr add ${FLOATING_ADDRESS}/24 dev br0`)
  }

  /** The page's address on the service, as computers in the lab open it. */
  get origin(): string {
    return `http://${FLOATING_ADDRESS}:${SERVICE_PORT}`
  }

  /** A router on the internet with its LAN; returns the router's index, for computers to join its LAN. */
  router(kind: RouterKind): number {
    const index = ++this.routers
    const name = `${this.prefix}r${index}`
    this.namespace(name)
    this.cable(this.internet, 'br0', name, 'wan', `203.0.113.${20 + index}/24`)
    sh(`ip netns exec ${name} sysctl -qw net.ipv4.ip_forward=1`)
    sh(`ip -n ${name} link add lan type bridge && ip -n ${name} addr add 10.${index}.0.1/24 dev lan && ip -n ${name} link set lan up`)
    sh(`ip -n ${name} route add default via ${SERVICE_ADDRESS}`)
    const masquerade = kind === 'symmetric' ? 'masquerade random' : 'masquerade'
    const rules = [
      'table ip lab {',
      `  chain postrouting { type nat hook postrouting priority 100; oifname "wan" ${masquerade}; }`,
      // A home router's full cone: what arrives on its public address goes to the one computer behind.
      kind === 'full-cone'
        ? `  chain prerouting { type nat hook prerouting priority -100; iifname "wan" meta l4proto udp dnat to 10.${index}.0.2; }`
        : '',
      kind === 'no-udp' ? '  chain forward { type filter hook forward priority 0; meta l4proto udp drop; }' : '',
      '}',
    ].join('\n')
    writeFileSync(`${this.dir}/${name}.nft`, rules)
    sh(`ip netns exec ${name} nft -f ${this.dir}/${name}.nft`)
    return index
  }

  /** A computer on a router's LAN (`router` from `router()`), or on the internet itself (`internet`). */
  computer(router: number | 'internet'): string {
    const name = `${this.prefix}c${this.namespaces.length}`
    this.namespace(name)
    if (router === 'internet') {
      this.cable(this.internet, 'br0', name, 'eth0', `203.0.113.${100 + this.namespaces.length}/24`)
    } else {
      const host = (this.hosts.get(router) ?? 0) + 1
      this.hosts.set(router, host)
      // The first computer is 10.<router>.0.2: a full-cone router forwards inbound UDP there.
      this.cable(`${this.prefix}r${router}`, 'lan', name, 'eth0', `10.${router}.0.${1 + host}/24`)
      sh(`ip -n ${name} route add default via 10.${router}.0.1`)
    }
    return name
  }

  /** Starts the service on the internet, with `env` added (TURN, relay settings). */
  async startService(env: Record<string, string> = {}): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', this.internet, process.execPath, '--import', 'tsx', serverMain], {
      env: {
        ...process.env,
        PORT: String(SERVICE_PORT),
        HOST: '0.0.0.0',
        STATIC_DIR: distDir,
        TRACKER_SECRET: `lab-${Math.random()}`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.processes.push(child)
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const seen = (data: Buffer) => {
        output += data.toString()
        if (output.includes('TabSwarm is running')) resolve()
      }
      child.stdout!.on('data', seen)
      child.stderr!.on('data', seen)
      child.once('exit', (code) => reject(new Error(`the service exited (${code}):\n${output}`)))
    })
  }

  /** coturn on the service's host (TURN REST API auth with `secret`); resolves with its URL once it listens. */
  async startCoturn(secret: string): Promise<string> {
    const child = spawn(
      'ip',
      [
        'netns',
        'exec',
        this.internet,
        'turnserver',
        '-n',
        `--listening-ip=${SERVICE_ADDRESS}`,
        `--relay-ip=${SERVICE_ADDRESS}`,
        '--listening-port=3478',
        '--use-auth-secret',
        `--static-auth-secret=${secret}`,
        '--realm=lab.test',
        '--no-cli',
        '--no-tls',
        '--no-dtls',
        '--log-file=stdout',
        '--simple-log',
        `--userdb=${this.dir}/turndb`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.processes.push(child)
    let output = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (data: Buffer) => {
        output += data.toString()
        if (output.includes('Total General servers')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`coturn exited (${code}):\n${output}`)))
    })
    return `turn:${SERVICE_ADDRESS}:3478?transport=udp`
  }

  /** Chromium in a computer's namespace, with the app open at `path` (a page of the lab's origin). */
  async open(computer: string, path = '/'): Promise<Page> {
    const wrapper = `${this.dir}/chromium-${computer}`
    writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${computer} ${process.env.CHROMIUM_PATH || '/usr/bin/chromium'} "$@"\n`)
    chmodSync(wrapper, 0o755)
    const browser = await chromium.launch({
      executablePath: wrapper,
      // Loopback candidates would pair each computer with itself here: only the lab's addresses.
      args: [
        ...CHROMIUM_ARGS.filter((arg) => arg !== '--allow-loopback-in-peer-connection'),
        `--unsafely-treat-insecure-origin-as-secure=${this.origin}`,
      ],
    })
    this.browsers.push(browser)
    const context = await browser.newContext({ permissions: ['camera', 'microphone'], acceptDownloads: true })
    const page = await context.newPage()
    await page.goto(`${this.origin}${path}`)
    await page.waitForSelector('[data-testid="tracker-status"][data-status="online"]')
    return page
  }

  async close(): Promise<void> {
    for (const browser of this.browsers) await browser.close().catch(() => undefined)
    for (const child of this.processes) child.kill('SIGTERM')
    for (const name of this.namespaces.reverse()) sh(`ip netns del ${name} 2>/dev/null || true`)
  }

  private namespace(name: string): void {
    sh(`ip netns add ${name} && ip -n ${name} link set lo up`)
    this.namespaces.push(name)
  }

  /** A veth pair: one end joins `bridge` in `from`, the other is `device` with `address` in `to`. */
  private cable(from: string, bridge: string, to: string, device: string, address: string): void {
    const a = `${to}a`.slice(-15)
    const b = `${to}b`.slice(-15)
    sh(`ip link add ${a} type veth peer name ${b}`)
    sh(`ip link set ${a} netns ${from} && ip link set ${b} netns ${to}`)
    sh(`ip -n ${from} link set ${a} master ${bridge} && ip -n ${from} link set ${a} up`)
    sh(`ip -n ${to} link set ${b} name ${device} && ip -n ${to} addr add ${address} dev ${device} && ip -n ${to} link set ${device} up`)
  }
}
