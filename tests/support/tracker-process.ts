import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface ServerProcess {
  /** What the server printed first, e.g. http://127.0.0.1:41234 */
  url: string
  port: number
  pid: number
  /** SIGKILL: the server dies without a word to Redis or its peers. */
  kill(): Promise<void>
  /** SIGTERM: the server drains (clients are told to reconnect) and exits; resolves with its exit code. */
  stop(): Promise<number | null>
  /** Everything it printed so far (its log). */
  log(): string
}

/**
 * A TypeScript server (`script`, from the repository root) in its own process on a free loopback
 * port, with `env` added; ready once it prints its URL. Its error output is passed on afterwards, and all it prints is kept.
 */
export async function startServerProcess(script: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString()
      const found = /(?:http|ws):\/\/127\.0\.0\.1:\d+/.exec(output)
      if (found) resolve(found[0])
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready:\n${output}`)))
  })
  child.stdout.removeAllListeners('data').on('data', (data: Buffer) => (output += data.toString()))
  child.stderr.removeAllListeners('data').on('data', (data: Buffer) => {
    output += data.toString()
    process.stderr.write(data)
  })
  const ended = (signal: NodeJS.Signals) => async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    child.kill(signal)
    return exited
  }
  const kill = ended('SIGKILL')
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    kill: async () => void (await kill()),
    stop: ended('SIGTERM'),
    log: () => output,
  }
}

/** `npm start`'s entry point (the service: app and tracker). */
export function startTrackerProcess(env: Record<string, string>): Promise<ServerProcess> {
  return startServerProcess('signaling-server/main.ts', env)
}
