import { useEffect, useState } from 'preact/hooks'
import type { ClientSnapshot, EngineApi } from '../engine/api'
import { parseFragment, shareLink as linkFor, type LinkRoute } from '../protocol/links'

/** Re-renders at most once per animation frame, however often the engine reports changes. */
export function useSnapshot(app: EngineApi): ClientSnapshot {
  const [snapshot, setSnapshot] = useState(() => app.snapshot())
  useEffect(() => {
    let frame = 0
    const unsubscribe = app.subscribe(() => {
      if (frame) return
      frame = requestAnimationFrame(() => {
        frame = 0
        setSnapshot(app.snapshot())
      })
    })
    setSnapshot(app.snapshot())
    return () => {
      unsubscribe()
      cancelAnimationFrame(frame)
    }
  }, [app])
  return snapshot
}

export function useRoute(): LinkRoute {
  const [route, setRoute] = useState(() => parseFragment(location.hash))
  useEffect(() => {
    const update = () => setRoute(parseFragment(location.hash))
    addEventListener('hashchange', update)
    return () => removeEventListener('hashchange', update)
  }, [])
  return route
}

/** The share link of a file on this page's origin. */
export function shareLink(fileId: string): string {
  return linkFor(location.origin, fileId)
}
