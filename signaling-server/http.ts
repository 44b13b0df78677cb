import { existsSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import sirv from 'sirv'
import { STREAM_PATH } from '../src/protocol/stream-path'

// The app's own policy: scripts and styles from this origin only (inline style attributes are
// used for progress bars), WebSocket to this origin, blob: for saving and QR images.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ')

export function securityHeaders(response: ServerResponse): void {
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY)
  response.setHeader('X-Content-Type-Options', 'nosniff')
  response.setHeader('Referrer-Policy', 'no-referrer')
  response.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
}

/** Serves the built app: files from `dir`, index.html for any other GET (hash routing), no listings. */
export function appHandler(dir: string): (request: IncomingMessage, response: ServerResponse) => void {
  if (!existsSync(`${dir}/index.html`)) {
    return (_request, response) => {
      securityHeaders(response)
      response.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
      response.end('The app is not built yet: run "npm start" (or "npm run build" first).\n')
    }
  }
  const serve = sirv(dir, { single: true, etag: true, dotfiles: false })
  return (request, response) => {
    securityHeaders(response)
    // Files are streamed by the page's own Service Worker; a request that reaches the server had none.
    if (request.url?.startsWith(STREAM_PATH)) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
      return void response.end('Files are read from the page that holds them: open the file’s link in TabSwarm.\n')
    }
    serve(request, response, () => {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
      response.end('Not found\n')
    })
  }
}
