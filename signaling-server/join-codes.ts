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
  /** A presented private file's key (the presenter chose to give it), handed to whoever looks the code up; forgotten when the code expires or ends. */
  secret?: string
  /** Its presenter ended it before its time. */
  ended?: true
}

/** The join codes of every tracker instance sharing the store. */
export interface JoinCodes {
  /** Stores the code unless a live code of another file holds it; false when taken. */
  put(code: string, record: JoinCodeRecord): Promise<boolean>
  /** The code's record; past its expiry without its key. */
  get(code: string): Promise<JoinCodeRecord | undefined>
  /** Ends this file's code now (lookups then say so) and forgets its key; false when the code holds another file or none. */
  end(code: string, fileId: string): Promise<boolean>
  close(): Promise<void>
}

/** Past its expiry and the day it is remembered after. */
function forgotten(record: JoinCodeRecord, now: number): boolean {
  return record.expiresAt + EXPIRED_CODE_REMEMBERED_MS <= now
}

/** What is remembered of a code its presenter ended: no key, expired now. */
function endedRecord(record: JoinCodeRecord, now: number): JoinCodeRecord {
  return { fileId: record.fileId, owner: record.owner, expiresAt: Math.min(now, record.expiresAt), ended: true }
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
    const now = this.now()
    if (!record || forgotten(record, now)) return undefined
    if (record.expiresAt <= now) delete record.secret
    return { ...record }
  }

  async end(code: string, fileId: string): Promise<boolean> {
    const record = this.codes.get(code)
    if (!record || record.fileId !== fileId) return false
    this.codes.set(code, endedRecord(record, this.now()))
    return true
  }

  async close(): Promise<void> {
    this.codes.clear()
  }

  private prune(now: number): void {
    if (now - this.prunedAt < PRUNE_EVERY_MS) return
    this.prunedAt = now
    for (const [code, record] of this.codes) {
      if (forgotten(record, now)) this.codes.delete(code)
      else if (record.expiresAt <= now) delete record.secret
    }
  }
}

// KEYS[1] the code's record, KEYS[2] its key; ARGV: record JSON (no key), its file id, now, ms to
// keep the record, the file's key or '', ms until the code expires.
const PUT_SCRIPT = `
local old = redis.call('GET', KEYS[1])
if old then
  local record = cjson.decode(old)
  if record.fileId ~= ARGV[2] and tonumber(record.expiresAt) > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
if ARGV[5] ~= '' then redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6]) else redis.call('DEL', KEYS[2]) end
return 1
`

/**
 * Codes in Redis under `<prefix>code:<code>`, each kept until a day after it expires; a presented
 * private file's key under `<prefix>code-key:<code>`, only until the code expires or ends.
 */
export class RedisJoinCodes implements JoinCodes {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  async put(code: string, record: JoinCodeRecord): Promise<boolean> {
    const now = this.now()
    const { secret = '', ...kept } = record
    const keepMs = Math.max(1, record.expiresAt - now + EXPIRED_CODE_REMEMBERED_MS)
    const secretMs = Math.max(1, record.expiresAt - now)
    const keys = [this.key(code), this.secretKey(code)]
    const stored = await this.redis.eval(PUT_SCRIPT, 2, ...keys, JSON.stringify(kept), record.fileId, now, keepMs, secret, secretMs)
    return stored === 1
  }

  async get(code: string): Promise<JoinCodeRecord | undefined> {
    const [text, secret] = await this.redis.mget(this.key(code), this.secretKey(code))
    const record = text ? parseRecord(text) : undefined
    if (!record) return undefined
    // A record stored by an earlier version may hold the key itself.
    const { secret: inRecord, ...rest } = record
    const key = secret ?? inRecord
    return key && rest.expiresAt > this.now() ? { ...rest, secret: key } : rest
  }

  async end(code: string, fileId: string): Promise<boolean> {
    const record = await this.get(code)
    if (!record || record.fileId !== fileId) return false
    await this.redis
      .multi()
      .set(this.key(code), JSON.stringify(endedRecord(record, this.now())), 'PX', EXPIRED_CODE_REMEMBERED_MS)
      .del(this.secretKey(code))
      .exec()
    return true
  }

  async close(): Promise<void> {}

  private key(code: string): string {
    return `${this.prefix}code:${code}`
  }

  private secretKey(code: string): string {
    return `${this.prefix}code-key:${code}`
  }
}

function parseRecord(text: string): JoinCodeRecord | undefined {
  try {
    const record = JSON.parse(text) as JoinCodeRecord
    return typeof record.fileId === 'string' && typeof record.owner === 'string' && Number.isFinite(record.expiresAt) ? record : undefined
  } catch {
    return undefined
  }
}
