/** Compacts sorted indexes into ranges: [1,2,3,7] → "1–3, 7" (shown 1-based to people). */
export function describeChunkRanges(indexes: number[], maxRanges = 4): string {
  const ranges: [number, number][] = []
  for (const index of indexes) {
    const last = ranges[ranges.length - 1]
    if (last && index === last[1] + 1) last[1] = index
    else ranges.push([index, index])
  }
  const shown = ranges.slice(0, maxRanges).map(([a, b]) => (a === b ? `${a + 1}` : `${a + 1}–${b + 1}`))
  if (ranges.length > maxRanges) shown.push('…')
  return shown.join(', ')
}
