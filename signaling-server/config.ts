import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { LOG_LEVELS, type LogLevel } from './log'

// Everything the service can be told through its environment, checked once at start.
const iceServers = z.array(
  z.object({
    urls: z.union([z.string(), z.array(z.string())]),
    username: z.string().optional(),
    credential: z.string().optional(),
  }),
)

export interface TrackerLimits {
  /** Messages per second per connection (token bucket), and the burst allowed. */
  messagesPerSecond: number
  messageBurst: number
  /** Refusals for rate before the connection is closed. */
  refusalsBeforeDisconnect: number
  filesPerPeer: number
  manifestBytesPerPeer: number
  swarmsPerPeer: number
  /** Open WebSocket connections in all, and from one client address. */
  connections: number
  connectionsPerIp: number
  /** Signals relayed to one peer per second (burst: five seconds' worth), and their bytes. */
  signalsPerTargetPerSecond: number
  signalBytesPerTargetPerSecond: number
  /** Join codes one peer may hold at once. */
  codesPerPeer: number
  /** Join code lookups per minute from one connection (token bucket). */
  codeLookupsPerMinute: number
  /** Join code lookups and new codes per minute from one client address. */
  codeRequestsPerIpPerMinute: number
}

export const DEFAULT_LIMITS: TrackerLimits = {
  messagesPerSecond: 50,
  messageBurst: 200,
  refusalsBeforeDisconnect: 50,
  filesPerPeer: 200,
  manifestBytesPerPeer: 8 * 1024 * 1024,
  swarmsPerPeer: 500,
  connections: 20_000,
  // A class behind one NAT address is a few dozen tabs; an address holding hundreds is one client.
  connectionsPerIp: 256,
  signalsPerTargetPerSecond: 50,
  signalBytesPerTargetPerSecond: 512 * 1024,
  codesPerPeer: 8,
  // A student who mistypes tries a few times; a class behind one address looks up once each.
  codeLookupsPerMinute: 10,
  codeRequestsPerIpPerMinute: 60,
}

/** What the relay carries at most (see relay.ts). */
export interface RelayLimits {
  /** Bytes per second one peer may send through it (burst: a second's worth). */
  bytesPerSecond: number
  /** Bytes per second through this instance, every peer together. */
  totalBytesPerSecond: number
  /** Relay sockets open at once on this instance. */
  maxConnections: number
  /** Relayed links of one file at once. */
  linksPerFile: number
}

export const DEFAULT_RELAY: RelayLimits = {
  // Enough for a document or a photo album in reasonable time; a class of relayed peers stays within one instance's means.
  bytesPerSecond: 1024 * 1024,
  totalBytesPerSecond: 32 * 1024 * 1024,
  maxConnections: 256,
  linksPerFile: 32,
}

export interface ServiceConfig {
  port: number
  host: string
  staticDir: string
  heartbeatMs: number
  iceServers: z.infer<typeof iceServers>
  /** Signs resume tokens; peers keep their ids across tracker restarts only if it stays the same. */
  secret: string
  /**
   * Origins whose pages may open the tracker WebSocket, besides clients that send no Origin (the
   * command-line peer). Empty: only the service's own origin; ['*']: any.
   */
  allowedOrigins: string[]
  /** A connection that has not said hello this long after opening is closed. */
  helloTimeoutMs: number
  /** Proxies whose X-Forwarded-For names the client's address (for the per-address cap). */
  trustedProxies: string[]
  /** A resume token is good for this long after it was handed out, and only once. */
  resumeTokenTtlMs: number
  limits: TrackerLimits
  /** UDP port of the built-in STUN responder: 'http' (the HTTP port's number, the default), a number, or 'off'. */
  stunPort: number | 'http' | 'off'
  /** The last-resort relay through this service; undefined when RELAY_BYTES_PER_SECOND is 0. */
  relay: RelayLimits | undefined
  /** Time-limited TURN credentials handed to each peer (coturn's --use-auth-secret); undefined: none. */
  turn: { secret: string; urls: string[]; ttlSeconds: number } | undefined
  /** Shared state for several instances; undefined keeps it in this process. */
  redisUrl: string | undefined
  /** Key and channel prefix in Redis: instances with the same URL and prefix are one tracker. */
  redisPrefix: string
  /** A peer's entry lapses this long after its instance last refreshed it (its instance died). */
  peerTtlMs: number
  /** A join code works this long after it is given out (and only while its presenter shares the file). */
  joinCodeTtlMs: number
  /** How long Redis may take to answer at start. */
  redisConnectTimeoutMs: number
  logLevel: LogLevel
  /** /metrics answers only with this bearer token; undefined: /metrics is off. */
  metricsToken: string | undefined
  /** On SIGTERM: clients are told to reconnect elsewhere, and the service exits at the latest this long after. */
  shutdownGraceMs: number
}

