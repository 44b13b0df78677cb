import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'

/** The nginx site the deployment document shows: the test runs this very file, with its ports and paths. */
const SITE = fileURLToPath(new URL('../../docs/nginx.conf', import.meta.url))

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export interface Nginx {
  port: number
  /** https://127.0.0.1:<port> */
  origin: string
  stop(): Promise<void>
}

/**
 * Debian's nginx terminating TLS (a certificate made for the test) in front of `upstreams`, with
 * docs/nginx.conf as its site: only the listening port, the certificate's paths and the upstream
 * servers are changed.
 */
export async function startNginx(upstreams: number[]): Promise<Nginx> {
  const dir = mkdtempSync(`${tmpdir()}/tabswarm-nginx-`)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      `${dir}/key.pem`,
      '-out',
      `${dir}/cert.pem`,
    ],
    {
      stdio: 'ignore',
    },
  )
  const port = await freePort()
  const site = readFileSync(SITE, 'utf8')
    .replace('listen 443 ssl;', `listen ${port} ssl;`)
    .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${dir}/cert.pem;`)
    .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${dir}/key.pem;`)
    .replace(
      /(upstream tabswarm \{[^}]*?)(\s*server 127\.0\.0\.1:\d+;)+/,
      `$1${upstreams.map((p) => `\n    server 127.0.0.1:${p};`).join('')}`,
    )
  if (!site.includes(`listen ${port} ssl;`) || !site.includes(`server 127.0.0.1:${upstreams[0]};`))
    throw new Error('docs/nginx.conf no longer has the lines the test fills in')
  writeFileSync(`${dir}/site.conf`, site)
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${dir}/${kind};`).join('\n')
  writeFileSync(
    `${dir}/nginx.conf`,
    [
      `user root;`,
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'daemon off;',
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      temp,
      `  include ${dir}/site.conf;`,
      '}',
      '',
    ].join('\n'),
  )
  const child: ChildProcess = spawn('nginx', ['-c', `${dir}/nginx.conf`, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] })
  let errors = ''
  child.stderr!.on('data', (data: Buffer) => (errors += data.toString()))
  const deadline = Date.now() + 10_000
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`nginx did not start:\n${errors}${readFileSync(`${dir}/error.log`, 'utf8')}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    port,
    origin: `https://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM') // fast: open WebSockets do not hold it
      await exited
    },
  }
}
