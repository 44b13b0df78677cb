// A transfer's reason in words, for the page and for the terminal: the same facts, with the
// advice each place can give (the page waits and resumes by itself; a command is run again). Pure.
import { formatBytes } from './format-bytes'
import { visibleName } from './file-name'
import { formatChunkRanges, type TransferNotice } from './transfer-state'

export type Audience = 'page' | 'terminal'

const STORAGE_FAILED: Record<Audience, string> = {
  page: 'Browser storage failed. Reload the page and try again; if it keeps failing, free some disk space or clear this site’s data.',
  terminal: 'Writing to disk failed.',
}

export function noticeWords(notice: TransferNotice, audience: Audience): string {
  const page = audience === 'page'
  switch (notice.kind) {
    case 'not-shared':
      return page
        ? 'No one is sharing this file right now. Ask the sender to keep their tab open: the download starts by itself as soon as they share it.'
        : 'No one is sharing this file right now: waiting, and the download starts as soon as someone shares it (Ctrl-C stops).'
    case 'tracker-refused':
      return `The tracker refused this link: ${notice.reason}`
    case 'wrong-file':
      return 'The tracker sent a file that does not match this link, so it was not downloaded.'
    case 'incomplete-link':
      return 'This link is incomplete: the file is private, and its link ends with a key after the file id. Ask the sender for the whole link.'
    case 'wrong-key':
      return `This link’s key does not open this file: check that the link was copied whole${page ? ', or ask the sender for it again' : ''}.`
    case 'no-space':
      return page
        ? `“${visibleName(notice.name)}” needs ${formatBytes(notice.needed)}, but this browser lets the site store only ${formatBytes(notice.available)} more. ` +
            'Remove files from your library or free disk space, then try again.'
        : `“${visibleName(notice.name)}” needs ${formatBytes(notice.needed)}, but only ${formatBytes(notice.available)} are free.`
    case 'storage-failed':
      return notice.detail ?? STORAGE_FAILED[audience]
    case 'storage-paused': {
      const kept = `${notice.have} of ${notice.total} chunks kept`
      const failed = notice.detail ?? STORAGE_FAILED[audience]
      return page
        ? `${failed} Paused with ${kept}: free some space, then resume.`
        : `${failed} Stopped with ${kept}; run this again to resume.`
    }
    case 'unreadable':
      return page
        ? `Could not read “${visibleName(notice.name)}”: the browser lost access to it. Check that the file still exists and opens, then share it again.`
        : `Could not read ${visibleName(notice.name)}.`
    case 'paused':
      if (!page) return 'Paused.'
      return notice.complete ? 'Not shared with others while paused.' : 'Paused: no chunks are fetched until you resume.'
    case 'private-window':
      return page
        ? `This looks like a private window: the browser deletes what this site stores when the window closes, and may keep it in memory until then. ` +
            `This file is ${formatBytes(notice.size)} (over ${formatBytes(notice.holdAbove)}): open the link in a normal window, or download it here and save it as soon as it is done.`
        : `Held before starting: ${formatBytes(notice.size)} is more than a private window should keep.`
    case 'relayed': {
      const rate = notice.bytesPerSecond ? ` at up to ${formatBytes(notice.bytesPerSecond)}/s` : ''
      return `No direct connection could be made (a router or firewall on the way blocks it): relaying through the server${rate}.`
    }
    case 'waiting':
      return `Waiting for a peer that has chunks ${formatChunkRanges(notice.ranges, notice.more)} (${notice.needed} of ${notice.total} still needed).`
  }
}
