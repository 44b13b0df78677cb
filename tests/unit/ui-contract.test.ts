// The data-testid hooks are a public interface: the README lists every one, docs/ui-contract.md
// describes every one, and the page still renders every one (a hook is never renamed or removed).
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(__dirname, '../..')
const read = (path: string) => readFileSync(join(root, path), 'utf8')

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : /\.tsx?$/.test(entry.name) ? [join(dir, entry.name)] : [],
  )
}

/** Hook names in the README's "For automated tests" paragraph. */
function readmeHooks(): string[] {
  const section = read('README.md').split('## For automated tests')[1]?.split('\n## ')[0] ?? ''
  return [...section.matchAll(/`([a-z][a-z-]*)`/g)].map((match) => match[1]!).filter((name) => name !== 'data-testid')
}

/** Hook names in the first column of docs/ui-contract.md's table. */
function contractHooks(): string[] {
  return read('docs/ui-contract.md')
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([a-z][a-z-]*)`/g)].map((match) => match[1]!))
}

const ui = sourceFiles('src').map(read).join('\n')
/** Hooks the page renders: literal attributes, and names handed to a `testId` prop or chosen in an expression. */
const rendered = new Set([
  ...[...ui.matchAll(/data-testid="([a-z-]+)"/g)].map((match) => match[1]!),
  ...[...ui.matchAll(/testId="([a-z-]+)"/g)].map((match) => match[1]!),
  ...[...ui.matchAll(/data-testid=\{[^}]*\}/g)].flatMap((match) => [...match[0].matchAll(/'([a-z-]+)'/g)].map((m) => m[1]!)),
])

describe('the data-testid contract', () => {
  it('lists the same hooks in the README and in docs/ui-contract.md', () => {
    expect(contractHooks().length).toBeGreaterThan(50)
    expect(new Set(readmeHooks())).toEqual(new Set(contractHooks()))
  })

  it('documents every hook the page renders', () => {
    const documented = new Set(contractHooks())
    expect([...rendered].filter((hook) => !documented.has(hook))).toEqual([])
  })

  it('still renders every documented hook', () => {
    expect(contractHooks().filter((hook) => !rendered.has(hook))).toEqual([])
  })
})
