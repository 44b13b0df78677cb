import { z } from 'zod'

// Everything the service can be told through its environment, checked once at start.
const iceServers = z.array(
  z.object({
    urls: z.union([z.string(), z.array(z.string())]),
    username: z.string().optional(),
    credential: z.string().optional(),
  }),
)

export interface ServiceConfig {
  port: number
  host: string
  staticDir: string
  heartbeatMs: number
  iceServers: z.infer<typeof iceServers>
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`)
  }
  return value
}

export function loadConfig(env: NodeJS.ProcessEnv, defaults: { staticDir: string }): ServiceConfig {
  let ice: ServiceConfig['iceServers'] = []
  if (env.ICE_SERVERS) {
    let parsed: unknown
    try {
      parsed = JSON.parse(env.ICE_SERVERS)
    } catch {
      throw new ConfigError('ICE_SERVERS must be JSON, e.g. [{"urls":"stun:stun.example.org:3478"}]')
    }
    const result = iceServers.safeParse(parsed)
    if (!result.success) throw new ConfigError(`ICE_SERVERS is not a list of RTCIceServer objects: ${result.error.issues[0]?.message}`)
    ice = result.data
  }
  return {
    port: integer(env, 'PORT', 8080, 0, 65535),
    host: env.HOST || '0.0.0.0',
    staticDir: env.STATIC_DIR || defaults.staticDir,
    heartbeatMs: integer(env, 'HEARTBEAT_MS', 30_000, 1000, 600_000),
    iceServers: ice,
  }
}
