// The messages between the page and the engine's worker, and the one check of each side's input.
// Both ends are this app, but a message is still input: the envelope is checked here; payloads
// that only the engine makes (snapshots, swarm views) are typed, not re-validated on every frame.
import { firstIssue, z } from '../protocol/zod'
import { iceServerSchema, signalDataSchema, type SignalData } from '../protocol/tracker'
import type { IceServer } from '../core/ports'
import type { PieceMap } from '../core/piece-map'
import type { ClientSnapshot } from '../engine/views'
import type { SwarmView } from '../engine/tracker-views'
import type { EngineApi, StorageNotice } from '../engine/api'

const fileId = z.string().max(64)
const rate = z.number().positive().finite().or(z.undefined())
const shareOptions = z.object({ listed: z.boolean().optional(), keepers: z.boolean().optional() }).strict()
const bundlePath = z.string().max(4096).optional()

/**
 * The engine calls the page may make, each with the one check of its arguments: declared once,
 * and typed against the engine's API (a schema that let through other arguments than the method
 * takes would not compile).
 */
export const ENGINE_CALLS = {
  share: z.tuple([z.instanceof(File), shareOptions.optional()]),
  shareBundle: z.tuple([
    z.string().max(1024),
    z.array(z.object({ path: z.string().max(4096), file: z.instanceof(File) })).max(100_000),
    shareOptions.optional(),
  ]),
  open: z.tuple([fileId, z.string().max(64).optional()]),
  retry: z.tuple([fileId]),
  fileForSaving: z.tuple([fileId, bundlePath]),
  setLimits: z.tuple([z.object({ up: rate, down: rate })]),
  setKeeping: z.tuple([z.number().int().positive().max(Number.MAX_SAFE_INTEGER).or(z.undefined())]),
  pause: z.tuple([fileId]),
  resume: z.tuple([fileId]),
  remove: z.tuple([fileId]),
  listFiles: z.tuple([]),
  wake: z.tuple([]),
  presentCode: z.tuple([fileId]),
  endCode: z.tuple([fileId]),
  lookupCode: z.tuple([z.string().max(64)]),
  mediaDuration: z.tuple([fileId, z.number().positive().finite(), bundlePath]),
} satisfies { [K in keyof EngineApi]?: z.ZodType<Parameters<EngineApi[K]>> }
export type EngineCall = keyof typeof ENGINE_CALLS
const CALL_NAMES = Object.keys(ENGINE_CALLS) as [EngineCall, ...EngineCall[]]

/** The engine's answer to a call, as the page gets it. */
export type CallResult<K extends EngineCall> = Awaited<ReturnType<EngineApi[K]>>

const id = z.number().int().min(0)
const linkId = z.number().int().min(0)
const isObject = (value: unknown) => typeof value === 'object' && value !== null

/** How the worker is set up, sent once before anything else. */
const initSchema = z.object({
  type: z.literal('init'),
  trackerUrl: z.string().max(2048),
  connectTimeoutMs: z.number().int().positive().optional(),
  maxLanes: z.number().int().min(1).max(64).optional(),
})

const pageToWorkerSchema = z.discriminatedUnion('type', [
  initSchema,
  z.object({ type: z.literal('call'), id, method: z.enum(CALL_NAMES), args: z.array(z.unknown()).max(4) }),
  /** The page is ready to draw: the next snapshot, with the piece maps of these files. */
  z.object({ type: z.literal('frame'), pieceMaps: z.array(fileId).max(64) }),
  z.object({ type: z.literal('watch-swarm'), watchId: id, fileId }),
  z.object({ type: z.literal('unwatch-swarm'), watchId: id }),
  z.object({ type: z.literal('ping'), n: id }),
  /** One request of the Service Worker's, to answer on this port (see stream-port.ts). */
  z.object({ type: z.literal('stream-port'), port: z.custom<MessagePort>(isObject) }),
  // The page's side of a peer link: the wire's channel itself, or its messages forwarded.
  z.object({ type: z.literal('link-signal'), linkId, data: signalDataSchema }),
  z.object({ type: z.literal('link-channel'), linkId, channel: z.custom<RTCDataChannel>(isObject) }),
  z.object({ type: z.literal('link-open'), linkId, maxMessageBytes: z.number().int().positive().optional() }),
  z.object({ type: z.literal('link-data'), linkId, data: z.instanceof(ArrayBuffer) }),
  z.object({ type: z.literal('link-sent'), linkId, bytes: z.number().min(0) }),
  z.object({
    type: z.literal('link-stats'),
    linkId,
    route: z.enum(['direct', 'relayed']).optional(),
    path: z.enum(['host', 'reflexive', 'turn', 'server']).optional(),
    rttMs: z.number().min(0).max(600_000).optional(),
  }),
  z.object({ type: z.literal('link-closed'), linkId, reason: z.string().max(500) }),
])
export type PageToWorker = z.infer<typeof pageToWorkerSchema>
export type WorkerInit = z.infer<typeof initSchema>

