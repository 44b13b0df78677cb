/// <reference lib="webworker" />
// The Service Worker that lets a <video>, <audio>, <img> or <iframe> read a file while it arrives:
// it answers requests for /stream/<file id>[/<path in a bundle>] from the engine of the page that
// asked (a MessageChannel per request, handed to the page, which hands it to its engine worker),
// range by range, with headers that let nothing in the file run. Every other request goes to the
// network untouched.
import { parseStreamPath } from '../protocol/stream-path'
import { STREAM_PORT_MESSAGE, type StreamAnswer, type StreamRequest } from './stream-protocol'

declare const self: ServiceWorkerGlobalScope

/** How long the page's engine may take to answer a request's head. */
const HEAD_TIMEOUT_MS = 20_000

/** Nothing in a served file may run, load or be framed elsewhere; media, images and PDFs still show. */
const STREAM_POLICY = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"

self.addEventListener('install', () => void self.skipWaiting())
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))
// A page keeps this worker running while it plays (a message is an event), and one loaded past it
// (a hard reload) asks to be controlled again: see stream-relay.ts.
self.addEventListener('message', (event) => {
  if ((event.data as { type?: unknown } | null)?.type === 'claim') event.waitUntil(self.clients.claim())
})

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url)
  if (url.origin !== self.location.origin) return
  const target = parseStreamPath(url.pathname)
  if (!target) return
  event.respondWith(answer(event, target))
})

async function answer(event: FetchEvent, target: { fileId: string; path?: string }): Promise<Response> {
  const page = await pageOf(event)
  if (!page) return plain(503, 'No TabSwarm page is open in this browser to read the file from: open the file’s link again.')
  const { port1: port, port2 } = new MessageChannel()
  const answers = new Answers(port)
  page.postMessage({ type: STREAM_PORT_MESSAGE, port: port2 }, [port2])
  ask(port, { type: 'open', ...target, range: event.request.headers.get('range') })
  const head = await answers.next(HEAD_TIMEOUT_MS)
  if (!head) {
    port.close()
    return plain(504, 'This page’s engine did not answer; reload the page.')
  }
  if (head.type === 'refused') {
    port.close()
    const range = head.status === 416 && head.size !== undefined ? { 'Content-Range': `bytes */${head.size}` } : undefined
    return plain(head.status, head.message, range)
  }
  if (head.type !== 'head') {
    ask(port, { type: 'cancel' })
    port.close()
    return plain(502, 'The engine answered out of turn.')
  }
  const headers = new Headers({
    'Content-Type': head.contentType,
    'Content-Length': String(head.end - head.start),
    'Accept-Ranges': 'bytes',
    'Content-Disposition': `${head.inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(head.name)}`,
    ...protective(head.contentType),
  })
  if (head.status === 206) headers.set('Content-Range', `bytes ${head.start}-${head.end - 1}/${head.size}`)
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        ask(port, { type: 'pull' })
        const next = await answers.next()
        if (next?.type === 'data') return controller.enqueue(new Uint8Array(next.bytes))
        port.close()
        if (next?.type === 'end') return controller.close()
        controller.error(new Error(next?.type === 'failed' ? next.message : 'The engine stopped answering.'))
      },
      cancel() {
        ask(port, { type: 'cancel' })
        port.close()
      },
    },
    { highWaterMark: 0 },
  )
  return new Response(body, { status: head.status, headers })
}

/** The page whose element asked, or (for a stream opened in a tab of its own) any open page of the app. */
async function pageOf(event: FetchEvent): Promise<Client | undefined> {
  const own = event.clientId ? await self.clients.get(event.clientId) : undefined
  if (own) return own
  const pages = await self.clients.matchAll({ type: 'window' })
  return pages.find((page) => page.id !== event.resultingClientId)
}

function ask(port: MessagePort, request: StreamRequest): void {
  port.postMessage(request)
}

function protective(contentType: string): Record<string, string> {
  // A PDF viewer is a plugin frame that a sandboxed document may not host; everything else is sandboxed too.
  const sandbox = contentType === 'application/pdf' ? '' : '; sandbox'
  return {
    'Content-Security-Policy': STREAM_POLICY + sandbox,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
  }
}

function plain(status: number, text: string, extra?: Record<string, string>): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', ...protective('text/plain'), ...extra },
  })
}

/** A port's answers in order, each awaited in turn. */
class Answers {
  private readonly queue: StreamAnswer[] = []
  private waiting: ((answer: StreamAnswer | undefined) => void) | undefined

  constructor(port: MessagePort) {
    port.onmessage = (event: MessageEvent<StreamAnswer>) => {
      if (this.waiting) {
        const wake = this.waiting
        this.waiting = undefined
        wake(event.data)
      } else this.queue.push(event.data)
    }
  }

  next(timeoutMs?: number): Promise<StreamAnswer | undefined> {
    const queued = this.queue.shift()
    if (queued) return Promise.resolve(queued)
    return new Promise((resolve) => {
      this.waiting = resolve
      if (timeoutMs !== undefined) {
        setTimeout(() => {
          if (this.waiting !== resolve) return
          this.waiting = undefined
          resolve(undefined)
        }, timeoutMs)
      }
    })
  }
}
