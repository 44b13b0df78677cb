import { loadConfig } from '../../signaling-server/config'
import { startService, type RunningService } from '../../signaling-server/server'

/** The real service (tracker, and HTTP with no app) on a free loopback port, in memory unless `env` says. */
export function startTestService(env: Record<string, string> = {}): Promise<RunningService> {
  return startService(loadConfig({ PORT: '0', HOST: '127.0.0.1', ...env }, { staticDir: '/nonexistent' }))
}
