import { useEffect, useState } from 'preact/hooks'
import { formatJoinCode, visibleName, type ClientSnapshot, type EngineApi, type PresentedCode, type SwarmView } from '../engine/api'
import { codeLink, fileFragment } from '../protocol/links'
import { formatRate } from './format'
import { QrCode } from './QrCode'

/** How many of the others joined, finished, and receive data now. */
function counts(view: SwarmView | undefined, me: string | undefined) {
  const others = (view?.peers ?? []).filter((peer) => peer.peerId !== me)
  const listedMe = view?.peers.some((peer) => peer.peerId === me) ? 1 : 0
  const moving = (view?.links ?? []).filter((link) => link.rate > 0)
  return {
    joined: Math.max(0, (view?.peerCount ?? 0) - listedMe),
    done: others.filter((peer) => peer.have === view!.chunkCount && view!.chunkCount > 0).length,
    receiving: new Set(moving.map((link) => link.to)).size,
    rate: moving.reduce((sum, link) => sum + link.rate, 0),
  }
}

const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })

/** Present mode: a projector screen with the code to type, a QR code to scan, and the class's progress. */
export function PresentPage({ app, fileId, snapshot }: { app: EngineApi; fileId: string; snapshot: ClientSnapshot }) {
  const transfer = snapshot.transfers.get(fileId)
  const online = snapshot.tracker === 'online'
  const [presented, setPresented] = useState<PresentedCode>()
  const [problem, setProblem] = useState<string>()
  const [view, setView] = useState<SwarmView>()
  /** Bumped when the code on screen runs out, so a new one is asked for. */
  const [round, setRound] = useState(0)
  const held = transfer !== undefined
  /** Ending the code: under way, or why it failed. */
  const [ending, setEnding] = useState<{ busy: boolean; failed?: string }>({ busy: false })
  const endCode = () => {
    setEnding({ busy: true })
    app.endCode(fileId).then(
      () => (location.hash = fileFragment(fileId)),
      (error: Error) => setEnding({ busy: false, failed: error.message }),
    )
  }
  useEffect(() => app.watchSwarm(fileId, setView), [app, fileId])
  // Asked again after each reconnect: the tracker renews the same code (or gives a new one if it lost it).
  useEffect(() => {
    if (!online || !held) return
    let current = true
    app.presentCode(fileId).then(
      (code) => current && (setPresented(code), setProblem(undefined)),
      (error: Error) => current && setProblem(error.message),
    )
    return () => {
      current = false
    }
  }, [app, fileId, online, held, round])
  useEffect(() => {
    if (!presented) return
    // setTimeout holds at most about 24.8 days; codes live hours.
    const timer = setTimeout(() => setRound((n) => n + 1), Math.min(2 ** 31 - 1, Math.max(0, presented.expiresAt - Date.now()) + 1000))
    return () => clearTimeout(timer)
  }, [presented])
  if (!transfer) {
    return (
      <main class="present-page" data-testid="present" data-code="">
        <p role="alert">
          Present mode shows a file this tab shares. Share the file (or download it) here first. <a href="#/">Share a file</a>
        </p>
      </main>
    )
  }
  const { joined, done, receiving, rate } = counts(view, snapshot.peerId)
  const short = presented ? codeLink(location.origin, presented.code) : undefined
  const host = location.host
  return (
    <main class="present-page" data-testid="present" data-code={presented?.code ?? ''} data-expires-at={presented?.expiresAt ?? ''}>
      <div class="present-qr">{short ? <QrCode text={short} label={`QR code of ${short}`} /> : <div class="qr-placeholder" />}</div>
      <div class="present-side">
        <h1 class="present-name">{visibleName(transfer.name)}</h1>
        <p class="present-how">
          Open <strong class="mono">{host}</strong> and type
        </p>
        <p class="present-code mono" data-testid="present-code" aria-live="polite">
          {presented ? formatJoinCode(presented.code) : online ? '…' : 'offline'}
        </p>
        <p class="present-how">or scan the code.</p>
        {problem && (
          <p class="error" role="alert">
            No code right now: {problem}
          </p>
        )}
        {ending.failed && (
          <p class="error" role="alert">
            The code could not be ended: {ending.failed}
          </p>
        )}
        <dl class="present-counts" aria-live="polite">
          <div>
            <dt>Joined</dt>
            <dd data-testid="present-joined">{joined}</dd>
          </div>
          <div>
            <dt>Done</dt>
            <dd data-testid="present-done">{done}</dd>
          </div>
          <div>
            <dt>Receiving</dt>
            <dd data-testid="present-receiving">{receiving}</dd>
          </div>
        </dl>
        <p class="present-foot">
          {rate > 0 ? `${formatRate(rate)} moving between peers · ` : ''}
          {presented ? `code works until ${clock(presented.expiresAt)} while this tab shares the file` : ''}
        </p>
        <p class="present-actions">
          <button type="button" onClick={() => void document.documentElement.requestFullscreen?.().catch(() => undefined)}>
            Full screen
          </button>{' '}
          <a class="button-link" href={fileFragment(fileId, 'swarm')}>
            Swarm view
          </a>{' '}
          <a class="button-link" href="#/">
            Leave
          </a>{' '}
          <button type="button" data-testid="end-code" disabled={!presented || ending.busy} onClick={endCode}>
            End the code
          </button>
        </p>
      </div>
    </main>
  )
}