/** Defaults of the service's settings (each has a variable; see README). */
export const DEFAULT_PORT = 8080
export const DEFAULT_HEARTBEAT_MS = 30_000
export const DEFAULT_PEER_TTL_MS = 20_000
export const DEFAULT_TURN_TTL_SECONDS = 86_400
export const DEFAULT_REDIS_PREFIX = 'tabswarm:'
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000
export const DEFAULT_RESUME_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000
/** A lesson, with room to spare. */
export const DEFAULT_JOIN_CODE_TTL_MS = 4 * 3600 * 1000
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 5_000
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000
/** A metrics token shorter than this is refused: it would be guessed. */
const MIN_METRICS_TOKEN_LENGTH = 16
/** A generated secret has this many random bytes; a given one must be at least MIN_SECRET_LENGTH long. */
const SECRET_BYTES = 32
const MIN_SECRET_LENGTH = 16

export class ConfigError extends Error {}

/** A comma-separated list, trimmed, without empty items. */
function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`)
  }
  return value
}

/** STUN_PORT: unset, the HTTP port's number; `off`; or a UDP port (0: any free one, for tests). */
function stunPortOf(raw: string | undefined): ServiceConfig['stunPort'] {
  if (raw === undefined || raw === '') return 'http'
  if (raw === 'off') return 'off'
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0 || value > 65535)
    throw new ConfigError(`STUN_PORT must be off or a UDP port from 0 to 65535 (got "${raw}")`)
  return value
}

function logLevelOf(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === '') return 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(raw))
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${raw}")`)
  return raw as LogLevel
}

function metricsTokenOf(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined
  if (raw.length < MIN_METRICS_TOKEN_LENGTH) throw new ConfigError(`METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters`)
  return raw
}

