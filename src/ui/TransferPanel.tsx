import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { safeFileName, type EngineApi, type PeerView, type TransferView } from '../engine/api'
import { noticeSentence } from './sentences'
import { formatBytes, formatDuration, formatRate, percent, visibleName } from './format'
import { PieceLegend, PieceMapCanvas } from './PieceMapCanvas'
import { peerColour } from './peer-colour'
import { fileFragment } from '../protocol/links'
import { Alert } from './Alert'
import { previewable } from './FilePreview'

function sentence(view: TransferView): string {
  const connected = view.peers.filter((peer) => peer.status === 'connected').length
  switch (view.state) {
    case 'hashing':
      return 'Preparing the file…'
    case 'seeding':
      return connected > 0
        ? `Sharing with ${connected} ${connected === 1 ? 'peer' : 'peers'}. Keep this tab open while others download.`
        : 'Ready to share. Keep this tab open while others download.'
    case 'locating':
      return 'Looking for peers that have this file…'
    case 'downloading': {
      if (connected === 0) {
        const failed = view.peers.find((peer) => peer.status === 'skipped')
        return failed ? `Connecting to peers… (one could not be reached: ${failed.reason})` : 'Connecting to peers…'
      }
      const left = view.total - view.have
      const relayed = view.notice ? ` ${noticeSentence(view.notice)}` : ''
      return `Downloading from ${connected} ${connected === 1 ? 'peer' : 'peers'}: ${left} ${left === 1 ? 'chunk' : 'chunks'} to go.${relayed}`
    }
    case 'complete':
      return 'Done: every chunk is verified and stored in this browser, which now shares it too.'
    case 'stalled':
    case 'paused':
    case 'error':
      return view.notice ? noticeSentence(view.notice) : ''
  }
}

function bytesLabel(view: TransferView): string {
  if (view.state === 'hashing') return 'Hashed'
  if (view.state === 'seeding') return 'Size'
  return 'Verified'
}

/** A sentence for a failed save, with what to do next; the exception itself goes to the console. */
function saveFailure(error: unknown): string {
  console.warn('Saving failed', error)
  const name = (error as Error | undefined)?.name
  if (name === 'QuotaExceededError') return 'Could not save the file: the disk is full. Free some space and save again.'
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Could not save the file: the browser did not allow writing there. Choose another folder, or use the Save button.'
  }
  // The app's own errors (plain Error, StoreError) already read as sentences.
  if (name === 'StoreError' || name === 'Error') return `Could not save the file. ${(error as Error).message}`
  return 'Could not save the file. Try again; if it keeps failing, reload the page and save it from your library.'
}

