import { useState } from 'preact/hooks'
import { parseRate } from '../engine/api'
import type { EngineApi, BandwidthLimits } from '../engine/api'
import { formatRate } from './format'
import { Alert } from './Alert'

const show = (rate: number | undefined) => (rate ? formatRate(rate).replace('/s', '') : '')

/** Speed limits for this tab, off by default. */
export function LimitsPanel({ app, limits }: { app: EngineApi; limits: BandwidthLimits }) {
  const [up, setUp] = useState(show(limits.up))
  const [down, setDown] = useState(show(limits.down))
  const [error, setError] = useState('')
  const summary =
    limits.up || limits.down
      ? `Speed limits: ${limits.up ? `up ${formatRate(limits.up)}` : 'up unlimited'}, ${limits.down ? `down ${formatRate(limits.down)}` : 'down unlimited'}`
      : 'Speed limits: off'
  return (
    <details class="limits" data-testid="limits">
      <summary>{summary}</summary>
      <form
        onSubmit={(event) => {
          event.preventDefault()
          const parsedUp = parseRate(up)
          const parsedDown = parseRate(down)
          if (!parsedUp.ok) return setError(`Upload limit: ${parsedUp.message}`)
          if (!parsedDown.ok) return setError(`Download limit: ${parsedDown.message}`)
          setError('')
          app.setLimits({ up: parsedUp.bytesPerSecond, down: parsedDown.bytesPerSecond })
        }}
      >
        <label>
          Upload limit
          <input data-testid="limit-up" value={up} placeholder="e.g. 2MB" onInput={(e) => setUp(e.currentTarget.value)} />
        </label>
        <label>
          Download limit
          <input data-testid="limit-down" value={down} placeholder="e.g. 500KB" onInput={(e) => setDown(e.currentTarget.value)} />
        </label>
        <button type="submit">Apply</button>
        <p class="muted small">Per second, for this tab. Empty means no limit.</p>
        <Alert text={error} />
      </form>
    </details>
  )
}
