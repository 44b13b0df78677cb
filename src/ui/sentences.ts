// Typed states and reasons from the engine, in words for people.
import { JOIN_CODE_LENGTH, noticeWords, type CodeLookup, type TransferNotice } from '../engine/api'

export function noticeSentence(notice: TransferNotice): string {
  return noticeWords(notice, 'page')
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
