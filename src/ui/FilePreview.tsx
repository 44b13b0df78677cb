import { useEffect, useState } from 'preact/hooks'
import { previewOf, previewsWhileArriving, visibleName, type EngineApi, type StreamSupport, type TransferView } from '../engine/api'
import { streamUrl } from '../protocol/links'

/** A text preview shows at most this much of the file. */
const TEXT_PREVIEW_BYTES = 64 * 1024

const UNAVAILABLE: Record<Exclude<StreamSupport, 'ready' | 'starting'>, string> = {
  'no-service-worker':
    'This browser cannot show files while they arrive (it gives this page no Service Worker, as some private windows and settings do): save the file when it is complete, then open it.',
  failed:
    'Showing files while they arrive did not start in this browser (its Service Worker failed): save the file when it is complete, then open it.',
}

/** What of a file (or of one file of its bundle, by `path`) this page may show; undefined for none. */
export function previewable(view: TransferView, path?: string) {
  if (view.kept || view.total === 0 || view.state === 'error' || view.state === 'hashing') return undefined
  const file = path === undefined ? { name: view.name, type: view.type } : { name: path, type: '' }
  const { kind } = previewOf(file.type, file.name)
  if (!kind || (!previewsWhileArriving(kind) && !view.complete)) return undefined
  return kind
}

/**
 * The file itself in the page, from this browser's copy through the Service Worker: a player that
 * plays while the file arrives (and asks for what it plays next first), an image drawn as it
 * arrives, a PDF or the start of a text when complete. Nothing in the file runs.
 */
export function FilePreview({
  app,
  view,
  streaming,
  path,
}: {
  app: EngineApi
  view: TransferView
  streaming: StreamSupport
  path?: string
}) {
  const kind = previewable(view, path)
  // A PDF viewer is heavy: a single PDF opens in the page when asked (a bundle's "Show" is the asking).
  const [pdfAsked, setPdfAsked] = useState(false)
  if (!kind || streaming === 'starting') return null
  if (streaming !== 'ready') {
    return (
      <p class="muted preview-note" data-testid="preview-unavailable" data-reason={streaming}>
        {UNAVAILABLE[streaming]}
      </p>
    )
  }
  const src = streamUrl(view.fileId, path)
  const title = visibleName(path ?? view.name)
  if (kind === 'pdf' && path === undefined && !pdfAsked) {
    return (
      <p class="preview" data-testid="preview" data-kind="pdf" data-path="">
        <button type="button" data-testid="preview-open" onClick={() => setPdfAsked(true)}>
          Show the PDF here
        </button>
      </p>
    )
  }
  return (
    <div class="preview" data-testid="preview" data-kind={kind} data-path={path ?? ''}>
      {kind === 'video' || kind === 'audio' ? (
        <Player app={app} fileId={view.fileId} path={path} src={src} kind={kind} title={title} key={src} />
      ) : kind === 'image' ? (
        <img src={src} alt={title} key={src} />
      ) : kind === 'pdf' ? (
        <iframe src={src} title={title} key={src} />
      ) : (
        <TextPreview src={src} size={path === undefined ? view.size : view.files?.find((file) => file.path === path)?.size} key={src} />
      )}
    </div>
  )
}

function Player({
  app,
  fileId,
  path,
  src,
  kind,
  title,
}: {
  app: EngineApi
  fileId: string
  path: string | undefined
  src: string
  kind: 'video' | 'audio'
  title: string
}) {
  const [failed, setFailed] = useState(false)
  const Media = kind
  return (
    <>
      <Media
        data-testid="player"
        controls
        preload="auto"
        src={src}
        aria-label={`Play ${title}`}
        onLoadedMetadata={(event) => {
          const { duration } = event.currentTarget
          if (Number.isFinite(duration) && duration > 0) app.mediaDuration(fileId, duration, path)
        }}
        onError={() => setFailed(true)}
      />
      {failed && (
        <p class="error" role="alert" data-testid="player-error">
          This browser cannot play “{title}” (its format, or a part that could not be read): save the file and open it with a player.
        </p>
      )}
    </>
  )
}

function TextPreview({ src, size }: { src: string; size: number | undefined }) {
  const [text, setText] = useState<string | undefined>(undefined)
  const [problem, setProblem] = useState('')
  useEffect(() => {
    const abort = new AbortController()
    fetch(src, { headers: { Range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` }, signal: abort.signal })
      .then(async (response) => {
        if (response.status === 416) return setText('') // an empty file: no byte to ask for
        if (!response.ok) throw new Error(await response.text())
        setText(new TextDecoder().decode(await response.arrayBuffer()))
      })
      .catch((error: unknown) => {
        if (!abort.signal.aborted) setProblem(`The text could not be read: ${(error as Error)?.message ?? String(error)}`)
      })
    return () => abort.abort()
  }, [src])
  if (problem) return <p class="error">{problem}</p>
  if (text === undefined) return <p class="muted">Reading…</p>
  return (
    <>
      <pre class="text-preview">{text || '(This file is empty.)'}</pre>
      {size !== undefined && size > TEXT_PREVIEW_BYTES && <p class="muted">The first 64 KiB are shown; save the file to read it all.</p>}
    </>
  )
}
