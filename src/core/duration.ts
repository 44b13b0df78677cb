// Durations as people type them on a command line. Pure.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** "90", "90s", "1.5m", "2h", "500ms" → milliseconds (a bare number is seconds); undefined if not a positive duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim().toLowerCase())
  if (!match) return undefined
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? 's']!
  return ms > 0 && Number.isFinite(ms) ? Math.round(ms) : undefined
}
