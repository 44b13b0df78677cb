import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const main = fileURLToPath(new URL('../../signaling-server/main.ts', import.meta.url))

export interface TrackerProcess {
  /** e.g. http://127.0.0.1:41234 */
  url: string
  port: number
  /** SIGKILL: the instance dies without a word to Redis or its peers. */
  kill(): Promise<void>
  /** SIGTERM: the instance closes its connections first. */
  stop(): Promise<void>
}

/** `npm start`'s entry point in its own process on a free loopback port, with `env` added. */
export async function startTrackerProcess(env: Record<string, string>): Promise<TrackerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (data: Buffer) => {
      output += data.toString()
      const found = /open (http:\/\/[\d.]+:\d+)\//.exec(output)
      if (found) resolve(found[1]!)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`the tracker exited (${code}) before it was ready:\n${output}`)))
  })
  const ended = (signal: NodeJS.Signals) => async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await exited
  }
  return { url, port: Number(new URL(url).port), kill: ended('SIGKILL'), stop: ended('SIGTERM') }
}
