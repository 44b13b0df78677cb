// Typed states and reasons from the engine, in words for people.
import { formatBytes, formatChunkRanges, visibleName, type TransferNotice } from '../engine/api'

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
