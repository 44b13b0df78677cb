import { useEffect } from 'preact/hooks'
import type { ClientSnapshot, TransferView } from '../engine/views'
import type { AppFacade } from './facade'
import { TransferPanel } from './TransferPanel'

function placeholder(fileId: string, snapshot: ClientSnapshot): TransferView {
  const offline = snapshot.tracker !== 'online'
  return {
    fileId,
    role: 'downloaded',
    name: '',
    size: 0,
    chunkSize: 0,
    state: 'locating',
    message: offline ? 'Connecting to the tracker…' : '',
    have: 0,
    total: 0,
    bytesDone: 0,
    downRate: 0,
    upRate: 0,
    bytesUp: 0,
    etaSeconds: undefined,
    peers: [],
    addedAt: undefined,
    paused: false,
    complete: false,
    files: undefined,
  }
}

export function TransferPage({ app, snapshot, fileId }: { app: AppFacade; snapshot: ClientSnapshot; fileId: string }) {
  useEffect(() => {
    void app.open(fileId)
  }, [app, fileId])
  const view = snapshot.transfers.get(fileId) ?? placeholder(fileId, snapshot)
  return (
    <main class="transfer-page">
      <p>
        <a href="#/">← Share your own file</a>
      </p>
      <TransferPanel view={view} app={app} />
    </main>
  )
}
