import { noticeWords } from '../core/notice-words'
import type { TransferNotice } from '../core/transfer-state'
import { JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH } from '../protocol/join-code'
import type { CodeLookup } from '../engine/join-codes'

/** A transfer's reason in a line for the terminal. */
export function noticeLine(notice: TransferNotice | undefined): string {
  return notice ? noticeWords(notice, 'terminal') : 'The transfer failed.'
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
