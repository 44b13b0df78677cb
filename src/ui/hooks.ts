import { useEffect, useState } from 'preact/hooks'
import type { ClientSnapshot } from '../engine/views'
import type { AppFacade } from './facade'

/** Re-renders at most once per animation frame, however often the engine reports changes. */
export function useSnapshot(app: AppFacade): ClientSnapshot {
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

export type Route =
  { page: 'home' } | { page: 'file'; fileId: string } | { page: 'swarm'; fileId: string } | { page: 'bad-link'; text: string }

/** `#/f/<file id>` is a transfer, `#/f/<file id>/swarm` its swarm view; anything else is home. */
export function parseRoute(hash: string): Route {
  const match = /^#\/f\/([^/?#]*)(\/swarm)?\/?$/.exec(hash)
  if (!match) return { page: 'home' }
  let fileId: string
  try {
    fileId = decodeURIComponent(match[1]!).toLowerCase()
  } catch {
    return { page: 'bad-link', text: match[1]! }
  }
  if (!/^[0-9a-f]{64}$/.test(fileId)) return { page: 'bad-link', text: match[1]! }
  return match[2] ? { page: 'swarm', fileId } : { page: 'file', fileId }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash))
    addEventListener('hashchange', update)
    return () => removeEventListener('hashchange', update)
  }, [])
  return route
}

export function shareLink(fileId: string): string {
  return `${location.origin}/#/f/${fileId}`
}
