import { z } from './zod'
import { BASE64_PATTERN, utf8Exceeds } from './encoding'
import { fileIdSchema, manifestSchema, TARGET_MAX_CHUNKS, type Manifest } from './manifest'
import { joinCodeSchema } from './join-code'
import { isSecret } from './sealed'

// The tracker protocol: JSON text frames over one WebSocket. Each message has a `type`;
// requests carry an `id` that the reply echoes. This file is the single decoder for both ends.

export const TRACKER_PROTOCOL_VERSION = 1
export const TRACKER_PATH = '/ws'
/** Largest text frame either side accepts; a maximal manifest is about 140 KB. */
export const MAX_TRACKER_FRAME_BYTES = 256 * 1024
const secretSchema = z.string().refine(isSecret, 'a key is 22 base64url characters')
const MAX_SDP_LENGTH = 64 * 1024
const MAX_CANDIDATE_LENGTH = 1024

const requestId = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31)
const peerId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'a peer id is 8-64 url-safe characters')
/** Names one connection attempt, so signals of an abandoned attempt never reach its successor. */
const linkId = z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'a link id is 1-32 letters or digits')
const chunkIndex = z
  .number()
  .int()
  .min(0)
  .max(TARGET_MAX_CHUNKS - 1)
/** A bitfield (see bitfield.ts) as base64. */
const bitfieldBase64 = z
  .string()
  .max(Math.ceil(TARGET_MAX_CHUNKS / 8 / 3) * 4)
  .regex(BASE64_PATTERN)

/** Bytes per second. */
const byteRate = z.number().min(0).max(1e12)
/** A join code as the tracker gave it (`presented`): the code, its expiry and the tracker's proof of both. */
const givenCodeSchema = z.object({ code: joinCodeSchema, expiresAt: z.number().int(), proof: z.string().max(64) }).strict()
/** A member reports at most this many links; a swarm view shows at most MAX_SWARM_VIEW_PEERS peers. */
export const MAX_REPORTED_LINKS = 64
export const MAX_SWARM_VIEW_PEERS = 200
/** A `swarm-news` message names at most this many chunks in all, of at most MAX_NEWS_PEERS members (under 64 KB of JSON). */
export const MAX_NEWS_INDEXES = 4096
export const MAX_NEWS_PEERS = 256
/** A location lists at most this many peers (later ones are learnt from pushes), within the frame cap. */
export const MAX_LOCATION_PEERS = 200
/** A `files` page lists at most this many files, within the frame cap; `next` asks for the following page. */
export const MAX_LIST_PAGE_FILES = 100

export const signalDataSchema = z.union([
  z.object({ type: z.enum(['offer', 'answer', 'pranswer', 'rollback']), sdp: z.string().max(MAX_SDP_LENGTH) }).strict(),
  z
    .object({
      type: z.literal('candidate'),
      candidate: z
        .object({
          candidate: z.string().max(MAX_CANDIDATE_LENGTH),
          sdpMLineIndex: z.number().int().min(0).max(1024).nullable().optional(),
          sdpMid: z.string().max(64).nullable().optional(),
        })
        .strict(),
    })
    .strict(),
  z.object({ type: z.literal('renegotiate'), renegotiate: z.literal(true) }).strict(),
  /** A peer at its limit of links for the file refuses an offer at once, rather than let it time out. */
  z.object({ type: z.literal('busy') }).strict(),
  /** A link through the service's relay (RELAY_PATH): the dialler's offer, and the answer that takes it. */
  z.object({ type: z.literal('relay') }).strict(),
])
export type SignalData = z.infer<typeof signalDataSchema>

