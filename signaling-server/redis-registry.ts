import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { Bitfield } from '../src/protocol/bitfield'
import { toBase64 } from '../src/protocol/encoding'
import { isListed, type Manifest } from '../src/protocol/manifest'
import type { FileSummary, SwarmPeer, WantedFile } from '../src/protocol/tracker'
import { RATE_REPORT_TTL_MS, summarize, wantedOf, type Owner, type RateReport, type Registry, type SignalRoute } from './registry'

// Keys, all under one prefix (P):
//   P files                 set of file ids
//   P file:<id>             hash: manifest (JSON), name, size, count, keepers ('1': keepers may hold it)
//   P members:<id>          set of peer ids in the swarm
//   P have:<id>:<peer>      string: the member's bitfield (SETBIT is most significant bit first, like Bitfield)
//   P swarms:<peer>         set of file ids the peer is in
//   P rates:<id>            hash: peer -> JSON { links, at }
//   P owner                 hash: peer -> "<instance> <session>"
//   P alive                 sorted set: peer -> deadline (ms, Redis clock)
// Every call is one Lua script, so it is atomic and costs one round trip.

const PRELUDE = `
local P = ARGV[1]
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function leave(peer, file)
  if redis.call('SREM', P .. 'members:' .. file, peer) == 0 then return false end
  redis.call('DEL', P .. 'have:' .. file .. ':' .. peer)
  redis.call('SREM', P .. 'swarms:' .. peer, file)
  redis.call('HDEL', P .. 'rates:' .. file, peer)
  if redis.call('SCARD', P .. 'members:' .. file) == 0 then
    redis.call('DEL', P .. 'file:' .. file, P .. 'rates:' .. file)
    redis.call('SREM', P .. 'files', file)
  end
  return true
end
local function leaveAll(peer)
  local files = redis.call('SMEMBERS', P .. 'swarms:' .. peer)
  for _, file in ipairs(files) do leave(peer, file) end
  redis.call('DEL', P .. 'swarms:' .. peer)
  return files
end
local function holders(file, except)
  local out = {}
  for _, peer in ipairs(redis.call('SMEMBERS', P .. 'members:' .. file)) do
    if peer ~= except then
      table.insert(out, peer)
      table.insert(out, redis.call('GET', P .. 'have:' .. file .. ':' .. peer) or '')
    end
  end
  return out
end
`

