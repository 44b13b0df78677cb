import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  url: string
  port: number
  pid: number
  stop(): Promise<void>
}

async function freeTcpPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Debian's redis-server on a free loopback port (or `port`), in a temporary directory, persisting nothing. */
export async function startRedis(options: { port?: number } = {}): Promise<RedisServer> {
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('These tests need redis-server (Debian/Ubuntu: `sudo apt-get install redis-server`; `npm test` installs it).')
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options.port ?? (await freeTcpPort()))
    } catch (error) {
      // Another process may take the free port between the probe and the start.
      if (attempt >= 3 || !String(error).includes('Address already in use')) throw error
    }
  }
}

async function launch(port: number): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tabswarm-redis-'))
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString()
      if (output.includes('Ready to accept connections')) resolve()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      rmSync(dir, { recursive: true, force: true })
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`))
    })
  })
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
