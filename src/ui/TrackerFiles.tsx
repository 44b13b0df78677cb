import { useEffect, useState } from 'preact/hooks'
import type { EngineApi, TrackerFilePage } from '../engine/api'
import type { TrackerStatus } from '../engine/api'
import { formatBytes, percent, visibleName } from './format'
import { fileFragment } from '../protocol/links'

/** How often the home page refreshes the tracker's file list. */
const REFRESH_MS = 5_000

/** Every file shared on this tracker right now, from the tracker's `list`. */
export function TrackerFiles({ app, tracker }: { app: EngineApi; tracker: TrackerStatus }) {
  const [list, setList] = useState<TrackerFilePage>()
  const [failed, setFailed] = useState(false)
  useEffect(() => {
    if (tracker !== 'online') return
    let current = true
    const refresh = () =>
      app.listFiles().then(
        (page) => {
          if (!current) return
          setList({ ...page, files: [...page.files].sort((a, b) => b.peers - a.peers || a.name.localeCompare(b.name)) })
          setFailed(false)
        },
        () => current && setFailed(true),
      )
    void refresh()
    const timer = setInterval(refresh, REFRESH_MS)
    return () => {
      current = false
      clearInterval(timer)
    }
  }, [app, tracker])
  return (
    <section class="tracker-files" aria-labelledby="tracker-files-title">
      <h2 id="tracker-files-title">Shared on this tracker now</h2>
      {tracker !== 'online' ? (
        <p class="muted">The list appears once this page is connected to the tracker.</p>
      ) : failed ? (
        <p class="muted">The tracker did not send its list; it is asked again every few seconds.</p>
      ) : list === undefined ? (
        <p class="muted">Asking the tracker…</p>
      ) : list.files.length === 0 ? (
        <p class="muted" data-testid="tracker-files-empty">
          Nobody is sharing a file on this tracker right now.
        </p>
      ) : (
        <ul class="library-list" data-testid="tracker-files" data-total={list.total}>
          {list.files.map((file) => (
            <li
              key={file.fileId}
              class="library-item"
              data-testid="tracker-file"
              data-file-id={file.fileId}
              data-peers={file.peers}
              data-seeders={file.seeders}
              data-availability={file.availability}
            >
              <div class="library-main">
                <a href={fileFragment(file.fileId)} class="file-name">
                  {visibleName(file.name)}
                </a>
                <span class="muted">
                  {formatBytes(file.size)} · {file.peers} {file.peers === 1 ? 'peer' : 'peers'} ({file.seeders} with every chunk) ·{' '}
                  {percent(file.availability * file.chunkCount, file.chunkCount)}% available
                </span>
              </div>
              <div class="row-actions">
                <a class="button-link" href={fileFragment(file.fileId, 'swarm')}>
                  Swarm view
                </a>
              </div>
            </li>
          ))}
          {list.total > list.files.length && (
            <li class="muted" data-testid="tracker-files-more">
              …and {list.total - list.files.length} more files shared by fewer peers.
            </li>
          )}
        </ul>
      )}
    </section>
  )
}