const SCRIPTS = {
  // ARGV: P, peer, file, manifest, name, size, count, have, keepers (1|0)
  publish: `
local peer, file = ARGV[2], ARGV[3]
if redis.call('EXISTS', P .. 'file:' .. file) == 0 then
  redis.call('HSET', P .. 'file:' .. file, 'manifest', ARGV[4], 'name', ARGV[5], 'size', ARGV[6], 'count', ARGV[7])
  redis.call('SADD', P .. 'files', file)
end
if ARGV[9] == '1' then redis.call('HSET', P .. 'file:' .. file, 'keepers', '1') end
redis.call('SADD', P .. 'members:' .. file, peer)
redis.call('SET', P .. 'have:' .. file .. ':' .. peer, ARGV[8])
redis.call('SADD', P .. 'swarms:' .. peer, file)
return 1`,
  // ARGV: P, peer, file -> nil | { manifest, own bitfield, peer, bitfield, ... }
  join: `
local peer, file = ARGV[2], ARGV[3]
local fields = redis.call('HMGET', P .. 'file:' .. file, 'manifest', 'count')
if not fields[1] then return nil end
local key = P .. 'have:' .. file .. ':' .. peer
redis.call('SET', key, string.rep('\\0', math.floor((tonumber(fields[2]) + 7) / 8)), 'NX')
redis.call('SADD', P .. 'members:' .. file, peer)
redis.call('SADD', P .. 'swarms:' .. peer, file)
local out = { fields[1], redis.call('GET', key) }
for _, value in ipairs(holders(file, peer)) do table.insert(out, value) end
return out`,
  // ARGV: P, peer, file, 1|0, index, ... -> 1 | 0
  mark: `
local peer, file = ARGV[2], ARGV[3]
if redis.call('SISMEMBER', P .. 'members:' .. file, peer) == 0 then return 0 end
local count = tonumber(redis.call('HGET', P .. 'file:' .. file, 'count'))
for i = 5, #ARGV do
  if tonumber(ARGV[i]) >= count then return 0 end
end
local key = P .. 'have:' .. file .. ':' .. peer
for i = 5, #ARGV do redis.call('SETBIT', key, ARGV[i], ARGV[4]) end
return 1`,
  // ARGV: P, peer, file -> 1 | 0
  leave: `return leave(ARGV[2], ARGV[3]) and 1 or 0`,
  // ARGV: P, file -> nil | { manifest, peer, bitfield, ... }
  swarm: `
local file = ARGV[2]
local manifest = redis.call('HGET', P .. 'file:' .. file, 'manifest')
if not manifest then return nil end
local out = { manifest }
for _, value in ipairs(holders(file, nil)) do table.insert(out, value) end
return out`,
  // ARGV: P -> { { id, name, size, count, { bitfield, ... }, keepers }, ... }
  list: `
local out = {}
for _, file in ipairs(redis.call('SMEMBERS', P .. 'files')) do
  local fields = redis.call('HMGET', P .. 'file:' .. file, 'name', 'size', 'count', 'keepers')
  if fields[3] then
    local haves = {}
    for _, peer in ipairs(redis.call('SMEMBERS', P .. 'members:' .. file)) do
      table.insert(haves, redis.call('GET', P .. 'have:' .. file .. ':' .. peer) or '')
    end
    table.insert(out, { file, fields[1], fields[2], fields[3], haves, fields[4] or '' })
  end
end
return out`,
  // ARGV: P, peer, file, max swarms -> 1 | 0
  roomFor: `
local swarms = P .. 'swarms:' .. ARGV[2]
if redis.call('SISMEMBER', swarms, ARGV[3]) == 1 or redis.call('SCARD', swarms) < tonumber(ARGV[4]) then return 1 end
return 0`,
  // ARGV: P, peer, file, links JSON -> 1 | 0
  reportRates: `
local peer, file = ARGV[2], ARGV[3]
if redis.call('SISMEMBER', P .. 'members:' .. file, peer) == 0 then return 0 end
redis.call('HSET', P .. 'rates:' .. file, peer, '{"at":' .. now() .. ',"links":' .. ARGV[4] .. '}')
return 1`,
  // ARGV: P, file -> { now, peer, report, ... }
  rates: `
local out = { tostring(now()) }
for _, value in ipairs(redis.call('HGETALL', P .. 'rates:' .. ARGV[2])) do table.insert(out, value) end
return out`,
  // ARGV: P, peer, owner, ttl -> { former owner or '', file, ... }
  claim: `
local peer = ARGV[2]
local previous = redis.call('HGET', P .. 'owner', peer)
local out = { previous or '' }
if previous then
  for _, file in ipairs(leaveAll(peer)) do table.insert(out, file) end
end
redis.call('HSET', P .. 'owner', peer, ARGV[3])
redis.call('ZADD', P .. 'alive', now() + tonumber(ARGV[4]), peer)
return out`,
  // ARGV: P, peer, owner -> nil | { file, ... }
  release: `
local peer = ARGV[2]
if redis.call('HGET', P .. 'owner', peer) ~= ARGV[3] then return nil end
redis.call('HDEL', P .. 'owner', peer)
redis.call('ZREM', P .. 'alive', peer)
return leaveAll(peer)`,
  // ARGV: P, ttl, peer, ... -> { peer no longer registered, ... }
  refresh: `
local deadline = now() + tonumber(ARGV[2])
local peers = { unpack(ARGV, 3) }
local scores = redis.call('ZMSCORE', P .. 'alive', unpack(peers))
local missing, updates = {}, {}
for i, peer in ipairs(peers) do
  if scores[i] then
    table.insert(updates, deadline)
    table.insert(updates, peer)
  else
    table.insert(missing, peer)
  end
end
if #updates > 0 then redis.call('ZADD', P .. 'alive', 'XX', unpack(updates)) end
return missing`,
  // ARGV: P, limit -> { { peer, file, ... }, ... }
  expire: `
local out = {}
for _, peer in ipairs(redis.call('ZRANGEBYSCORE', P .. 'alive', '-inf', now(), 'LIMIT', 0, tonumber(ARGV[2]))) do
  redis.call('ZREM', P .. 'alive', peer)
  redis.call('HDEL', P .. 'owner', peer)
  local entry = { peer }
  for _, file in ipairs(leaveAll(peer)) do table.insert(entry, file) end
  table.insert(out, entry)
end
return out`,
  // ARGV: P, from, to, file -> { 'ok', owner } | { refusal }
  signalRoute: `
local from, to, file = ARGV[2], ARGV[3], ARGV[4]
local owner = redis.call('HGET', P .. 'owner', to)
if not owner then return { 'unknown-peer' } end
local members = P .. 'members:' .. file
if redis.call('SISMEMBER', members, from) == 0 or redis.call('SISMEMBER', members, to) == 0 then return { 'not-in-swarm' } end
return { 'ok', owner }`,
} as const