function relayOf(env: NodeJS.ProcessEnv): RelayLimits | undefined {
  const d = DEFAULT_RELAY
  const bytesPerSecond = integer(env, 'RELAY_BYTES_PER_SECOND', d.bytesPerSecond, 0, 2 ** 40)
  if (bytesPerSecond === 0) return undefined
  return {
    bytesPerSecond,
    totalBytesPerSecond: integer(env, 'RELAY_TOTAL_BYTES_PER_SECOND', d.totalBytesPerSecond, 1024, 2 ** 40),
    maxConnections: integer(env, 'RELAY_MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
    linksPerFile: integer(env, 'RELAY_LINKS_PER_FILE', d.linksPerFile, 1, 1_000_000),
  }
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
  const secret = env.TRACKER_SECRET || randomBytes(SECRET_BYTES).toString('base64url')
  if (secret.length < MIN_SECRET_LENGTH) throw new ConfigError(`TRACKER_SECRET must be at least ${MIN_SECRET_LENGTH} characters`)
  const d = DEFAULT_LIMITS
  const turnUrls = list(env.TURN_URLS)
  if (turnUrls.some((url) => !/^turns?:/.test(url))) throw new ConfigError('TURN_URLS must be turn: or turns: URLs, comma-separated')
  if (Boolean(env.TURN_SECRET) !== turnUrls.length > 0) throw new ConfigError('TURN_SECRET and TURN_URLS go together: set both or neither')
  if (env.REDIS_URL && !/^rediss?:\/\/[^\s]+$/.test(env.REDIS_URL)) {
    throw new ConfigError('REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')
  }
  return {
    port: integer(env, 'PORT', DEFAULT_PORT, 0, 65535),
    host: env.HOST || '0.0.0.0',
    staticDir: env.STATIC_DIR || defaults.staticDir,
    heartbeatMs: integer(env, 'HEARTBEAT_MS', DEFAULT_HEARTBEAT_MS, 1000, 600_000),
    iceServers: ice,
    secret,
    allowedOrigins: list(env.ALLOWED_ORIGINS),
    helloTimeoutMs: integer(env, 'HELLO_TIMEOUT_MS', DEFAULT_HELLO_TIMEOUT_MS, 100, 600_000),
    trustedProxies: list(env.TRUSTED_PROXIES),
    resumeTokenTtlMs: integer(env, 'RESUME_TOKEN_TTL_MS', DEFAULT_RESUME_TOKEN_TTL_MS, 1000, 365 * 24 * 3600 * 1000),
    limits: {
      messagesPerSecond: integer(env, 'LIMIT_MESSAGES_PER_SECOND', d.messagesPerSecond, 1, 100_000),
      messageBurst: integer(env, 'LIMIT_MESSAGE_BURST', d.messageBurst, 1, 1_000_000),
      refusalsBeforeDisconnect: integer(env, 'LIMIT_REFUSALS_BEFORE_DISCONNECT', d.refusalsBeforeDisconnect, 1, 1_000_000),
      filesPerPeer: integer(env, 'LIMIT_FILES_PER_PEER', d.filesPerPeer, 1, 1_000_000),
      manifestBytesPerPeer: integer(env, 'LIMIT_MANIFEST_BYTES_PER_PEER', d.manifestBytesPerPeer, 1024, 2 ** 40),
      swarmsPerPeer: integer(env, 'LIMIT_SWARMS_PER_PEER', d.swarmsPerPeer, 1, 1_000_000),
      connections: integer(env, 'LIMIT_CONNECTIONS', d.connections, 1, 10_000_000),
      connectionsPerIp: integer(env, 'LIMIT_CONNECTIONS_PER_IP', d.connectionsPerIp, 1, 10_000_000),
      signalsPerTargetPerSecond: integer(env, 'LIMIT_SIGNALS_PER_TARGET_PER_SECOND', d.signalsPerTargetPerSecond, 1, 1_000_000),
      signalBytesPerTargetPerSecond: integer(
        env,
        'LIMIT_SIGNAL_BYTES_PER_TARGET_PER_SECOND',
        d.signalBytesPerTargetPerSecond,
        1024,
        2 ** 40,
      ),
      codesPerPeer: integer(env, 'LIMIT_CODES_PER_PEER', d.codesPerPeer, 1, 1_000_000),
      codeLookupsPerMinute: integer(env, 'LIMIT_CODE_LOOKUPS_PER_MINUTE', d.codeLookupsPerMinute, 1, 1_000_000),
      codeRequestsPerIpPerMinute: integer(env, 'LIMIT_CODE_REQUESTS_PER_IP_PER_MINUTE', d.codeRequestsPerIpPerMinute, 1, 1_000_000),
    },
    stunPort: stunPortOf(env.STUN_PORT),
    relay: relayOf(env),
    turn: env.TURN_SECRET
      ? { secret: env.TURN_SECRET, urls: turnUrls, ttlSeconds: integer(env, 'TURN_TTL_SECONDS', DEFAULT_TURN_TTL_SECONDS, 60, 30 * 86_400) }
      : undefined,
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.REDIS_PREFIX || DEFAULT_REDIS_PREFIX,
    peerTtlMs: integer(env, 'PEER_TTL_MS', DEFAULT_PEER_TTL_MS, 1000, 600_000),
    joinCodeTtlMs: integer(env, 'JOIN_CODE_TTL_MS', DEFAULT_JOIN_CODE_TTL_MS, 1000, 30 * 24 * 3600 * 1000),
    redisConnectTimeoutMs: integer(env, 'REDIS_CONNECT_TIMEOUT_MS', DEFAULT_REDIS_CONNECT_TIMEOUT_MS, 100, 600_000),
    logLevel: logLevelOf(env.LOG_LEVEL),
    metricsToken: metricsTokenOf(env.METRICS_TOKEN),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', DEFAULT_SHUTDOWN_GRACE_MS, 0, 600_000),
  }
}
