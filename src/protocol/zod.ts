// zod, configured before any schema is built: it would otherwise probe for `eval` with `new
// Function` when the first object schema is made, which the page's CSP reports as a violation.
import { z } from 'zod'

z.config({ jitless: true })

export { z }

/** A failed parse in words: where (or `subject` for the whole value) and what, from its first issue. */
export function firstIssue(error: z.ZodError, subject: string): string {
  const issue = error.issues[0]
  return `${issue?.path.join('.') || subject}: ${issue?.message ?? 'invalid'}`
}
