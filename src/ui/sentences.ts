// Typed states and reasons from the engine, in words for people.
import { formatBytes, formatChunkRanges, JOIN_CODE_LENGTH, visibleName, type CodeLookup, type TransferNotice } from '../engine/api'

const STORAGE_FAILED =
  'Browser storage failed. Reload the page and try again; if it keeps failing, free some disk space or clear this site’s data.'

export function noticeSentence(notice: TransferNotice): string {
  switch (notice.kind) {
    case 'not-shared':
      return 'No one is sharing this file right now. Ask the sender to keep their tab open: the download starts by itself as soon as they share it.'
    case 'tracker-refused':
      return `The tracker refused this link: ${notice.reason}`
    case 'wrong-file':
      return 'The tracker sent a file that does not match this link, so it was not downloaded.'
    case 'incomplete-link':
      return 'This link is incomplete: the file is private, and its link ends with a key after the file id. Ask the sender for the whole link.'
    case 'wrong-key':
      return 'This link’s key does not open this file: check that the link was copied whole, or ask the sender for it again.'
    case 'no-space':
      return (
        `“${visibleName(notice.name)}” needs ${formatBytes(notice.needed)}, but this browser lets the site store only ${formatBytes(notice.available)} more. ` +
        'Remove files from your library or free disk space, then try again.'
      )
    case 'storage-failed':
      return notice.detail ?? STORAGE_FAILED
    case 'storage-paused':
      return `${notice.detail ?? STORAGE_FAILED} Paused with ${notice.have} of ${notice.total} chunks kept: free some space, then resume.`
    case 'unreadable':
      return `Could not read “${visibleName(notice.name)}”: the browser lost access to it. Check that the file still exists and opens, then share it again.`
    case 'paused':
      return notice.complete ? 'Not shared with others while paused.' : 'Paused: no chunks are fetched until you resume.'
    case 'private-window':
      return (
        `This looks like a private window: the browser deletes what this site stores when the window closes, and may keep it in memory until then. ` +
        `This file is ${formatBytes(notice.size)} (over ${formatBytes(notice.holdAbove)}): open the link in a normal window, or download it here and save it as soon as it is done.`
      )
    case 'waiting':
      return `Waiting for a peer that has chunks ${formatChunkRanges(notice.ranges, notice.more)} (${notice.needed} of ${notice.total} still needed).`
  }
}

/** Why a join code led nowhere, and what to do. */
export function joinSentence(failure: Extract<CodeLookup, { ok: false }>): string {
  switch (failure.reason) {
    case 'not-a-code':
      if (failure.message === 'empty') return 'Type the code shown on the screen.'
      if (failure.message === 'length') return `A code has ${JOIN_CODE_LENGTH} characters: check that none is missing or doubled.`
      return 'A code uses the digits 2–9 and the letters A–Z except I, L, O, U and V: check each character against the screen.'
    case 'not-found':
      return 'No share has that code. Check each character against the screen and try again.'
    case 'expired':
      return 'That code no longer works: its time is up, the sharer ended it, or the tab that showed it stopped sharing. Ask for a new code or the link.'
    case 'rate-limited':
      return 'Too many codes were tried from this network in the last minute. Wait a minute, then try again.'
    case 'offline':
      return 'The tracker cannot be reached right now, so the code cannot be looked up. Check the connection; this page tries again by itself.'
    case 'failed':
      return `The code could not be looked up: ${failure.message}`
  }
}
