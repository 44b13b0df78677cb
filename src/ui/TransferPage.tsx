import { useEffect, useRef, useState } from 'preact/hooks'
import { blankTransferView, type EngineApi, type ClientSnapshot, type StreamSupport, type TransferView } from '../engine/api'
import { TransferPanel } from './TransferPanel'
import { FilePreview } from './FilePreview'

function placeholder(fileId: string): TransferView {
  return blankTransferView(fileId, 'downloaded')
}

export function TransferPage({
  app,
  snapshot,
  fileId,
  secret,
  streaming,
}: {
  app: EngineApi
  snapshot: ClientSnapshot
  fileId: string
  secret: string | undefined
  streaming: StreamSupport
}) {
  useEffect(() => {
    void app.open(fileId, secret)
  }, [app, fileId, secret])
  // Which file of a bundle is shown (a single file shows itself).
  const [shown, setShown] = useState<string | undefined>(undefined)
  const previewBox = useRef<HTMLDivElement>(null)
  // "Show" sits below the preview, often far below in a long bundle: bring the preview into view.
  useEffect(() => {
    if (shown !== undefined) previewBox.current?.scrollIntoView({ block: 'nearest' })
  }, [shown])
  const view = snapshot.transfers.get(fileId) ?? placeholder(fileId)
  return (
    <main class="transfer-page">
      <p>
        <a href="#/">← Share your own file</a>
      </p>
      <TransferPanel view={view} app={app} onPreview={setShown} previewing={shown}>
        <div ref={previewBox}>
          {(!view.files || shown !== undefined) && (
            <FilePreview app={app} view={view} streaming={streaming} path={view.files ? shown : undefined} />
          )}
        </div>
      </TransferPanel>
    </main>
  )
}