export type WorkerToPage =
  | { type: 'ready'; storageInMemoryOnly: boolean }
  | { type: 'storage'; notice: StorageNotice }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; message: string }
  | { type: 'snapshot'; snapshot: ClientSnapshot; pieceMaps: [string, PieceMap][] }
  | { type: 'swarm'; watchId: number; view: SwarmView }
  | { type: 'pong'; n: number }
  | { type: 'link-create'; linkId: number; initiator: boolean; iceServers: IceServer[] }
  | { type: 'link-signal'; linkId: number; data: SignalData }
  | { type: 'link-send'; linkId: number; frame: ArrayBuffer }
  | { type: 'link-stats'; linkId: number }
  | { type: 'link-close'; linkId: number }

const workerToPageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), storageInMemoryOnly: z.boolean() }),
  z.object({ type: z.literal('storage'), notice: z.enum(['upgrade-blocked', 'superseded']) }),
  z.object({ type: z.literal('reply'), id, ok: z.boolean(), value: z.unknown().optional(), message: z.string().optional() }),
  z.object({
    type: z.literal('snapshot'),
    snapshot: z.custom<ClientSnapshot>(isObject),
    pieceMaps: z.array(z.tuple([fileId, z.custom<PieceMap>(isObject)])).max(64),
  }),
  z.object({ type: z.literal('swarm'), watchId: id, view: z.custom<SwarmView>(isObject) }),
  z.object({ type: z.literal('pong'), n: id }),
  z.object({ type: z.literal('link-create'), linkId, initiator: z.boolean(), iceServers: z.array(iceServerSchema).max(16) }),
  z.object({ type: z.literal('link-signal'), linkId, data: signalDataSchema }),
  z.object({ type: z.literal('link-send'), linkId, frame: z.instanceof(ArrayBuffer) }),
  z.object({ type: z.literal('link-stats'), linkId }),
  z.object({ type: z.literal('link-close'), linkId }),
])

/** A call's arguments, checked; undefined when they are not what the method takes. */
export function readCallArguments<K extends EngineCall>(method: K, args: unknown[]): Parameters<EngineApi[K]> | undefined {
  const parsed = ENGINE_CALLS[method].safeParse(args)
  return parsed.success ? (parsed.data as Parameters<EngineApi[K]>) : undefined
}

/** The worker's check of what the page sends; undefined (and logged) when malformed. */
export function readPageMessage(data: unknown): PageToWorker | undefined {
  const parsed = pageToWorkerSchema.safeParse(data)
  if (parsed.success) return parsed.data
  console.warn(`A malformed message from the page was ignored (${firstIssue(parsed.error, 'message')}).`)
  return undefined
}

/** The page's check of what the worker sends; undefined (and logged) when malformed. */
export function readWorkerMessage(data: unknown): WorkerToPage | undefined {
  const parsed = workerToPageSchema.safeParse(data)
  if (parsed.success) return parsed.data as WorkerToPage
  console.warn(`A malformed message from the engine was ignored (${firstIssue(parsed.error, 'message')}).`)
  return undefined
}

/** Posts a message, moving (not copying) the buffers or channel it carries. */
export function transferablesOf(message: PageToWorker | WorkerToPage): Transferable[] {
  if (message.type === 'link-send') return [message.frame]
  if (message.type === 'link-data') return [message.data]
  if (message.type === 'link-channel') return [message.channel as unknown as Transferable]
  if (message.type === 'stream-port') return [message.port]
  return []
}
