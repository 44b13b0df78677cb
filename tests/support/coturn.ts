import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { stunBindingRequest } from './stun'

/** A free UDP port on 127.0.0.1 (bound, read, released). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4')
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  const { port } = socket.address()
  await new Promise<void>((resolve) => socket.close(() => resolve()))
  return port
}

/** True once something on the port answers a STUN Binding request. */
async function answersStun(port: number): Promise<boolean> {
  const socket = createSocket('udp4')
  const request = stunBindingRequest()
  const answered = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 200)
    socket.once('message', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
  socket.send(request, port, '127.0.0.1')
  const result = await answered
  socket.close()
  return result
}

/**
 * Debian's coturn on loopback with TURN REST API auth: it listens on 127.0.0.1 and relays from
 * 127.0.0.2, a different address than the peers', so traffic cannot bypass the relay.
 */
export async function startCoturn(secret: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freeUdpPort()
  const child: ChildProcess = spawn(
    'turnserver',
    [
      '-n',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.2',
      `--listening-port=${port}`,
      '--min-port=40000',
      '--max-port=49999',
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=tabswarm.test',
      '--allow-loopback-peers',
      '--no-cli',
      '--no-tls',
      '--no-dtls',
      '--fingerprint',
      '--no-software-attribute',
      '--log-file=stdout',
      '--simple-log',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  child.stdout!.on('data', (data: Buffer) => (output += data.toString()))
  child.stderr!.on('data', (data: Buffer) => (output += data.toString()))
  const deadline = Date.now() + 10_000
  while (!(await answersStun(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`coturn did not start:\n${output}`)
  }
  return {
    url: `turn:127.0.0.1:${port}?transport=udp`,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}
