import { formatBytes, visibleName } from '../engine/api'

export { formatBytes, visibleName }

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`
}

export function percent(done: number, total: number): number {
  return total === 0 ? 100 : Math.floor((done / total) * 100)
}
