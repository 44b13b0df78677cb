import type { Redis } from 'ioredis'

/** An expired code is remembered this long, so a lookup says "expired" rather than "no such code". */
export const EXPIRED_CODE_REMEMBERED_MS = 24 * 3600 * 1000
/** The memory store drops forgotten codes at most this often. */
const PRUNE_EVERY_MS = 60_000

/** What a join code stands for: the file, the peer presenting it, and when it stops working. */
export interface JoinCodeRecord {
  fileId: string
  /** The code works while this peer is in the file's swarm. */
  owner: string
  /** Ms since the epoch. */
  expiresAt: number
  /** A presented private file's key (the presenter chose to give it), handed to whoever looks the code up. */
  secret?: string
}

/** The join codes of every tracker instance sharing the store. */
export interface JoinCodes {
  /** Stores the code unless a live code of another file holds it; false when taken. */
  put(code: string, record: JoinCodeRecord): Promise<boolean>
  get(code: string): Promise<JoinCodeRecord | undefined>
  close(): Promise<void>
}

/** Past its expiry and the day it is remembered after. */
function forgotten(record: JoinCodeRecord, now: number): boolean {
  return record.expiresAt + EXPIRED_CODE_REMEMBERED_MS <= now
}

function taken(existing: JoinCodeRecord | undefined, record: JoinCodeRecord, now: number): boolean {
  return existing !== undefined && existing.fileId !== record.fileId && existing.expiresAt > now
}

export class MemoryJoinCodes implements JoinCodes {
  private readonly codes = new Map<string, JoinCodeRecord>()
  private prunedAt = 0

  constructor(private readonly now: () => number = Date.now) {}

  async put(code: string, record: JoinCodeRecord): Promise<boolean> {
    const now = this.now()
    this.prune(now)
    if (taken(this.codes.get(code), record, now)) return false
    this.codes.set(code, { ...record })
    return true
  }

  async get(code: string): Promise<JoinCodeRecord | undefined> {
    const record = this.codes.get(code)
    return record && !forgotten(record, this.now()) ? { ...record } : undefined
  }

  async close(): Promise<void> {
    this.codes.clear()
  }

  private prune(now: number): void {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return
    this.prunedAt = now
    for (const [code, record] of this.codes) if (forgotten(record, now)) this.codes.delete(code)
  }
}

// KEYS[1] the code's key; ARGV: record JSON, its file id, now, ms to keep it.
const PUT_SCRIPT = `
local old = redis.call('GET', KEYS[1])
if old then
  local record = cjson.decode(old)
  if record.fileId ~= ARGV[2] and tonumber(record.expiresAt) > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
return 1
`

/** Codes in Redis under `<prefix>code:<code>`, each kept until a day after it expires. */
export class RedisJoinCodes implements JoinCodes {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  async put(code: string, record: JoinCodeRecord): Promise<boolean> {
    const now = this.now()
    const keepMs = Math.max(1, record.expiresAt - now + EXPIRED_CODE_REMEMBERED_MS)
    const stored = await this.redis.eval(PUT_SCRIPT, 1, this.key(code), JSON.stringify(record), record.fileId, now, keepMs)
    return stored === 1
  }

  async get(code: string): Promise<JoinCodeRecord | undefined> {
    const text = await this.redis.get(this.key(code))
    if (text === null) return undefined
    try {
      const record = JSON.parse(text) as JoinCodeRecord
      return typeof record.fileId === 'string' && typeof record.owner === 'string' && Number.isFinite(record.expiresAt) ? record : undefined
    } catch {
      return undefined
    }
  }

  async close(): Promise<void> {}

  private key(code: string): string {
    return `${this.prefix}code:${code}`
  }
}