type Arg = string | number | Buffer
type Reply = Buffer | null | Reply[] | number

/** Runs a script by its SHA, loading it on first use (or after Redis restarts). */
class LuaScript {
  private readonly source: string
  private readonly sha: string

  constructor(body: string) {
    this.source = PRELUDE + body
    this.sha = createHash('sha1').update(this.source).digest('hex')
  }

  async run(redis: Redis, args: Arg[]): Promise<Reply> {
    try {
      return (await redis.callBuffer('EVALSHA', this.sha, 0, ...args)) as Reply
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error
      return (await redis.callBuffer('EVAL', this.source, 0, ...args)) as Reply
    }
  }
}

const scripts = Object.fromEntries(Object.entries(SCRIPTS).map(([name, body]) => [name, new LuaScript(body)])) as Record<
  keyof typeof SCRIPTS,
  LuaScript
>

const text = (reply: Reply | undefined): string => (Buffer.isBuffer(reply) ? reply.toString() : String(reply ?? ''))
const list = (reply: Reply): Reply[] => (Array.isArray(reply) ? reply : [])
const OWNER_SEPARATOR = ' '
/** Peers refreshed per script call (Lua's unpack takes a few thousand values at most). */
const REFRESH_SLICE = 1000

/** The registry in Redis, shared by every tracker instance pointed at it. */
export class RedisRegistry implements Registry {
  constructor(
    private readonly redis: Redis,
    private readonly peerTtlMs = 20_000,
    private readonly prefix = 'tabswarm:',
  ) {}

  private run(script: keyof typeof SCRIPTS, ...args: Arg[]): Promise<Reply> {
    return scripts[script].run(this.redis, [this.prefix, ...args])
  }

  async publish(peerId: string, fileId: string, manifest: Manifest, have?: Bitfield, keepers = false): Promise<SwarmPeer> {
    const field = have ?? Bitfield.full(manifest.hashes.length)
    const count = manifest.hashes.length
    // Stored without a name unless listed: the list reads an empty name as not listed, only its encrypted size.
    const name = isListed(manifest) ? manifest.name : ''
    const keepable = isListed(manifest) || keepers ? 1 : 0
    await this.run('publish', peerId, fileId, JSON.stringify(manifest), name, manifest.size, count, Buffer.from(field.bytes), keepable)
    return { peerId, have: toBase64(field.bytes) }
  }

  async join(peerId: string, fileId: string) {
    const reply = await this.run('join', peerId, fileId)
    if (!Array.isArray(reply)) return undefined
    const [manifestJson, own, ...rest] = reply
    return { manifest: JSON.parse(text(manifestJson)) as Manifest, peers: this.peers(rest), self: { peerId, have: this.base64(own) } }
  }

  async have(peerId: string, fileId: string, indexes: number[]): Promise<boolean> {
    return (await this.run('mark', peerId, fileId, 1, ...indexes)) === 1
  }

  async lost(peerId: string, fileId: string, indexes: number[]): Promise<boolean> {
    return (await this.run('mark', peerId, fileId, 0, ...indexes)) === 1
  }

  async leave(peerId: string, fileId: string): Promise<boolean> {
    return (await this.run('leave', peerId, fileId)) === 1
  }

  async swarm(fileId: string) {
    const reply = await this.run('swarm', fileId)
    if (!Array.isArray(reply)) return undefined
    const [manifestJson, ...rest] = reply
    return { manifest: JSON.parse(text(manifestJson)) as Manifest, peers: this.peers(rest) }
  }

  async roomFor(peerId: string, fileId: string, maxSwarms: number): Promise<boolean> {
    return (await this.run('roomFor', peerId, fileId, maxSwarms)) === 1
  }

  async list(): Promise<FileSummary[]> {
    return (await this.swarms()).flatMap(({ fileId, name, size, count, fields }) =>
      name === '' ? [] : [summarize(fileId, { name, size }, count, fields)],
    )
  }

