import type { ComponentChildren } from 'preact'
import { useRef, useState } from 'preact/hooks'
import { blankTransferView, type EngineApi, type ClientSnapshot, type ShareJob, type TransferView } from '../engine/api'
import { formatBytes, percent, visibleName } from './format'
import { shareLink } from './hooks'
import { TransferPanel } from './TransferPanel'
import { LibraryPanel } from './LibraryPanel'
import { QrCode } from './QrCode'
import { noticeSentence } from './sentences'
import { TrackerFiles } from './TrackerFiles'
import { fromDrop, fromFileList, type Picked } from './pick-files'
import { JoinCodeForm } from './JoinPage'

function hashingView(job: ShareJob): TransferView {
  const state = job.error ? 'error' : 'hashing'
  return blankTransferView('', 'shared', { name: job.name, size: job.size, state, notice: job.error, have: job.done, total: job.total })
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState<'idle' | 'copied' | 'failed'>('idle')
  return (
    <button
      type="button"
      data-testid="copy-link"
      onClick={() =>
        // Some browsers have no clipboard API (or none outside a secure context): say so.
        (navigator.clipboard?.writeText(text) ?? Promise.reject(new Error('no clipboard'))).then(
          () => setCopied('copied'),
          () => setCopied('failed'),
        )
      }
    >
      {copied === 'copied' ? 'Copied' : copied === 'failed' ? 'Copy failed: select the link' : 'Copy link'}
    </button>
  )
}

function ShareCard({ job, view, app }: { job: ShareJob; view: TransferView | undefined; app: EngineApi }) {
  if (!job.fileId || !view) return <TransferPanel view={hashingView(job)} app={app} />
  const link = shareLink(job.fileId, job.secret)
  return (
    <article class="share-card" aria-label={`Share link for ${visibleName(view.name)}`}>
      <div class="share-top">
        <QrCode text={link} label={`QR code of the link to ${visibleName(view.name)}`} />
        <div class="share-details">
          <h2 class="file-name">{visibleName(view.name)}</h2>
          <p class="share-facts">
            {formatBytes(view.size)} · {view.total} {view.total === 1 ? 'chunk' : 'chunks'}
            {view.files ? ` · ${view.files.length} ${view.files.length === 1 ? 'file' : 'files'}` : ''}
          </p>
          <p class="share-intro">Send this link or let people scan the code. Whoever opens it gets the file straight from this tab.</p>
          <p class="share-privacy" data-testid="share-privacy" data-private={job.secret ? 'true' : 'false'}>
            {job.secret
              ? 'Private: encrypted in this tab, and only this link opens it. The tracker sees neither its name nor its contents.'
              : 'Listed on this tracker: anyone who opens this site sees its name and can download it.'}
          </p>
          {job.reused && (
            <p class="share-reused" data-testid="share-reused">
              You already share this file: this is its link, as before. To give it a new one, remove it from your library and share it
              again.
            </p>
          )}
          <StoredNote job={job} />
          <div class="share-link-row">
            <a class="share-link mono" data-testid="share-link" href={link}>
              {link}
            </a>
            <CopyButton text={link} />
          </div>
        </div>
      </div>
      <TransferPanel view={view} app={app} named={false} />
    </article>
  )
}

/** The copy that survives a reload is made after the link works; until it is done, the tab must stay open. */
function StoredNote({ job }: { job: ShareJob }) {
  const done = job.stored >= job.total
  if (job.error)
    return (
      <p class="share-stored" data-testid="share-stored" data-stored={job.stored} data-total={job.total} data-failed="">
        {`${noticeSentence(job.error)} No copy is kept in this browser: the file is shared while this tab stays open.`}
      </p>
    )
  return (
    <p class={`share-stored${done ? ' done' : ''}`} data-testid="share-stored" data-stored={job.stored} data-total={job.total}>
      {done
        ? 'Kept in this browser: it is shared again whenever this page is open.'
        : `Keeping a copy in this browser (${percent(job.stored, job.total)}%): keep this tab open until it is done.`}
    </p>
  )
}