// ---- client → server ----
export const clientMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('hello'),
      v: z.number().int(),
      /** The client takes `swarm-news` (chunk news of many members in one message) instead of `peer-have` and `peer-lost`. */
      news: z.literal(true).optional(),
      /** After a reconnect: the id and token from the last welcome, to keep the same peer id. */
      resume: z
        .object({ peerId, token: z.string().max(128) })
        .strict()
        .optional(),
    })
    .strict(),
  /**
   * Registers a file and joins its swarm; `have` (a bitfield) for a partial copy, else every chunk.
   * `keepers`: the sharer lets keepers be pointed at this private file (a listed file always is).
   */
  z
    .object({
      type: z.literal('publish'),
      id: requestId,
      manifest: manifestSchema,
      have: bitfieldBase64.optional(),
      keepers: z.literal(true).optional(),
    })
    .strict(),
  z.object({ type: z.literal('unpublish'), fileId: fileIdSchema }).strict(),
  z.object({ type: z.literal('have'), fileId: fileIdSchema, indexes: z.array(chunkIndex).min(1).max(TARGET_MAX_CHUNKS) }).strict(),
  /** Chunks this peer no longer holds (a stored copy failed its hash check). */
  z.object({ type: z.literal('lost'), fileId: fileIdSchema, indexes: z.array(chunkIndex).min(1).max(TARGET_MAX_CHUNKS) }).strict(),
  /** A page of the files shared on the tracker, from `cursor` (0 first). */
  z
    .object({
      type: z.literal('list'),
      id: requestId,
      cursor: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31)
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('locate'), id: requestId, fileId: fileIdSchema }).strict(),
  z.object({ type: z.literal('signal'), to: peerId, fileId: fileIdSchema, link: linkId, data: signalDataSchema }).strict(),
  /** Asks for a ticket to open a relay socket (RELAY_PATH) with. */
  z.object({ type: z.literal('relay-ticket'), id: requestId }).strict(),
  /** Subscribes to `swarm` pushes for one file (the swarm view); needs no membership. */
  z.object({ type: z.literal('watch'), id: requestId, fileId: fileIdSchema }).strict(),
  z.object({ type: z.literal('unwatch'), fileId: fileIdSchema }).strict(),
  /** What this member is uploading to each peer of the swarm now, for the swarm view. */
  z
    .object({
      type: z.literal('rates'),
      fileId: fileIdSchema,
      links: z.array(z.object({ to: peerId, rate: byteRate }).strict()).max(MAX_REPORTED_LINKS),
    })
    .strict(),
  /**
   * Asks for a join code for a file this peer shares; `renew` claims one it was given before (after
   * a reconnect), with the `expiresAt` and `proof` of that `presented` reply.
   */
  z
    .object({
      type: z.literal('present'),
      id: requestId,
      fileId: fileIdSchema,
      /** A private file's key, given to the tracker by a sharer who presents it, so the code opens the file. */
      secret: secretSchema.optional(),
      renew: givenCodeSchema.optional(),
    })
    .strict(),
  /** Ends a join code before its time (`given`: the code as `presented` gave it, proof included); its key is forgotten. */
  z.object({ type: z.literal('end-code'), id: requestId, fileId: fileIdSchema, given: givenCodeSchema }).strict(),
  /** A keeper asks which files most need another copy (listed files, and private ones whose sharer allowed keepers). */
  z.object({ type: z.literal('wanted'), id: requestId }).strict(),
  /** Resolves a join code to its file; rate-limited per connection and per address. */
  z.object({ type: z.literal('lookup-code'), id: requestId, code: joinCodeSchema }).strict(),
])
export type ClientMessage = z.infer<typeof clientMessageSchema>

// ---- server → client ----
export const errorCodes = [
  'malformed',
  'too-large',
  'unsupported-version',
  'not-found',
  'unknown-peer',
  'not-in-swarm',
  'rate-limited',
  /** A join code that worked once and no longer does. */
  'expired',
  /** The service does not offer this (its relay is off). */
  'unavailable',
  'internal',
] as const
export type ErrorCode = (typeof errorCodes)[number]

export const iceServerSchema = z
  .object({
    urls: z.union([z.string().max(512), z.array(z.string().max(512)).max(8)]),
    username: z.string().max(256).optional(),
    credential: z.string().max(256).optional(),
  })
  .strict()

