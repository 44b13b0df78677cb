// The engine's check of what the Service Worker asks on a stream port (see stream-protocol.ts).
import { firstIssue, z } from '../protocol/zod'
import { fileIdSchema } from '../protocol/manifest'
import type { StreamRequest } from './stream-protocol'

const requestSchema: z.ZodType<StreamRequest> = z.discriminatedUnion('type', [
  /** The request: a file, perhaps one file of a bundle, and its Range header. */
  z.object({ type: z.literal('open'), fileId: fileIdSchema, path: z.string().max(4096).optional(), range: z.string().max(500).nullable() }),
  /** The next bytes, please (one message answers each). */
  z.object({ type: z.literal('pull') }),
  /** The player stopped reading (it seeks elsewhere, or the page closed). */
  z.object({ type: z.literal('cancel') }),
])
/** The engine's check of what the Service Worker sends; undefined (and logged) when malformed. */
export function readStreamRequest(data: unknown): StreamRequest | undefined {
  const parsed = requestSchema.safeParse(data)
  if (parsed.success) return parsed.data
  console.warn(`A malformed stream request was ignored (${firstIssue(parsed.error, 'message')}).`)
  return undefined
}
