// zod, configured before any schema is built: it would otherwise probe for `eval` with `new
// Function` when the first object schema is made, which the page's CSP reports as a violation.
import { z } from 'zod'

z.config({ jitless: true })

export { z }
