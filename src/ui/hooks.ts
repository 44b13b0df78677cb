import { useEffect, useState } from 'preact/hooks'
import type { ClientSnapshot, EngineApi } from '../engine/api'
import { parseLocation, shareLink as linkFor, type LinkRoute } from '../protocol/links'

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

/** Fired by goTo: the route is read again even when the fragment did not change (the same code tried again). */
const ROUTE_EVENT = 'tabswarm:route'

/** The page's route; a new object on every navigation. */
export function useRoute(): LinkRoute {
  const [route, setRoute] = useState(() => parseLocation(location.pathname, location.hash))
  useEffect(() => {
    const update = () => setRoute(parseLocation(location.pathname, location.hash))
    addEventListener('hashchange', update)
    addEventListener(ROUTE_EVENT, update)
    return () => {
      removeEventListener('hashchange', update)
      removeEventListener(ROUTE_EVENT, update)
    }
  }, [])
  return route
}

/** Opens a fragment of the app, leaving a join code's path (`/K7MQX4`) behind. */
export function goTo(fragment: string): void {
  if (location.pathname === '/' && location.hash !== fragment) {
    location.hash = fragment // hashchange follows
    return
  }
  if (location.pathname !== '/') history.replaceState(null, '', `/${fragment}`)
  dispatchEvent(new Event(ROUTE_EVENT))
}

/** The share link of a file on this page's origin (with a private file's key). */
export function shareLink(fileId: string, secret?: string): string {
  return linkFor(location.origin, fileId, secret)
}
