import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Metrics } from './metrics'

// What an operator's tools ask of the service: is it alive, should traffic come here, its figures.

export interface OpsDeps {
  /** Why this instance should get no new traffic now (draining, Redis unreachable), or undefined when it should. */
  notReady: () => string | undefined
  metrics: Metrics | undefined
  /** /metrics wants `Authorization: Bearer <token>`; undefined: /metrics is off. */
  metricsToken: string | undefined
}

function json(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
  response.end(`${JSON.stringify(body)}\n`)
}

function bearerMatches(request: IncomingMessage, token: string): boolean {
  const given = Buffer.from(String(request.headers.authorization ?? ''))
  const expected = Buffer.from(`Bearer ${token}`)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Answers /healthz, /readyz and /metrics; false for any other request (the app serves it). */
export function opsHandler(deps: OpsDeps): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (path === '/healthz') {
      json(response, 200, { status: 'ok' })
      return true
    }
    if (path === '/readyz') {
      const reason = deps.notReady()
      json(response, reason ? 503 : 200, reason ? { status: 'not-ready', reason } : { status: 'ready' })
      return true
    }
    if (path !== '/metrics') return false
    const { metrics, metricsToken } = deps
    if (!metrics || !metricsToken) {
      // Off: a plain 404 (not the app's page, which any other path gets).
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
      response.end('Metrics are off here (set METRICS_TOKEN to turn them on).\n')
      return true
    }
    if (!bearerMatches(request, metricsToken)) {
      response.writeHead(401, { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer' })
      response.end('A metrics token is needed.\n')
      return true
    }
    void metrics.registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'Content-Type': metrics.registry.contentType })
        response.end(text)
      },
      () => json(response, 500, { status: 'error' }),
    )
    return true
  }
}