/** A choice about the next share, made before the file is picked. */
function ShareChoice(props: { testId: string; checked: boolean; onChange: (checked: boolean) => void; children: ComponentChildren }) {
  return (
    <label class="list-choice">
      <input
        type="checkbox"
        data-testid={props.testId}
        checked={props.checked}
        onChange={(event) => props.onChange(event.currentTarget.checked)}
      />
      <span>{props.children}</span>
    </label>
  )
}

export function HomePage({ app, snapshot }: { app: EngineApi; snapshot: ClientSnapshot }) {
  const input = useRef<HTMLInputElement>(null)
  const [dragging, setDragging] = useState(false)
  const [listed, setListed] = useState(false)
  const [keepers, setKeepers] = useState(false)
  const sharePicked = (picked: Picked | undefined) => {
    const options = { listed, keepers: !listed && keepers }
    if (picked?.kind === 'file') void app.share(picked.file, options)
    else if (picked?.kind === 'bundle') void app.shareBundle(picked.name, picked.entries, options)
  }
  return (
    <main class="home">
      <section
        class={`drop-zone${dragging ? ' dragging' : ''}`}
        aria-label="Drop files or a folder here to share them"
        onDragOver={(event) => {
          event.preventDefault()
          setDragging(true)
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event) => {
          event.preventDefault()
          setDragging(false)
          if (event.dataTransfer) void fromDrop(event.dataTransfer).then(sharePicked)
        }}
      >
        <svg
          class="drop-icon"
          viewBox="0 0 24 24"
          aria-hidden="true"
          fill="none"
          stroke="currentColor"
          stroke-width="2"
          stroke-linecap="round"
        >
          <path d="M12 15V3M7 8l5-5 5 5M4 15v4a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-4" />
        </svg>
        <h1>Share a file, browser to browser</h1>
        <p>
          Drop files or a folder here, or choose them. You get a link; everything goes straight from this tab to whoever opens it. Several
          files share as one link.
        </p>
        <label class="file-button">
          Choose a file
          <input
            ref={input}
            type="file"
            multiple
            data-testid="file-input"
            onChange={(event) => {
              sharePicked(fromFileList([...(event.currentTarget.files ?? [])]))
              event.currentTarget.value = ''
            }}
          />
        </label>{' '}
        <label class="file-button secondary">
          Choose a folder
          <input
            type="file"
            data-testid="folder-input"
            {...{ webkitdirectory: true }}
            onChange={(event) => {
              sharePicked(fromFileList([...(event.currentTarget.files ?? [])]))
              event.currentTarget.value = ''
            }}
          />
        </label>
        <ShareChoice testId="list-publicly" checked={listed} onChange={setListed}>
          <strong>List it on this tracker</strong>: anyone who opens this site sees its name and can get it (for a class). Unticked, the
          link is private: encrypted here, and only the link opens it.
        </ShareChoice>
        {!listed && (
          <ShareChoice testId="allow-keepers" checked={keepers} onChange={setKeepers}>
            <strong>Let keepers hold a copy</strong>: peers who donate space may keep it available while you are away. They hold it
            encrypted and cannot read it; they learn its size and who else fetches it.
          </ShareChoice>
        )}
      </section>
      {/* What was just shared comes first: its link is what the sharer needs next. */}
      {snapshot.shares.map((job) => (
        <ShareCard key={job.jobId} job={job} view={job.fileId ? snapshot.transfers.get(job.fileId) : undefined} app={app} />
      ))}
      <section class="join-section" aria-label="Join a share">
        <JoinCodeForm />
        <p class="muted">Someone is presenting a file? Type the six-character code from their screen.</p>
      </section>
      <LibraryPanel app={app} snapshot={snapshot} />
      <TrackerFiles app={app} tracker={snapshot.tracker} />
    </main>
  )
}
