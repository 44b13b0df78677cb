import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../signaling-server/config'
import { startService, type RunningService } from '../../signaling-server/server'

/** The built app (`vite build`), which end-to-end tests, benchmarks and screenshots serve. */
export const distDir = fileURLToPath(new URL('../../dist', import.meta.url))

/** Service settings for tests: a free loopback port, then whatever `env` adds or overrides. */
export function testEnv(env: Record<string, string> = {}): Record<string, string> {
  return { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }
}

/** The real service (tracker and HTTP) on loopback, in memory unless `env` says; `staticDir` is the app it serves. */
export function startTestService(env: Record<string, string> = {}, staticDir = '/nonexistent'): Promise<RunningService> {
  return startService(loadConfig(testEnv(env), { staticDir }))
}
