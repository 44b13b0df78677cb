// Upload slots per file: serve a bounded number of peers at once, chosen by how fast data flows
// with them, plus one optimistic slot that rotates so newcomers get their first chunks. Pure.

export const REGULAR_UPLOAD_SLOTS = 4
export const RECHOKE_INTERVAL_MS = 10_000
export const OPTIMISTIC_ROTATION_MS = 30_000
/** Peers connected for less than this get three chances in the optimistic draw. */
export const NEWCOMER_MS = 60_000

export interface UploadCandidate {
  id: string
  /** The peer lacks something we hold. */
  interested: boolean
  /** While downloading: what the peer gives us (tit for tat). While seeding: what we give it. */
  rate: number
  connectedAt: number
}

export interface ChokeDecision {
  unchoked: Set<string>
  optimistic: string | undefined
  optimisticSince: number
}

export function decideUnchoked(
  candidates: UploadCandidate[],
  previous: { optimistic: string | undefined; optimisticSince: number },
  now: number,
  random: () => number,
): ChokeDecision {
  const interested = candidates.filter((c) => c.interested)
  const regular = [...interested].sort((a, b) => b.rate - a.rate || a.connectedAt - b.connectedAt).slice(0, REGULAR_UPLOAD_SLOTS)
  const unchoked = new Set(regular.map((c) => c.id))
  const rest = interested.filter((c) => !unchoked.has(c.id))
  let optimistic = previous.optimistic
  let optimisticSince = previous.optimisticSince
  const keep = optimistic !== undefined && rest.some((c) => c.id === optimistic) && now - optimisticSince < OPTIMISTIC_ROTATION_MS
  if (!keep) {
    const draw = rest.flatMap((c) => (now - c.connectedAt < NEWCOMER_MS ? [c, c, c] : [c]))
    optimistic = draw.length > 0 ? draw[Math.floor(random() * draw.length)]!.id : undefined
    optimisticSince = now
  }
  if (optimistic !== undefined) unchoked.add(optimistic)
  return { unchoked, optimistic, optimisticSince }
}
