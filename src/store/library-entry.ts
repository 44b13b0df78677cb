import { firstIssue, z } from '../protocol/zod'
import { FILE_ID_PATTERN, MAX_FILE_SIZE, MAX_NAME_LENGTH } from '../protocol/manifest'
import { isSecret } from '../protocol/sealed'
import type { LibraryEntry } from '../core/ports'

// A library entry read back from storage is input like any other: an older version, a damaged
// record or another tab's bug must not reach the engine unchecked.
const libraryEntrySchema = z.object({
  fileId: z.string().regex(FILE_ID_PATTERN),
  name: z.string().max(MAX_NAME_LENGTH),
  size: z.number().int().min(0).max(MAX_FILE_SIZE),
  role: z.enum(['shared', 'downloaded']),
  addedAt: z.number().finite(),
  updatedAt: z.number().finite(),
  paused: z.boolean().optional(),
  secret: z.string().refine(isSecret, 'a key is 22 base64url characters').optional(),
  kept: z.boolean().optional(),
  keepers: z.boolean().optional(),
})

export type ParsedEntry = { ok: true; entry: LibraryEntry } | { ok: false; message: string }

/** The one check of a stored library entry. Unknown extra fields (a newer version's) are dropped. */
export function parseLibraryEntry(record: unknown): ParsedEntry {
  const result = libraryEntrySchema.safeParse(record)
  if (result.success) {
    const { paused, secret, kept, keepers, ...rest } = result.data
    const optional = {
      ...(paused === undefined ? {} : { paused }),
      ...(secret === undefined ? {} : { secret }),
      ...(kept ? { kept } : {}),
      ...(keepers ? { keepers } : {}),
    }
    return { ok: true, entry: { ...rest, ...optional } }
  }
  return { ok: false, message: firstIssue(result.error, 'entry') }
}