  async wanted(): Promise<WantedFile[]> {
    return (await this.swarms()).flatMap(({ fileId, size, count, fields, keepers }) => {
      const wanted = keepers && wantedOf(fileId, size, count, fields)
      return wanted ? [wanted] : []
    })
  }

  /** Every swarm with its members' bitfields; a private link's file has the name ''. */
  private async swarms() {
    return list(await this.run('list')).map((entry) => {
      const [fileId, name, size, countText, haves, keepers] = list(entry)
      const count = Number(text(countText))
      const fields = list(haves!).map((bytes) => this.bitfield(bytes, count))
      return { fileId: text(fileId), name: text(name), size: Number(text(size)), count, fields, keepers: text(keepers) === '1' }
    })
  }

  async reportRates(peerId: string, fileId: string, links: RateReport['links']): Promise<boolean> {
    return (await this.run('reportRates', peerId, fileId, JSON.stringify(links))) === 1
  }

  async rates(fileId: string): Promise<RateReport[]> {
    const [now, ...rest] = list(await this.run('rates', fileId))
    const reports: RateReport[] = []
    for (let i = 0; i + 1 < rest.length; i += 2) {
      const report = JSON.parse(text(rest[i + 1])) as { at: number; links: RateReport['links'] }
      if (Number(text(now)) - report.at <= RATE_REPORT_TTL_MS) reports.push({ from: text(rest[i]), links: report.links })
    }
    return reports
  }

  async claim(peerId: string, instance: string, session: string) {
    const [previous, ...fileIds] = list(await this.run('claim', peerId, instance + OWNER_SEPARATOR + session, this.peerTtlMs))
    const former = text(previous)
    return { previous: former ? this.owner(former) : undefined, fileIds: fileIds.map(text) }
  }

  async release(peerId: string, instance: string, session: string): Promise<string[] | undefined> {
    const reply = await this.run('release', peerId, instance + OWNER_SEPARATOR + session)
    return Array.isArray(reply) ? reply.map(text) : undefined
  }

  async refresh(peerIds: string[]): Promise<string[]> {
    // One slice at a time: the tracker's other commands share this connection and queue behind
    // whatever was sent before them, so they wait for one short script at most.
    const missing: string[] = []
    for (let start = 0; start < peerIds.length; start += REFRESH_SLICE) {
      const reply = await this.run('refresh', this.peerTtlMs, ...peerIds.slice(start, start + REFRESH_SLICE))
      missing.push(...list(reply).map(text))
    }
    return missing
  }

  async expire(max: number): Promise<{ peerId: string; fileIds: string[] }[]> {
    return list(await this.run('expire', max)).map((entry) => {
      const [peerId, ...fileIds] = list(entry).map(text)
      return { peerId: peerId!, fileIds }
    })
  }

  async signalRoute(from: string, to: string, fileId: string): Promise<SignalRoute> {
    const [status, owner] = list(await this.run('signalRoute', from, to, fileId)).map(text)
    if (status === 'ok') return { instance: this.owner(owner!).instance }
    return { refused: status === 'unknown-peer' ? 'unknown-peer' : 'not-in-swarm' }
  }

  async counts(): Promise<{ files: number; peers: number }> {
    const [files, peers] = await Promise.all([this.redis.scard(`${this.prefix}files`), this.redis.hlen(`${this.prefix}owner`)])
    return { files, peers }
  }

  async close(): Promise<void> {
    await this.redis.quit()
  }

  private owner(value: string): Owner {
    const at = value.indexOf(OWNER_SEPARATOR)
    return { instance: value.slice(0, at), session: value.slice(at + 1) }
  }

  private bitfield(bytes: Reply | undefined, count: number): Bitfield {
    // SETBIT past the end grows the string, and a bitfield never set may be short: fit it to `count`.
    const fitted = new Uint8Array(Bitfield.byteLength(count))
    if (Buffer.isBuffer(bytes)) fitted.set(bytes.subarray(0, fitted.length))
    return new Bitfield(count, fitted)
  }

  private base64(bytes: Reply | undefined): string {
    return toBase64(Buffer.isBuffer(bytes) ? new Uint8Array(bytes) : new Uint8Array())
  }

  private peers(flat: Reply[]): SwarmPeer[] {
    const peers: SwarmPeer[] = []
    for (let i = 0; i + 1 < flat.length; i += 2) peers.push({ peerId: text(flat[i]), have: this.base64(flat[i + 1]) })
    return peers
  }
}
