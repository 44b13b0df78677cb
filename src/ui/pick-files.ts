/** What the user picked or dropped, as a single file or a bundle with relative paths. */
export type Picked = { kind: 'file'; file: File } | { kind: 'bundle'; name: string; entries: { path: string; file: File }[] }

/** From a file input: one file, several (a bundle), or a folder (webkitRelativePath keeps the tree). */
export function fromFileList(files: File[]): Picked | undefined {
  if (files.length === 0) return undefined
  const relative = files.every((file) => file.webkitRelativePath)
  if (files.length === 1 && !relative) return { kind: 'file', file: files[0]! }
  const entries = files.map((file) => ({ path: file.webkitRelativePath || file.name, file }))
  const top = relative ? files[0]!.webkitRelativePath.split('/')[0]! : undefined
  return { kind: 'bundle', name: top || `${files[0]!.name} and ${files.length - 1} more`, entries }
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = []
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) return resolve(all)
        all.push(...batch)
        next()
      }, reject)
    next()
  })
}

async function walk(entry: FileSystemEntry, out: { path: string; file: File }[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject))
    out.push({ path: entry.fullPath.replace(/^\//, ''), file })
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, out)
  }
}

/** From a drop: folders are walked so their files keep their paths. */
export async function fromDrop(transfer: DataTransfer): Promise<Picked | undefined> {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((entry): entry is FileSystemEntry => !!entry)
  if (!entries.some((entry) => entry.isDirectory)) return fromFileList([...transfer.files])
  const files: { path: string; file: File }[] = []
  for (const entry of entries) await walk(entry, files)
  if (files.length === 0) return undefined
  const name = entries.length === 1 ? entries[0]!.name : `${entries[0]!.name} and ${entries.length - 1} more`
  return { kind: 'bundle', name, entries: files }
}