const fileSummarySchema = z
  .object({
    fileId: fileIdSchema,
    name: z.string(),
    size: z.number().int().min(0),
    chunkCount: z.number().int().min(0),
    peers: z.number().int().min(0),
    /** Peers that hold every chunk. */
    seeders: z.number().int().min(0),
    /** Share of chunks held by at least one peer, 0..1. */
    availability: z.number().min(0).max(1),
  })
  .strict()
export type FileSummary = z.infer<typeof fileSummarySchema>

const swarmPeerSchema = z.object({ peerId, have: bitfieldBase64 }).strict()

/** Files in one `wanted` reply. */
export const MAX_WANTED_FILES = 32
const wantedFileSchema = z
  .object({
    fileId: fileIdSchema,
    size: z.number().int().min(0),
    copies: z.number().int().min(0),
    downloaders: z.number().int().min(0),
  })
  .strict()
export type WantedFile = z.infer<typeof wantedFileSchema>

/** The order of a `wanted` reply: fewest complete copies, then most peers fetching it, then by id (stable). */
export function byNeed(a: WantedFile, b: WantedFile): number {
  return a.copies - b.copies || b.downloaders - a.downloaders || (a.fileId < b.fileId ? -1 : a.fileId > b.fileId ? 1 : 0)
}
export type SwarmPeer = z.infer<typeof swarmPeerSchema>

const swarmLinkSchema = z.object({ from: peerId, to: peerId, rate: byteRate }).strict()
export type SwarmLink = z.infer<typeof swarmLinkSchema>

