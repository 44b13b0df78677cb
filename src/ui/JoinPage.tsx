import { useEffect, useState } from 'preact/hooks'
import { readJoinCode, formatJoinCode, type CodeLookup, type EngineApi, type TrackerStatus } from '../engine/api'
import { fileFragment } from '../protocol/links'
import { joinSentence } from './sentences'
import { goTo } from './hooks'

type Failure = Extract<CodeLookup, { ok: false }>

/**
 * "Join with a code": opens the code's page, which looks it up. On the home page a mistyped code
 * is told at once, below the form; on the join page itself (`onPage`) the page says it, once.
 */
export function JoinCodeForm({ initial = '', onPage = false }: { initial?: string; onPage?: boolean }) {
  const [text, setText] = useState(initial)
  const [problem, setProblem] = useState<Failure>()
  return (
    <form
      class="join-form"
      aria-label="Join with a code"
      onSubmit={(event) => {
        event.preventDefault()
        const read = readJoinCode(text)
        if (!read.ok && !onPage) return setProblem({ ok: false, reason: 'not-a-code', message: read.reason })
        setProblem(undefined)
        goTo(`#/c/${read.ok ? read.code : encodeURIComponent(text.trim())}`)
      }}
    >
      <label class="join-label">
        Join with a code
        <input
          class="join-input mono"
          data-testid="join-code-input"
          value={text}
          maxLength={16}
          autoComplete="off"
          autoCapitalize="characters"
          spellcheck={false}
          placeholder="K7M-QX4"
          autoFocus={onPage}
          onInput={(event) => setText(event.currentTarget.value)}
        />
      </label>
      <button type="submit" class="primary" data-testid="join-code-button">
        Join
      </button>
      {problem && (
        <p class="error" role="alert" data-testid="join-code-message" data-reason={problem.reason}>
          {joinSentence(problem)}
        </p>
      )}
    </form>
  )
}

/** `#/c/<code>` or `/<code>`: looks the code up once the tracker is reachable, then opens the file. */
export function JoinPage({ app, route, tracker }: { app: EngineApi; route: { text: string }; tracker: TrackerStatus }) {
  const [failure, setFailure] = useState<Failure>()
  const { text } = route
  const read = readJoinCode(text)
  // Each navigation here (the same code submitted again included) looks the code up afresh.
  useEffect(() => setFailure(undefined), [route])
  useEffect(() => {
    if (!read.ok || tracker !== 'online' || failure) return
    let current = true
    void app.lookupCode(read.code).then((found) => {
      if (!current) return
      if (found.ok) goTo(fileFragment(found.fileId, 'transfer', found.secret))
      else if (found.reason !== 'offline') setFailure(found)
    })
    return () => {
      current = false
    }
  }, [app, route, tracker, failure])
  const shown: Failure | undefined = read.ok ? failure : { ok: false, reason: 'not-a-code', message: read.reason }
  return (
    <main class="join-page" data-testid="join-page" data-state={shown ? 'failed' : 'looking'} data-reason={shown?.reason ?? ''}>
      <h1>{read.ok ? `Code ${formatJoinCode(read.code)}` : 'Join with a code'}</h1>
      {shown ? (
        <>
          <p class="error" role="alert" data-testid="join-code-message" data-reason={shown.reason}>
            {joinSentence(shown)}
          </p>
          <JoinCodeForm initial={read.ok ? formatJoinCode(read.code) : text} onPage />
        </>
      ) : (
        <p role="status">{tracker === 'online' ? 'Looking up the code…' : 'Connecting to the tracker to look up the code…'}</p>
      )}
    </main>
  )
}
