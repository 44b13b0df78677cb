// The layering rules of DESIGN.md, checked over the TypeScript sources: which folder may import
// which, and which packages each may use. One rule per layer; `npm test` fails on any break.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

export interface Rule {
  /** Source folders (or files) of this layer, relative to the repository. */
  layer: string
  /** Layers (folders or files) it may import from. */
  may: string[]
  /** Packages it may import ('node:*' for Node's own modules). */
  packages: string[]
}

export const RULES: Rule[] = [
  { layer: 'src/protocol', may: ['src/protocol'], packages: ['zod'] },
  { layer: 'src/core', may: ['src/core', 'src/protocol'], packages: [] },
  { layer: 'src/engine', may: ['src/engine', 'src/core', 'src/protocol'], packages: ['client-zip'] },
  { layer: 'src/net', may: ['src/net', 'src/core', 'src/protocol'], packages: ['@thaunknown/simple-peer', 'events'] },
  { layer: 'src/store', may: ['src/store', 'src/core', 'src/protocol'], packages: ['idb', 'zod'] },
  { layer: 'src/ui', may: ['src/ui', 'src/engine/api.ts', 'src/protocol/links.ts'], packages: ['preact', 'qrcode'] },
  {
    layer: 'src/worker',
    may: ['src/worker', 'src/wiring', 'src/engine', 'src/store', 'src/net', 'src/core', 'src/protocol'],
    packages: ['@thaunknown/simple-peer'],
  },
  { layer: 'src/wiring', may: ['src/wiring', 'src/engine', 'src/net', 'src/core', 'src/protocol'], packages: [] },
  {
    layer: 'src/cli',
    may: ['src/cli', 'src/wiring', 'src/engine', 'src/net', 'src/core', 'src/protocol'],
    packages: ['node:*', 'ws', 'qrcode', '@roamhq/wrtc', 'zod'],
  },
  { layer: 'src/main.tsx', may: ['src'], packages: ['preact'] },
  {
    layer: 'signaling-server',
    may: ['signaling-server', 'src/protocol'],
    packages: ['node:*', 'ws', 'ioredis', 'sirv', 'zod', 'pino', 'prom-client'],
  },
]

export interface Violation {
  file: string
  imported: string
  rule: string
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

/** Module specifiers a source imports (static, side-effect and dynamic). */
export function importsOf(source: string): string[] {
  const found: string[] = []
  for (const match of source.matchAll(IMPORT)) found.push((match[1] ?? match[2] ?? match[3])!)
  return found
}

const within = (path: string, area: string) => path === area || path.startsWith(`${area}/`) || path.startsWith(`${area}.`)

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return 'node:*'
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

/** Checks one file (path relative to the repository) against the rules. */
export function check(file: string, source: string): Violation[] {
  const rule = RULES.filter((r) => within(file, r.layer)).sort((a, b) => b.layer.length - a.layer.length)[0]
  if (!rule) return []
  const violations: Violation[] = []
  for (const specifier of importsOf(source)) {
    if (specifier.startsWith('.')) {
      const target = relative('.', resolve(dirname(file), specifier)).replace(/\.(ts|tsx|css)$/, '')
      const allowed = rule.may.some((area) => within(target, area.replace(/\.tsx?$/, '')))
      if (!allowed && !specifier.endsWith('.css')) violations.push({ file, imported: target, rule: rule.layer })
    } else if (!rule.packages.includes(packageName(specifier))) {
      violations.push({ file, imported: specifier, rule: rule.layer })
    }
  }
  return violations
}

function sources(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => relative('.', join(entry.parentPath, entry.name)))
}

/** Every break of the rules in `src/` and `signaling-server/`. */
export function checkTree(): Violation[] {
  return [...sources('src'), ...sources('signaling-server')].flatMap((file) => check(file, readFileSync(file, 'utf8')))
}