async function saveToDisk(get: () => Promise<{ blob: Blob; name: string }>): Promise<void> {
  const { blob, name } = await get()
  const url = URL.createObjectURL(blob)
  const anchor = document.createElement('a')
  anchor.href = url
  anchor.download = name
  anchor.rel = 'noopener'
  document.body.append(anchor)
  anchor.click()
  anchor.remove()
  // The download has started from the URL; it only needs to outlive the click.
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

interface SaveFilePickerWindow {
  showSaveFilePicker(options: { suggestedName: string }): Promise<{ createWritable(): Promise<unknown> }>
}

const canPickFolder = () => typeof (window as unknown as Partial<SaveFilePickerWindow>).showSaveFilePicker === 'function'

type Writable = { write(data: Blob): Promise<void>; close(): Promise<void>; abort(): Promise<void> }

/** Writes to a file the user picks (File System Access API): a Blob from disk to disk, a zip as it is made. */
async function saveToFolder(name: string, write: (writable: Writable & WritableStream) => Promise<void>): Promise<void> {
  const picker = window as unknown as SaveFilePickerWindow
  let handle
  try {
    handle = await picker.showSaveFilePicker({ suggestedName: name })
  } catch (error) {
    if ((error as Error).name === 'AbortError') return // the user closed the picker
    throw error
  }
  const writable = (await handle.createWritable()) as Writable & WritableStream
  try {
    await write(writable)
  } catch (error) {
    await writable.abort().catch(() => undefined)
    throw error
  }
}

/** The whole item as a Blob for a plain download: the file, or a bundle's zip. */
function wholeForDownload(app: EngineApi, view: TransferView): () => Promise<{ blob: Blob; name: string }> {
  if (!view.files) return () => app.fileForSaving(view.fileId)
  return async () => {
    const { zip, name } = await app.zipForSaving(view.fileId)
    return { blob: await zip.blob(), name }
  }
}

/** The whole item into a picked file: a Blob written at once, or a bundle's zip streamed. */
function wholeToFolder(app: EngineApi, view: TransferView): () => Promise<void> {
  if (!view.files) {
    return () =>
      saveToFolder(safeFileName(view.name), async (writable) => {
        const { blob } = await app.fileForSaving(view.fileId)
        await writable.write(blob)
        await writable.close()
      })
  }
  return () =>
    saveToFolder(`${safeFileName(view.name)}.zip`, async (writable) => {
      const { zip } = await app.zipForSaving(view.fileId)
      await zip.body!.pipeTo(writable) // closes the file when the zip ends
    })
}

/**
 * `named: false` when a card around it already shows the file's name; `children` (a preview) go
 * under the status line; `onPreview` offers each file of a bundle that can be shown.
 */
export function TransferPanel({
  view,
  app,
  named = true,
  children,
  onPreview,
  previewing,
}: {
  view: TransferView
  app: EngineApi
  named?: boolean
  children?: ComponentChildren
  onPreview?: (path: string) => void
  /** The bundle file shown now. */
  previewing?: string | undefined
}) {
  const [saveError, setSaveError] = useState('')
  const done = view.state === 'hashing' ? view.have : view.bytesDone
  const total = view.state === 'hashing' ? view.total : view.size
  const known = view.state === 'hashing' || view.total > 0 || view.state === 'complete' || view.state === 'seeding'
  const pct = view.state === 'seeding' || view.state === 'complete' ? 100 : known ? percent(done, total) : 0
  const shownName = visibleName(view.name)
  const label = `${shownName || 'File'}: ${pct}%`
  const pieces = view.fileId ? app.pieceMap(view.fileId) : undefined
  return (
    <section
      class={`transfer state-${view.state}`}
      data-testid="transfer"
      data-file-id={view.fileId}
      data-state={view.state}
      data-notice={view.notice?.kind ?? ''}
      data-have={view.have}
      data-total={view.total}
      data-bytes-up={view.bytesUp}
      data-bytes-down={view.bytesDown}
      aria-label={`Transfer of ${shownName || 'a file'}`}
    >
      <div class="transfer-head">
        {named ? (
          <h2 class="file-name">{shownName || (view.state === 'error' ? 'File not available' : 'Looking up the file…')}</h2>
        ) : (
          <span class="muted">Sharing from this tab</span>
        )}
        <span class={`badge badge-${view.state}`}>{view.state}</span>
      </div>
      <div class="progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
        <div class="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <p class="status-line" role="status" data-testid="transfer-message">
        {sentence(view)}
      </p>
      {children}
      {known && (
        <dl class="stats">
          <div>
            <dt>{bytesLabel(view)}</dt>
            <dd data-testid="bytes-done">
              {view.state === 'hashing'
                ? `${view.have} / ${view.total} chunks`
                : view.state === 'seeding'
                  ? formatBytes(view.size)
                  : `${formatBytes(view.bytesDone)} of ${formatBytes(view.size)}`}
            </dd>
          </div>
          <div>
            <dt>Chunks</dt>
            <dd>
              {view.have} / {view.total}
            </dd>
          </div>
          <div>
            <dt>Download</dt>
            <dd data-testid="down-rate">{formatRate(view.downRate)}</dd>
          </div>
          <div>
            <dt>Upload</dt>
            <dd data-testid="up-rate">{formatRate(view.upRate)}</dd>
          </div>
          {view.etaSeconds !== undefined && (
            <div>
              <dt>Time left</dt>
              <dd>{formatDuration(view.etaSeconds)}</dd>
            </div>
          )}
        </dl>
      )}
      {pieces && pieces.cells.length > 0 && view.state !== 'hashing' && (
        <div class="piece-map-box">
          <PieceMapCanvas map={pieces} label={`Chunks of ${shownName}`} />
          <PieceLegend />
        </div>
      )}
      {view.peers.length > 0 && (
        <div class="table-scroll">
          <table class="peers">
            <caption>Peers</caption>
            <thead>
              <tr>
                <th scope="col">Peer</th>
                <th scope="col">Status</th>
                <th scope="col">RTT</th>
                <th scope="col">Received</th>
                <th scope="col">Sent</th>
              </tr>
            </thead>
            <tbody>
              {view.peers.map((peer) => (
                <tr
                  key={peer.peerId}
                  data-testid="peer"
                  data-peer-id={peer.peerId}
                  data-rtt-ms={peer.rttMs ?? ''}
                  data-bytes-down={peer.bytesDown}
                  data-bytes-up={peer.bytesUp}
                  data-status={peer.status}
                  data-reason={peer.reason ?? ''}
                  data-route={peer.route ?? ''}
                  data-path={peer.path ?? ''}
                  data-lanes={peer.lanes}
                  data-upload-cap={peer.uploadCap ?? ''}
                >
                  <td class="mono">
                    <span class="swatch" style={{ background: peerColour(peer.peerId) }} aria-hidden="true" />
                    {peer.peerId.slice(0, 8)}
                  </td>
                  <td>
                    {peer.status === 'skipped' ? `skipped: ${peer.reason}` : peer.status}
                    {peer.status === 'connected' && <span class="muted">{linkNote(peer)}</span>}
                  </td>
                  <td>{peer.rttMs === undefined ? '–' : `${peer.rttMs} ms`}</td>
                  <td>
                    {formatBytes(peer.bytesDown)} <span class="muted">({formatRate(peer.downRate)})</span>
                  </td>
                  <td>
                    {formatBytes(peer.bytesUp)} <span class="muted">({formatRate(peer.upRate)})</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {view.files && (
        <div class="table-scroll">
          <table class="peers bundle">
            <caption>
              {view.files.length} {view.files.length === 1 ? 'file' : 'files'}
            </caption>
            <tbody>
              {view.files.map((file) => (
                <tr key={file.path} data-testid="bundle-file" data-path={file.path} data-size={file.size}>
                  <td class="file-name">{visibleName(file.path)}</td>
                  <td>{formatBytes(file.size)}</td>
                  <td>
                    {onPreview && previewable(view, file.path) && (
                      <button
                        type="button"
                        data-testid="preview-file-button"
                        aria-label={`Show ${visibleName(file.path)}`}
                        aria-pressed={previewing === file.path}
                        onClick={() => onPreview(file.path)}
                      >
                        Show
                      </button>
                    )}{' '}
                    {view.state === 'complete' && (
                      <button
                        type="button"
                        data-testid="save-file-button"
                        aria-label={`Save ${visibleName(file.path)}`}
                        onClick={() => {
                          setSaveError('')
                          saveToDisk(() => app.fileForSaving(view.fileId, file.path)).catch((error: unknown) =>
                            setSaveError(saveFailure(error)),
                          )
                        }}
                      >
                        Save
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="actions">
        {view.state === 'complete' && (
          <button
            type="button"
            class="primary"
            data-testid="save-button"
            onClick={() => {
              setSaveError('')
              saveToDisk(wholeForDownload(app, view)).catch((error: unknown) => setSaveError(saveFailure(error)))
            }}
          >
            {view.files ? `Save all as “${shownName}.zip”` : `Save “${shownName}”`}
          </button>
        )}
        {view.state === 'complete' && canPickFolder() && (
          <button
            type="button"
            data-testid="save-to-folder-button"
            onClick={() => {
              setSaveError('')
              wholeToFolder(app, view)().catch((error: unknown) => setSaveError(saveFailure(error)))
            }}
          >
            Save to folder…
          </button>
        )}
        {view.state === 'paused' && (
          <button type="button" class="primary" data-testid="resume-button" onClick={() => void app.resume(view.fileId)}>
            {view.notice?.kind === 'private-window' ? 'Download anyway' : 'Resume'}
          </button>
        )}
        {(view.state === 'downloading' || view.state === 'stalled') && (
          <button type="button" data-testid="pause-button" onClick={() => void app.pause(view.fileId)}>
            Pause
          </button>
        )}
        {view.state === 'error' && view.fileId && (
          <button type="button" onClick={() => app.retry(view.fileId)}>
            Try again
          </button>
        )}
        {view.fileId && view.total > 0 && (
          <a class="button-link" href={fileFragment(view.fileId, 'swarm')} data-testid="swarm-view-link">
            Swarm view
          </a>
        )}
        {view.fileId && view.complete && (
          <a class="button-link" href={fileFragment(view.fileId, 'present')} data-testid="present-link">
            Present to a room
          </a>
        )}
      </div>
      <Alert text={saveError} />
    </section>
  )
}

/** How a connected peer is reached: its route, its lanes when it has more than one, and its upload cap if it said one. */
function linkNote(peer: PeerView): string {
  const way = peer.path === 'server' ? 'relayed through the server' : peer.route
  const parts = [
    way,
    peer.lanes > 1 ? `${peer.lanes} lanes` : undefined,
    peer.uploadCap === undefined ? undefined : `upload capped at about ${formatRate(peer.uploadCap)}`,
  ].filter(Boolean)
  return parts.length > 0 ? ` (${parts.join(', ')})` : ''
}
