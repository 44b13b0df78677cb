// Writing into a folder the user named, where anything may already be: nothing outside it is
// written through a planted link, and nothing already there is replaced.
import { constants } from 'node:fs'
import { link, lstat, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises'
import { extname, join, relative, sep } from 'node:path'
import { StoreError } from '../core/ports'

/** Tried `name (1)` … `name (N)` before giving up. */
const MAX_NAME_TRIES = 1000

/** Makes `dir` (inside `root`) and every folder between, refusing any that is a link or not a folder. */
export async function realFolder(root: string, dir: string): Promise<void> {
  const parts = relative(root, dir).split(sep).filter(Boolean)
  if (parts[0] === '..') throw new StoreError(`${dir} is outside ${root}.`, 'corrupt')
  let at = root
  for (const part of ['', ...parts]) {
    at = part ? join(at, part) : at
    const info = await lstat(at).catch(() => undefined)
    if (!info) await mkdir(at).catch((error: NodeJS.ErrnoException) => (error.code === 'EEXIST' ? undefined : Promise.reject(error)))
    else if (info.isSymbolicLink() || !info.isDirectory()) {
      throw new StoreError(`${at} is ${info.isSymbolicLink() ? 'a link' : 'not a folder'}; move it away and try again.`, 'corrupt')
    }
  }
}

/** Opens a file without following a link at its name (a planted link is refused, not written through). */
export async function openNoFollow(path: string, mode: 'read' | 'write' | 'create'): Promise<FileHandle> {
  const flags = mode === 'read' ? constants.O_RDONLY : mode === 'write' ? constants.O_RDWR : constants.O_RDWR | constants.O_CREAT
  try {
    return await open(path, flags | constants.O_NOFOLLOW, 0o644)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new StoreError(`${path} is a link; move it away and try again.`, 'corrupt')
    throw error
  }
}

/** `name`, or `name (1)`, `name (2)` … before the extension, the first that does not exist in `dir`. */
function candidate(name: string, n: number): string {
  if (n === 0) return name
  const ext = extname(name)
  const stem = ext && ext !== name ? name.slice(0, -ext.length) : name
  return `${stem} (${n})${ext && ext !== name ? ext : ''}`
}

/**
 * Moves `from` (a file, or a folder) into `dir` under `name`, or the first free `name (n)`: an
 * existing file or folder is never replaced, even if it appears meanwhile. Returns the new path.
 */
export async function placeWithoutOverwrite(from: string, dir: string, name: string, isFolder: boolean): Promise<string> {
  for (let n = 0; n < MAX_NAME_TRIES; n++) {
    const to = join(dir, candidate(name, n))
    try {
      if (isFolder) {
        await mkdir(to) // fails if anything is there; then the rename replaces only this empty folder
        await rename(from, to)
      } else {
        await link(from, to) // fails if anything is there
        await rm(from)
      }
      return to
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  throw new StoreError(`${join(dir, name)} and ${MAX_NAME_TRIES} numbered names beside it are taken.`, 'unavailable')
}
