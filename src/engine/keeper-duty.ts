import { overSpace, planKeeping, type KeptFile } from '../core/keeping'
import type { Cancel, Clock, TrackerPort } from '../core/ports'
import type { KeepingView, TransferView } from './views'

/** How often a keeper asks the tracker which files need it. */
export const KEEPER_POLL_MS = 30_000

/** What the keeper works with: the client's own calls, so it holds files the way any peer does. */
export interface KeeperDutyDeps {
  tracker: TrackerPort
  clock: Clock
  transfers: () => ReadonlyMap<string, TransferView>
  keep: (fileId: string) => Promise<void>
  remove: (fileId: string) => Promise<void>
  onChange: () => void
  pollMs?: number
}

/**
 * A peer donating space: every poll it asks the tracker which files most need a copy, takes on
 * the next one that fits (letting go of the least recently wanted when full, see core/keeping),
 * and seeds what it holds, encrypted where the file is private; it never holds a key.
 */
export class KeeperDuty {
  /** When each held file was last wanted (taken on, or a peer fetched from us), and its size as the tracker gave it. */
  private readonly wantedAt = new Map<string, { at: number; bytesUp: number; size: number }>()
  private stopPolling: Cancel | undefined
  private busy = false

  constructor(
    private readonly deps: KeeperDutyDeps,
    private space: number,
  ) {}

  start(): void {
    this.stopPolling ??= this.deps.clock.every(this.deps.pollMs ?? KEEPER_POLL_MS, () => void this.poll())
    void this.poll()
  }

  /** Stops taking files on; what is held stays (and is seeded) until removed. */
  stop(): void {
    this.stopPolling?.()
    this.stopPolling = undefined
  }

  resize(space: number): void {
    this.space = space
    void this.poll()
  }

  /** What the keeper holds of the client's `transfers` (the snapshot's own, so they are built once). */
  view(transfers: ReadonlyMap<string, TransferView>): KeepingView {
    const kept = [...transfers.values()].filter((view) => view.kept)
    return { space: this.space, used: kept.reduce((sum, view) => sum + this.sizeOf(view), 0), files: kept.length }
  }

  /** Its size once the manifest is known; before, the size the tracker gave. */
  private sizeOf(view: TransferView): number {
    return view.size || (this.wantedAt.get(view.fileId)?.size ?? 0)
  }

  /** Every kept file in the client's transfers, with when it was last wanted (as of this poll). */
  private held(): KeptFile[] {
    const now = this.deps.clock.now()
    return [...this.deps.transfers().values()]
      .filter((view) => view.kept)
      .map((view) => {
        const seen = this.wantedAt.get(view.fileId) ?? { at: now, bytesUp: 0, size: view.size }
        if (view.bytesUp > seen.bytesUp) Object.assign(seen, { at: now, bytesUp: view.bytesUp })
        this.wantedAt.set(view.fileId, seen)
        // A stalled fetch (its sources left) does not hold up the next file.
        const fetching = !view.complete && !['stalled', 'error', 'paused'].includes(view.state)
        return { fileId: view.fileId, size: this.sizeOf(view), lastWantedAt: seen.at, fetching }
      })
  }

  private async letGo(fileIds: string[]): Promise<void> {
    for (const fileId of fileIds) {
      this.wantedAt.delete(fileId)
      await this.deps.remove(fileId)
    }
    this.deps.onChange()
  }

  private async poll(): Promise<void> {
    if (this.busy || this.deps.tracker.status !== 'online') return
    this.busy = true
    try {
      const held = this.held()
      const over = overSpace(this.space, held)
      if (over.length > 0) return await this.letGo(over)
      const reply = await this.deps.tracker.request({ type: 'wanted' })
      if (reply.type !== 'wanted') return
      const plan = planKeeping(this.space, held, reply.files)
      if (!plan) return
      await this.letGo(plan.evict)
      const size = reply.files.find((file) => file.fileId === plan.fetch)?.size ?? 0
      this.wantedAt.set(plan.fetch, { at: this.deps.clock.now(), bytesUp: 0, size })
      await this.deps.keep(plan.fetch)
      this.deps.onChange()
    } catch {
      // The tracker went away mid-request: the next poll asks again.
    } finally {
      this.busy = false
    }
  }
}
