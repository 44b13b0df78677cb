// What a keeper (a peer donating space to hold others' files) fetches next and what it lets go.
// The tracker says which files could use a keeper; the keeper fits them into its space. Pure.
import { byNeed, type WantedFile } from '../protocol/tracker'

/** A file this keeper holds (or is fetching). */
export interface KeptFile {
  fileId: string
  size: number
  /** When a peer last fetched a chunk of it from us (or when we took it on). */
  lastWantedAt: number
  /** Still being fetched: not let go for another. */
  fetching: boolean
}

/** A file with this many complete copies is left to the swarm. */
export const ENOUGH_COPIES = 3

export type KeepPlan = { fetch: string; evict: string[] } | undefined

/** What to let go of, least recently wanted first, when the space was made smaller than what is held. */
export function overSpace(space: number, held: KeptFile[]): string[] {
  let used = held.reduce((sum, file) => sum + file.size, 0)
  const evict: string[] = []
  for (const file of [...held].sort((a, b) => a.lastWantedAt - b.lastWantedAt)) {
    if (used <= space) break
    evict.push(file.fileId)
    used -= file.size
  }
  return evict
}

/**
 * The next file to take on, and which held files to let go first to make room (least recently
 * wanted first), or undefined. One fetch at a time. A held file is let go for another only if it
 * would still have more complete copies than the new one has now (so two keepers, or one keeper
 * and two files, do not trade places back and forth).
 */
export function planKeeping(space: number, held: KeptFile[], wanted: WantedFile[]): KeepPlan {
  if (held.some((file) => file.fetching)) return undefined
  const heldIds = new Set(held.map((file) => file.fileId))
  const copiesOf = new Map(wanted.map((file) => [file.fileId, file.copies]))
  const used = held.reduce((sum, file) => sum + file.size, 0)
  for (const candidate of [...wanted].sort(byNeed)) {
    if (heldIds.has(candidate.fileId) || candidate.copies >= ENOUGH_COPIES || candidate.size > space) continue
    if (used + candidate.size <= space) return { fetch: candidate.fileId, evict: [] }
    const evictable = held
      .filter((file) => (copiesOf.get(file.fileId) ?? 0) - 1 > candidate.copies)
      .sort((a, b) => a.lastWantedAt - b.lastWantedAt)
    const evict: string[] = []
    let free = space - used
    for (const file of evictable) {
      if (free >= candidate.size) break
      evict.push(file.fileId)
      free += file.size
    }
    if (free >= candidate.size) return { fetch: candidate.fileId, evict }
  }
  return undefined
}
