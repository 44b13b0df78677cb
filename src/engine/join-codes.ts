import { readJoinCode } from '../protocol/join-code'
import { FILE_ID_PATTERN } from '../protocol/manifest'
import type { TrackerPort } from '../core/ports'

/** A join code a sharer presents, working until `expiresAt` (ms since the epoch). */
export interface PresentedCode {
  fileId: string
  code: string
  expiresAt: number
}

/** What a typed code leads to: a file, or why not. */
export type CodeLookup =
  | { ok: true; fileId: string; secret?: string }
  | { ok: false; reason: 'not-a-code' | 'not-found' | 'expired' | 'rate-limited' | 'offline' | 'failed'; message: string }

/** Join codes through the tracker: asked for by a presenting sharer, resolved by whoever types one. */
export class JoinCodes {
  /** Codes given to this peer, by file, with the tracker's proof: claimed again after a reconnect, they stay the same. */
  private readonly given = new Map<string, { code: string; expiresAt: number; proof: string }>()

  constructor(private readonly tracker: TrackerPort) {}

  /** This file's code (the same one as before, where the tracker still has it); rejects with the reason. */
  /** `secret`: a private file's key, which the tracker then hands to whoever types the code. */
  async present(fileId: string, secret?: string): Promise<PresentedCode> {
    if (!FILE_ID_PATTERN.test(fileId)) throw new Error('not a file id')
    const renew = this.given.get(fileId)
    const reply = await this.tracker.request({ type: 'present', fileId, ...(secret ? { secret } : {}), ...(renew ? { renew } : {}) })
    if (reply.type === 'presented') {
      this.given.set(fileId, { code: reply.code, expiresAt: reply.expiresAt, proof: reply.proof })
      return { fileId, code: reply.code, expiresAt: reply.expiresAt }
    }
    throw new Error(reply.type === 'error' ? reply.message : 'the tracker gave an unexpected answer')
  }

  /** Ends this file's code at the tracker (it then says so to whoever types it, and forgets the key); rejects with the reason. */
  async end(fileId: string): Promise<void> {
    const given = this.given.get(fileId)
    if (!given) return
    const reply = await this.tracker.request({ type: 'end-code', fileId, given })
    // Kept while the tracker could not be asked, so ending can be tried again.
    this.given.delete(fileId)
    if (reply.type !== 'code-ended') throw new Error(reply.type === 'error' ? reply.message : 'the tracker gave an unexpected answer')
  }

  /** The file a code (as typed) stands for. */
  async lookup(text: string): Promise<CodeLookup> {
    const read = readJoinCode(text)
    if (!read.ok) return { ok: false, reason: 'not-a-code', message: read.reason }
    let reply
    try {
      reply = await this.tracker.request({ type: 'lookup-code', code: read.code })
    } catch (error) {
      return { ok: false, reason: 'offline', message: (error as Error).message }
    }
    if (reply.type === 'code-found') return { ok: true, fileId: reply.fileId, ...(reply.secret ? { secret: reply.secret } : {}) }
    if (reply.type !== 'error') return { ok: false, reason: 'failed', message: 'the tracker gave an unexpected answer' }
    const known = ['not-found', 'expired', 'rate-limited'] as const
    const reason = known.find((code) => code === reply.code) ?? 'failed'
    return { ok: false, reason, message: reply.message }
  }
}
