import { useEffect } from 'preact/hooks'
import type { EngineApi, ClientSnapshot, TransferView } from '../engine/api'
import { TransferPanel } from './TransferPanel'

function placeholder(fileId: string): TransferView {
  return {
    fileId,
    role: 'downloaded',
    name: '',
    size: 0,
    chunkSize: 0,
    secret: undefined,
    state: 'locating',
    notice: undefined,
    have: 0,
    total: 0,
    bytesDone: 0,
    downRate: 0,
    upRate: 0,
    bytesUp: 0,
    bytesDown: 0,
    etaSeconds: undefined,
    peers: [],
    addedAt: undefined,
    paused: false,
    complete: false,
    kept: false,
    files: undefined,
  }
}

export function TransferPage({
  app,
  snapshot,
  fileId,
  secret,
}: {
  app: EngineApi
  snapshot: ClientSnapshot
  fileId: string
  secret: string | undefined
}) {
  useEffect(() => {
    void app.open(fileId, secret)
  }, [app, fileId, secret])
  const view = snapshot.transfers.get(fileId) ?? placeholder(fileId)
  return (
    <main class="transfer-page">
      <p>
        <a href="#/">← Share your own file</a>
      </p>
      <TransferPanel view={view} app={app} />
    </main>
  )
}
