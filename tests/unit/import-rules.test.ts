import { describe, expect, it } from 'vitest'
import { check, checkTree, importsOf } from '../support/import-rules'

describe('the layering rules of DESIGN.md', () => {
  it('hold across src/ and signaling-server/', () => {
    expect(checkTree()).toEqual([])
  })

  it('find static, side-effect and dynamic imports', () => {
    const source = `import { a } from './a'\nimport type { B } from '../b'\nexport { c } from "./c"\nimport './d.css'\nconst e = await import('e')`
    expect(importsOf(source)).toEqual(['./a', '../b', './c', './d.css', 'e'])
  })

  it.each([
    ['core importing the engine', 'src/core/x.ts', "import { FileSession } from '../engine/file-session'"],
    ['core using a package', 'src/core/x.ts', "import { z } from 'zod'"],
    ['the server importing the engine', 'signaling-server/x.ts', "import { Wire } from '../src/engine/wire'"],
    ['the UI importing core', 'src/ui/X.tsx', "import { parseRate } from '../core/rate-limit'"],
    ['the UI importing engine internals', 'src/ui/X.tsx', "import type { Wire } from '../engine/wire'"],
    ['the engine importing net', 'src/engine/x.ts', "import { TrackerClient } from '../net/tracker-client'"],
    ['the engine using Node', 'src/engine/x.ts', "import { readFile } from 'node:fs/promises'"],
    ['protocol importing core', 'src/protocol/x.ts', "import { Clock } from '../core/ports'"],
  ])('report %s', (_what, file, source) => {
    expect(check(file, source)).toHaveLength(1)
  })

  it('let the UI use the engine API and the link helpers', () => {
    expect(check('src/ui/X.tsx', "import type { EngineApi } from '../engine/api'\nimport { shareLink } from '../protocol/links'")).toEqual(
      [],
    )
  })
})
