import { utf8Length } from '../src/protocol/encoding'
import { MAX_TRACKER_FRAME_BYTES, type ServerMessage } from '../src/protocol/tracker'

/** Room kept in every frame for what is added after sizing (a request id). */
const FRAME_MARGIN_BYTES = 64

/**
 * The leading items of `items` that fit, with `base`, in one frame under the clients' cap (UTF-8
 * bytes), `max` at most, in `budgetBytes` when less. `base` is the message with its list empty: every reply that carries a list
 * of unbounded size is built with this, so no frame the server sends can exceed the cap.
 */
export function fitting<T>(base: ServerMessage, items: readonly T[], max: number, budgetBytes = MAX_TRACKER_FRAME_BYTES): T[] {
  let bytes = utf8Length(JSON.stringify(base)) + FRAME_MARGIN_BYTES
  const kept: T[] = []
  for (const item of items) {
    if (kept.length >= max) break
    const size = utf8Length(JSON.stringify(item)) + (kept.length > 0 ? 1 : 0)
    if (bytes + size > budgetBytes) break
    bytes += size
    kept.push(item)
  }
  return kept
}

/** A random order (Fisher–Yates), so that capped lists of a big swarm spread load over its members. */
export function shuffled<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
