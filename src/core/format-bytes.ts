const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** Decimal units, as operating systems show file sizes. */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`
}

const MULTIPLIERS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
}

/** "20GB", "500 KiB", "1.5m", "250000" → bytes (rounded); undefined when it is not an amount of bytes. */
export function parseBytes(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text.trim().toLowerCase())
  const multiplier = match ? MULTIPLIERS[match[2]!] : undefined
  return match && multiplier !== undefined ? Math.round(Number(match[1]) * multiplier) : undefined
}
