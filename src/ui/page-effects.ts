import { useEffect, useRef, useState } from 'preact/hooks'
import type { ClientSnapshot, EngineApi } from '../engine/api'
import { percent, visibleName } from './format'

const BASE_TITLE = 'TabSwarm'

/** The page title shows the progress of active downloads, so it reads from another tab. */
export function useTitleProgress(snapshot: ClientSnapshot): void {
  const active = [...snapshot.transfers.values()].filter((view) => view.state === 'downloading' || view.state === 'stalled')
  let done = 0
  let total = 0
  for (const view of active) {
    done += view.bytesDone
    total += view.size
  }
  const title =
    active.length === 0
      ? BASE_TITLE
      : `${percent(done, total)}% · ${active.length === 1 ? visibleName(active[0]!.name) : `${active.length} downloads`} — ${BASE_TITLE}`
  useEffect(() => {
    document.title = title
  }, [title])
}

/** Keeps the screen awake while files move, where the browser supports it, so a laptop does not sleep mid-transfer. */
export function useWakeLock(snapshot: ClientSnapshot): void {
  const busy = [...snapshot.transfers.values()].some(
    (view) => view.state === 'downloading' || (view.state !== 'paused' && view.peers.some((peer) => peer.upRate > 0)),
  )
  useEffect(() => {
    if (!busy || !('wakeLock' in navigator)) return
    let lock: WakeLockSentinel | undefined
    let released = false
    const acquire = () => {
      if (document.visibilityState !== 'visible' || released) return
      navigator.wakeLock.request('screen').then(
        (sentinel) => {
          if (released) void sentinel.release()
          else lock = sentinel
        },
        () => undefined, // refused (battery saver, policy): transfers go on regardless
      )
    }
    acquire()
    // The browser drops the lock when the tab is hidden; take it again on return.
    document.addEventListener('visibilitychange', acquire)
    return () => {
      released = true
      document.removeEventListener('visibilitychange', acquire)
      void lock?.release()
    }
  }, [busy])
}

/**
 * A phone's screen lock (or a tab left in the background) suspends the page and its connections.
 * When the page is visible again with a transfer unfinished and the tracker or its peers gone,
 * it reconnects at once and says so; the message goes once the tracker is back and files move.
 */
export function useResumeAfterSleep(app: EngineApi, snapshot: ClientSnapshot): boolean {
  const [resuming, setResuming] = useState(false)
  const unfinished = [...snapshot.transfers.values()].some((view) => !view.complete && !view.paused && view.state !== 'error')
  const interrupted =
    snapshot.tracker !== 'online' || [...snapshot.transfers.values()].some((view) => view.state === 'stalled' || view.state === 'locating')
  const latest = useRef({ unfinished, interrupted })
  latest.current = { unfinished, interrupted }
  const hiddenWithWork = useRef(false)
  useEffect(() => {
    const changed = () => {
      if (document.visibilityState === 'hidden') {
        hiddenWithWork.current = latest.current.unfinished
        return
      }
      if (hiddenWithWork.current && latest.current.interrupted) {
        setResuming(true)
        app.wake()
      }
      hiddenWithWork.current = false
    }
    document.addEventListener('visibilitychange', changed)
    return () => document.removeEventListener('visibilitychange', changed)
  }, [app])
  useEffect(() => {
    if (resuming && !interrupted) setResuming(false)
  }, [resuming, interrupted])
  return resuming
}

/** While a shared file is still being copied into storage, leaving the page asks first (the copy would stop half done). */
export function useKeepOpenWhileStoring(snapshot: ClientSnapshot): void {
  const storing = snapshot.shares.some((job) => job.fileId && !job.error && job.stored < job.total)
  useEffect(() => {
    if (!storing) return
    const ask = (event: BeforeUnloadEvent) => event.preventDefault()
    addEventListener('beforeunload', ask)
    return () => removeEventListener('beforeunload', ask)
  }, [storing])
}

/** A download paused because storage was full tries again when the page is back in focus (space may have been freed meanwhile). */
export function useRetryStorageWhenBack(app: EngineApi, snapshot: ClientSnapshot): void {
  const waiting = [...snapshot.transfers.values()].some((view) => view.notice?.kind === 'storage-paused')
  useEffect(() => {
    if (!waiting) return
    const back = () => document.visibilityState === 'visible' && app.wake()
    addEventListener('focus', back)
    document.addEventListener('visibilitychange', back)
    return () => {
      removeEventListener('focus', back)
      document.removeEventListener('visibilitychange', back)
    }
  }, [app, waiting])
}
