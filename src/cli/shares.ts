// The seeder's own record of what it shares, in its state folder: a private share's key and
// manifest, so that seeding the same unchanged files again (after a crash, a reboot, an upgrade)
// serves the same link, without hashing them again. Written for this user only (it holds keys).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { parseManifest, type Manifest } from '../protocol/manifest'
import type { Stamp } from './disk-store'

/** Where the seeder keeps its shares: TABSWARM_STATE_DIR, else $XDG_STATE_HOME/tabswarm, else ~/.local/state/tabswarm. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TABSWARM_STATE_DIR) return env.TABSWARM_STATE_DIR
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'tabswarm')
}

const recordSchema = z.object({
  /** The shared files' absolute paths, in manifest order, and what they were when hashed. */
  paths: z.array(z.string()),
  stamps: z.array(z.object({ size: z.number(), mtimeMs: z.number() })),
  listed: z.boolean(),
  keepers: z.boolean(),
  secret: z.string().optional(),
  manifest: z.unknown(),
})
export type ShareRecord = Omit<z.infer<typeof recordSchema>, 'manifest'> & { manifest: Manifest }

const sameStamps = (a: Stamp[], b: Stamp[]) =>
  a.length === b.length && a.every((stamp, i) => stamp.size === b[i]!.size && stamp.mtimeMs === b[i]!.mtimeMs)
const samePaths = (a: string[], b: string[]) => a.length === b.length && a.every((path, i) => path === b[i])

export class SeedShares {
  private readonly file: string

  constructor(private readonly dir: string) {
    this.file = join(dir, 'shares.json')
  }

  /** The earlier share of these very files, unchanged since (same sizes and times), shared the same way; else undefined. */
  async find(paths: string[], stamps: Stamp[], how: { listed: boolean; keepers: boolean }): Promise<ShareRecord | undefined> {
    return (await this.load()).find(
      (record) =>
        samePaths(record.paths, paths) &&
        sameStamps(record.stamps, stamps) &&
        record.listed === how.listed &&
        record.keepers === how.keepers,
    )
  }

  /** Remembers a share (replacing any earlier one of the same files). */
  async save(record: ShareRecord): Promise<void> {
    const others = (await this.load()).filter((other) => !samePaths(other.paths, record.paths))
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const temporary = `${this.file}.${process.pid}.tmp`
    await writeFile(temporary, `${JSON.stringify([...others, record], null, 1)}\n`, { mode: 0o600 })
    await rename(temporary, this.file)
  }

  /** Every valid record; a damaged file or record is left out (and the share is hashed anew). */
  private async load(): Promise<ShareRecord[]> {
    const text = await readFile(this.file, 'utf8').catch(() => '[]')
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch {
      return []
    }
    if (!Array.isArray(data)) return []
    return data.flatMap((item) => {
      const record = recordSchema.safeParse(item)
      const manifest = record.success ? parseManifest(record.data.manifest) : undefined
      return record.success && manifest?.ok ? [{ ...record.data, manifest: manifest.manifest }] : []
    })
  }
}
