// Page options read from the URL query, validated here once.
import { MAX_LANES_PER_MEMBER, parseRate } from '../engine/api'
import type { BandwidthLimits } from '../engine/api'

/** `?connectTimeout=5000`: give up on a WebRTC connection sooner or later than the default (ms). */
export function connectTimeoutFromUrl(params: URLSearchParams): number | undefined {
  const value = Number(params.get('connectTimeout'))
  return Number.isInteger(value) && value >= 1000 && value <= 120_000 ? value : undefined
}

/** `?up=2MB&down=500KB` in the page URL caps this tab (for classroom demos and benchmarks). */
export function limitsFromUrl(params: URLSearchParams): { ok: true; limits: BandwidthLimits } | { ok: false; message: string } {
  const up = parseRate(params.get('up') ?? '')
  const down = parseRate(params.get('down') ?? '')
  if (!up.ok) return { ok: false, message: `Ignored the upload limit in the address: ${up.message}` }
  if (!down.ok) return { ok: false, message: `Ignored the download limit in the address: ${down.message}` }
  return { ok: true, limits: { up: up.bytesPerSecond, down: down.bytesPerSecond } }
}

/** `?lanes=1` turns extra lanes off (peer connections per peer: 1 to 8, default 8), to compare or to test a peer without them. */
export function maxLanesFromUrl(params: URLSearchParams): number | undefined {
  const value = Number(params.get('lanes'))
  return Number.isInteger(value) && value >= 1 && value <= MAX_LANES_PER_MEMBER ? value : undefined
}

/** `?relay=1`: connect to peers only through a TURN relay (to test or demonstrate the relay path). */
export function relayOnlyFromUrl(params: URLSearchParams): boolean {
  return params.get('relay') === '1'
}
