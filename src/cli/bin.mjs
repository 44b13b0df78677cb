#!/usr/bin/env node
// The `tabswarm` command. Its TypeScript sources are bundled into one ES module (esbuild) kept in
// node_modules/.cache, keyed by the sources' paths, sizes and times: loading that takes about a
// third of the CPU of loading each file through tsx, which counts when thirty start at once on
// one machine. tsx stays the fallback where the cache cannot be written.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const cliDir = dirname(fileURLToPath(import.meta.url))
const sourceDir = join(cliDir, '..')
const cacheDir = join(sourceDir, '..', 'node_modules', '.cache', 'tabswarm')

/** A short hash of every source file's path, size and modification time. */
function sourcesKey() {
  const hash = createHash('sha256')
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (/\.(ts|tsx|mjs)$/.test(entry.name)) {
        const { size, mtimeMs } = statSync(path)
        hash.update(`${path}\0${size}\0${mtimeMs}\n`)
      }
    }
  }
  walk(sourceDir)
  return hash.digest('hex').slice(0, 16)
}

async function bundledMain() {
  const bundle = join(cacheDir, `cli-${sourcesKey()}.mjs`)
  if (!existsSync(bundle)) {
    const { build } = await import('esbuild')
    mkdirSync(cacheDir, { recursive: true })
    // Written aside and renamed, so peers starting together never load a half-written bundle.
    const partial = `${bundle}.${process.pid}.partial`
    await build({
      entryPoints: [join(cliDir, 'main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: partial,
      logLevel: 'silent',
    })
    renameSync(partial, bundle)
    for (const name of readdirSync(cacheDir))
      if (name.startsWith('cli-') && join(cacheDir, name) !== bundle && !name.endsWith('.partial'))
        rmSync(join(cacheDir, name), { force: true })
  }
  return import(pathToFileURL(bundle).href)
}

async function loadMain() {
  try {
    return await bundledMain()
  } catch {
    const { register } = await import('tsx/esm/api')
    register()
    return import('./main.ts')
  }
}

const { main } = await loadMain()
const code = await main(process.argv.slice(2))
// A seeder keeps running (-1) until Ctrl-C; other commands exit with their code.
if (code >= 0) process.exit(code)
