import { formatBytes } from '../core/format-bytes'
import { visibleName } from '../core/file-name'
import { formatChunkRanges, type TransferNotice } from '../core/transfer-state'
import { JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH } from '../protocol/join-code'
import type { CodeLookup } from '../engine/join-codes'

/** A transfer's reason in a line for the terminal. */
export function noticeLine(notice: TransferNotice | undefined): string {
  if (!notice) return 'The transfer failed.'
  switch (notice.kind) {
    case 'not-shared':
      return 'No one is sharing this file right now. Ask the sender to keep sharing it, then run this again.'
    case 'tracker-refused':
      return `The tracker refused this link: ${notice.reason}`
    case 'wrong-file':
      return 'The tracker sent a file that does not match this link, so it was not downloaded.'
    case 'incomplete-link':
      return 'This link is incomplete: the file is private, and its link ends with a key after the file id. Ask the sender for the whole link.'
    case 'wrong-key':
      return 'This link’s key does not open this file: check that the link was copied whole.'
    case 'no-space':
      return `“${visibleName(notice.name)}” needs ${formatBytes(notice.needed)}, but only ${formatBytes(notice.available)} are free.`
    case 'storage-failed':
      return notice.detail ?? 'Writing to disk failed.'
    case 'storage-paused':
      return `${notice.detail ?? 'Writing to disk failed.'} Stopped with ${notice.have} of ${notice.total} chunks kept; run this again to resume.`
    case 'unreadable':
      return `Could not read ${visibleName(notice.name)}.`
    case 'paused':
      return 'Paused.'
    case 'private-window':
      return `Held before starting: ${formatBytes(notice.size)} is more than a private window should keep.`
    case 'waiting':
      return `Waiting for a peer that has chunks ${formatChunkRanges(notice.ranges, notice.more)} (${notice.needed} of ${notice.total} still needed).`
  }
}

/** Why a join code led nowhere, for the terminal. */
export function codeLine(failure: Extract<CodeLookup, { ok: false }>): string {
  switch (failure.reason) {
    case 'not-a-code':
      return `That is not a join code: a code is ${JOIN_CODE_LENGTH} characters of ${JOIN_CODE_ALPHABET} (any case, a dash allowed).`
    case 'not-found':
      return 'No share has that code. Check it against the screen.'
    case 'expired':
      return 'That code no longer works (its time is up, or the tab that showed it stopped sharing). Ask for a new code or the link.'
    case 'rate-limited':
      return 'Too many codes were tried from this address; wait a minute and try again.'
    case 'offline':
    case 'failed':
      return `The code could not be looked up: ${failure.message}`
  }
}
