// Join codes: six characters a class types from the projector, which the tracker resolves to a
// share's file id. The alphabet leaves out characters that look or sound alike (0 O, 1 I L, U V).
import { z } from './zod'

export const JOIN_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTWXYZ'
export const JOIN_CODE_LENGTH = 6
/** 29^6, about 595 million codes (29.1 bits). */
export const JOIN_CODE_SPACE = JOIN_CODE_ALPHABET.length ** JOIN_CODE_LENGTH

export const JOIN_CODE_PATTERN = new RegExp(`^[${JOIN_CODE_ALPHABET}]{${JOIN_CODE_LENGTH}}$`)
export const joinCodeSchema = z.string().regex(JOIN_CODE_PATTERN, `a join code is ${JOIN_CODE_LENGTH} characters of ${JOIN_CODE_ALPHABET}`)

export type ReadJoinCode = { ok: true; code: string } | { ok: false; reason: 'empty' | 'length' | 'characters' }

/**
 * A code as typed: any case, with spaces or dashes between groups. Letters left out of the
 * alphabet are not guessed at (an O might be a 0 or a Q): the reader is told which ones are not used.
 */
export function readJoinCode(text: string): ReadJoinCode {
  const code = text.toUpperCase().replace(/[\s-]+/g, '')
  if (code === '') return { ok: false, reason: 'empty' }
  if ([...code].some((char) => !JOIN_CODE_ALPHABET.includes(char))) return { ok: false, reason: 'characters' }
  if (code.length !== JOIN_CODE_LENGTH) return { ok: false, reason: 'length' }
  return { ok: true, code }
}

/** As shown on a projector: two groups of three, "K7M-QX4". */
export function formatJoinCode(code: string): string {
  return `${code.slice(0, 3)}-${code.slice(3)}`
}

/** A new code from `randomInt(n)`, an unbiased random integer below n (crypto.randomInt on the server). */
export function newJoinCode(randomInt: (n: number) => number): string {
  let code = ''
  for (let i = 0; i < JOIN_CODE_LENGTH; i++) code += JOIN_CODE_ALPHABET[randomInt(JOIN_CODE_ALPHABET.length)]
  return code
}
