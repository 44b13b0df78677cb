import type { EngineApi, StorageNotice, StreamSupport } from '../engine/api'
import { useRoute, useSnapshot } from './hooks'
import { HomePage } from './HomePage'
import { TransferPage } from './TransferPage'
import { SwarmPage } from './SwarmPage'
import { PresentPage } from './PresentPage'
import { JoinPage } from './JoinPage'
import { LimitsPanel } from './LimitsPanel'
import { KeepingPanel } from './KeepingPanel'
import { useKeepOpenWhileStoring, useResumeAfterSleep, useRetryStorageWhenBack, useTitleProgress, useWakeLock } from './page-effects'

const TRACKER_LABEL = { online: 'Connected', connecting: 'Connecting…', offline: 'Offline, retrying' } as const

/**
 * `storageInMemoryOnly`: this browser gave no IndexedDB, so files last only while the tab is open;
 * `storage`: another tab holds up this one's storage, or took it over; `streaming`: whether files
 * can be played and previewed while they arrive.
 */
export function App({
  app,
  storageInMemoryOnly = false,
  storage,
  streaming = 'starting',
}: {
  app: EngineApi
  storageInMemoryOnly?: boolean
  storage?: StorageNotice | undefined
  streaming?: StreamSupport
}) {
  const snapshot = useSnapshot(app)
  const route = useRoute()
  useTitleProgress(snapshot)
  useWakeLock(snapshot)
  useKeepOpenWhileStoring(snapshot)
  const resuming = useResumeAfterSleep(app, snapshot)
  useRetryStorageWhenBack(app, snapshot)
  return (
    <div class={`app page-${route.page}`}>
      <header class="top-bar">
        <a class="brand" href="#/">
          TabSwarm
        </a>
        <span
          class={`tracker tracker-${snapshot.tracker}`}
          data-testid="tracker-status"
          data-status={snapshot.tracker}
          data-peer-id={snapshot.peerId ?? ''}
          role="status"
        >
          Tracker: {TRACKER_LABEL[snapshot.tracker]}
        </span>
      </header>
      {resuming && (
        <p class="banner" role="status" data-testid="resuming">
          The connections stopped while this page was in the background or the screen was off. Reconnecting now: the transfer goes on from
          the chunks already kept.
        </p>
      )}
      {storageInMemoryOnly && (
        <p class="banner" role="status" data-testid="storage-warning">
          This browser does not let the site keep files (no IndexedDB, as in some private windows): what you share or download lasts only
          while this tab is open.
        </p>
      )}
      {storage === 'upgrade-blocked' && (
        <p class="banner" role="status" data-testid="storage-blocked">
          TabSwarm was updated, and another TabSwarm tab in this browser still runs the older version. Reload or close that tab: this one
          opens your library as soon as it lets go.
        </p>
      )}
      {storage === 'superseded' && (
        <p class="banner" role="alert" data-testid="storage-superseded">
          TabSwarm was updated in another tab. Reload this tab to keep using your library here.
        </p>
      )}
      {route.page === 'home' && <HomePage app={app} snapshot={snapshot} />}
      {route.page === 'file' && (
        <TransferPage app={app} snapshot={snapshot} fileId={route.fileId} secret={route.secret} streaming={streaming} />
      )}
      {route.page === 'swarm' && (
        <SwarmPage app={app} fileId={route.fileId} myPeerId={snapshot.peerId} localName={snapshot.transfers.get(route.fileId)?.name} />
      )}
      {route.page === 'present' && <PresentPage app={app} fileId={route.fileId} snapshot={snapshot} />}
      {route.page === 'join' && <JoinPage app={app} route={route} tracker={snapshot.tracker} />}
      {route.page === 'bad-link' && (
        <main>
          <section class="transfer state-error" data-testid="transfer" data-file-id="" data-state="error" data-have="0" data-total="0">
            <h2>This link is not valid</h2>
            <p role="alert">
              A TabSwarm link ends in a 64-character file id. Ask the sender to copy the whole link again.{' '}
              <a href="#/">Share a file instead</a>
            </p>
          </section>
        </main>
      )}
      <footer class="footer">
        <LimitsPanel app={app} limits={snapshot.limits} />
        <KeepingPanel app={app} keeping={snapshot.keeping} />
      </footer>
    </div>
  )
}
