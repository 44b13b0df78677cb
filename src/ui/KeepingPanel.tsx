import { useState } from 'preact/hooks'
import { parseBytes, type EngineApi, type KeepingView } from '../engine/api'
import { formatBytes } from './format'
import { saveKeepingSpace } from './keeping-setting'
import { Alert } from './Alert'

/** Space this tab may donate to keep others' files available; off by default. */
export function KeepingPanel({ app, keeping }: { app: EngineApi; keeping: KeepingView | undefined }) {
  const [space, setSpace] = useState(keeping ? formatBytes(keeping.space).replace(' ', '') : '1GB')
  const [error, setError] = useState('')
  const apply = (on: boolean) => {
    const bytes = parseBytes(space)
    if (on && !bytes) return setError(`“${space}” is not a size: write a number with MB or GB, e.g. 2GB`)
    setError('')
    const donated = on ? bytes : undefined
    app.setKeeping(donated)
    saveKeepingSpace(donated)
  }
  const summary = keeping
    ? `Helping keep files available: ${keeping.files} ${keeping.files === 1 ? 'file' : 'files'}, ${formatBytes(keeping.used)} of ${formatBytes(keeping.space)}`
    : 'Help keep files available: off'
  return (
    <details class="limits" data-testid="keeping" data-on={keeping ? 'true' : 'false'}>
      <summary>{summary}</summary>
      <form
        onSubmit={(event) => {
          event.preventDefault()
          apply(true)
        }}
      >
        <label>
          Space to donate
          <input data-testid="keeping-space" value={space} placeholder="e.g. 2GB" onInput={(e) => setSpace(e.currentTarget.value)} />
        </label>
        <button type="submit" data-testid="keeping-start">
          {keeping ? 'Change' : 'Start keeping'}
        </button>
        {keeping && (
          <button type="button" data-testid="keeping-stop" onClick={() => apply(false)}>
            Stop
          </button>
        )}
        <p class="muted small">
          While this tab is open, the tracker points it at files with the fewest copies (listed ones, and private ones their sharer opened
          to keepers); it holds them encrypted where they are private, and cannot read those. What it holds is in your library.
        </p>
        <Alert text={error} />
      </form>
    </details>
  )
}