export const serverMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('welcome'),
      v: z.number().int(),
      peerId,
      /** Proves the peer id on a later hello. */
      resumeToken: z.string(),
      heartbeatMs: z.number().int().positive(),
      iceServers: z.array(iceServerSchema).max(16),
      /** The tracker's own STUN responder, on its host: clients add `stun:<tracker host>:<port>`. */
      stunPort: z.number().int().min(1).max(65535).optional(),
    })
    .strict(),
  z.object({ type: z.literal('published'), id: requestId, fileId: fileIdSchema }).strict(),
  z.object({ type: z.literal('code-ended'), id: requestId, fileId: fileIdSchema }).strict(),
  /** The join code for a file, working until `expiresAt` (ms since the epoch) while its presenter shares the file. */
  z
    .object({
      type: z.literal('presented'),
      id: requestId,
      fileId: fileIdSchema,
      code: joinCodeSchema,
      expiresAt: z.number().int(),
      /** Signed by the tracker: lets the peer claim this code again after a restart. */
      proof: z.string().max(64),
    })
    .strict(),
  z
    .object({ type: z.literal('code-found'), id: requestId, code: joinCodeSchema, fileId: fileIdSchema, secret: secretSchema.optional() })
    .strict(),
  z
    .object({
      type: z.literal('files'),
      id: requestId,
      files: z.array(fileSummarySchema).max(MAX_LIST_PAGE_FILES),
      /** Files shared on the tracker in all. */
      total: z.number().int().min(0),
      /** The cursor of the next page, when there is one. */
      next: z.number().int().min(0).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('location'),
      id: requestId,
      fileId: fileIdSchema,
      manifest: manifestSchema,
      peers: z.array(swarmPeerSchema).max(MAX_LOCATION_PEERS),
    })
    .strict(),
  /** The reply to `wanted`: the files that most need a keeper, most needed first. */
  z.object({ type: z.literal('wanted'), id: requestId, files: z.array(wantedFileSchema).max(MAX_WANTED_FILES) }).strict(),
  z.object({ type: z.literal('peer-joined'), fileId: fileIdSchema, peer: swarmPeerSchema }).strict(),
  z.object({ type: z.literal('peer-have'), fileId: fileIdSchema, peerId, indexes: z.array(chunkIndex).min(1) }).strict(),
  z.object({ type: z.literal('peer-lost'), fileId: fileIdSchema, peerId, indexes: z.array(chunkIndex).min(1) }).strict(),
  /** What members of a swarm gained (`have`) and lost since the last news, gathered over a moment, for clients that said `news`. */
  z
    .object({
      type: z.literal('swarm-news'),
      fileId: fileIdSchema,
      changes: z
        .array(
          z
            .object({
              peerId,
              have: z.array(chunkIndex).max(MAX_NEWS_INDEXES).optional(),
              lost: z.array(chunkIndex).max(MAX_NEWS_INDEXES).optional(),
            })
            .strict(),
        )
        .min(1)
        .max(MAX_NEWS_PEERS),
    })
    .strict(),
  z.object({ type: z.literal('peer-left'), fileId: fileIdSchema, peerId }).strict(),
  /** Someone published a file this peer tried to locate while nobody shared it. */
  z.object({ type: z.literal('file-available'), fileId: fileIdSchema }).strict(),
  z.object({ type: z.literal('signal'), from: peerId, fileId: fileIdSchema, link: linkId, data: signalDataSchema }).strict(),
  /** This instance is shutting down: reconnect after `afterMs` (a load balancer sends the client to another). */
  z.object({ type: z.literal('reconnect'), afterMs: z.number().int().min(0).max(600_000) }).strict(),
  /** A ticket for the relay socket (good for a minute), and the bytes per second it carries for this peer. */
  z
    .object({ type: z.literal('relay-ticket'), id: requestId, ticket: z.string().max(256), bytesPerSecond: z.number().int().positive() })
    .strict(),
  /** A watched swarm: the reply to `watch` (with its id), then pushed again as it changes. */
  z
    .object({
      type: z.literal('swarm'),
      id: requestId.optional(),
      fileId: fileIdSchema,
      /** Empty while nobody shares the file. */
      name: z.string(),
      chunkCount: z.number().int().min(0),
      /** Every member, up to MAX_SWARM_VIEW_PEERS of them... */
      peers: z.array(swarmPeerSchema).max(MAX_SWARM_VIEW_PEERS),
      /** ...out of this many. */
      peerCount: z.number().int().min(0),
      /** Upload rates members reported in the last few seconds, between listed peers. */
      links: z.array(swarmLinkSchema),
    })
    .strict(),
  z
    .object({
      type: z.literal('error'),
      id: requestId.optional(),
      code: z.enum(errorCodes),
      message: z.string().max(1024),
    })
    .strict(),
])
export type ServerMessage = z.infer<typeof serverMessageSchema>
export type ServerMessageOf<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>
export type ClientMessageOf<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>

export type Decoded<T> = { ok: true; message: T } | { ok: false; code: ErrorCode; message: string; id?: number }

function decode<T>(schema: z.ZodType<T>, frame: unknown): Decoded<T> {
  if (typeof frame !== 'string') return { ok: false, code: 'malformed', message: 'frames must be JSON text, not binary' }
  if (utf8Exceeds(frame, MAX_TRACKER_FRAME_BYTES)) {
    return { ok: false, code: 'too-large', message: `frames are limited to ${MAX_TRACKER_FRAME_BYTES} bytes` }
  }
  let data: unknown
  try {
    data = JSON.parse(frame)
  } catch {
    return { ok: false, code: 'malformed', message: 'the frame is not valid JSON' }
  }
  const result = schema.safeParse(data)
  if (result.success) return { ok: true, message: result.data }
  const rawId = (data as { id?: unknown } | null)?.id
  const id = requestId.safeParse(rawId).success ? (rawId as number) : undefined
  const issue = result.error.issues[0]
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
  return { ok: false, code: 'malformed', message: `${where}${issue?.message ?? 'invalid message'}`, ...(id === undefined ? {} : { id }) }
}

export const decodeClientMessage = (frame: unknown): Decoded<ClientMessage> => decode(clientMessageSchema, frame)
export const decodeServerMessage = (frame: unknown): Decoded<ServerMessage> => decode(serverMessageSchema, frame)

export type { Manifest }
