import { useEffect, useState } from 'preact/hooks'
import type { EngineApi, ClientSnapshot, TransferView } from '../engine/api'
import { formatBytes, percent, visibleName } from './format'
import { fileFragment } from '../protocol/links'

interface StorageFigures {
  usage: number
  quota: number
  persisted: boolean
}

/** What this site stores and may store; refreshed whenever the held chunks change. */
function useStorageFigures(snapshot: ClientSnapshot): StorageFigures | undefined {
  const [figures, setFigures] = useState<StorageFigures>()
  let held = 0
  for (const view of snapshot.transfers.values()) held += view.have
  const key = `${snapshot.transfers.size}:${held}`
  useEffect(() => {
    if (!navigator.storage?.estimate) return
    let current = true
    void Promise.all([navigator.storage.estimate(), navigator.storage.persisted?.() ?? false]).then(([estimate, persisted]) => {
      if (current) setFigures({ usage: estimate.usage ?? 0, quota: estimate.quota ?? 0, persisted })
    })
    return () => {
      current = false
    }
  }, [key])
  return figures
}

function Actions({ view, app }: { view: TransferView; app: EngineApi }) {
  const [confirming, setConfirming] = useState(false)
  const pauseLabel = view.complete ? (view.paused ? 'Share again' : 'Stop sharing') : view.paused ? 'Resume' : 'Pause'
  return (
    <div class="row-actions">
      {(view.complete || view.total > 0) && (
        <button
          type="button"
          data-testid={view.paused ? 'resume-button' : 'pause-button'}
          onClick={() => void (view.paused ? app.resume(view.fileId) : app.pause(view.fileId))}
        >
          {pauseLabel}
        </button>
      )}
      {confirming ? (
        <>
          <button type="button" class="danger" data-testid="remove-confirm" onClick={() => void app.remove(view.fileId)}>
            Delete from this browser
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </>
      ) : (
        <button type="button" data-testid="remove-button" onClick={() => setConfirming(true)}>
          Remove…
        </button>
      )}
    </div>
  )
}

/** Every file this browser holds, from IndexedDB: shared or downloaded, whole or in part. */
export function LibraryPanel({ app, snapshot }: { app: EngineApi; snapshot: ClientSnapshot }) {
  const storage = useStorageFigures(snapshot)
  const views = [...snapshot.transfers.values()].sort((a, b) => (b.addedAt ?? 0) - (a.addedAt ?? 0))
  return (
    <section class="library" aria-labelledby="library-title">
      <h2 id="library-title">Your files in this browser</h2>
      {storage && (
        <p class="muted" data-testid="storage" data-usage={storage.usage} data-quota={storage.quota}>
          Using {formatBytes(storage.usage)} of the {formatBytes(storage.quota)} this browser allows this site.
          {storage.persisted ? ' Stored persistently.' : ' The browser may clear it if the disk fills up.'}
        </p>
      )}
      {storage && !storage.persisted && views.length > 0 && (
        <p class="muted" data-testid="storage-eviction">
          Some browsers (Safari among them) also delete a site’s files after about a week without a visit. Open this page again now and
          then, or add it to your home screen, to keep these files and keep sharing them.
        </p>
      )}
      {views.length === 0 ? (
        <p class="muted">Files you share or download are kept here, and shared again whenever this page is open.</p>
      ) : (
        <ul class="library-list">
          {views.map((view) => (
            <li
              key={view.fileId}
              class="library-item"
              data-testid="library-item"
              data-file-id={view.fileId}
              data-role={view.role}
              data-kept={view.kept ? 'true' : 'false'}
              data-state={view.state}
              data-have={view.have}
              data-total={view.total}
            >
              <div class="library-main">
                <a href={fileFragment(view.fileId)} class="file-name">
                  {visibleName(view.name) || view.fileId.slice(0, 12)}
                </a>
                <span class="muted">
                  {formatBytes(view.size)} ·{' '}
                  {view.role === 'shared' ? 'shared from here' : view.kept ? 'kept for others, unread' : 'downloaded'} ·{' '}
                  {view.complete ? 'complete' : `${percent(view.have, view.total)}% (${view.have} of ${view.total} chunks)`}
                  {view.state === 'complete' ? '' : ` · ${view.state}`}
                  {view.addedAt ? ` · added ${new Date(view.addedAt).toLocaleDateString()}` : ''}
                </span>
              </div>
              <Actions view={view} app={app} />
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
