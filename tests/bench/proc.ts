import { readdirSync, readFileSync } from 'node:fs'

// Reading a process tree from /proc: memory (PSS) and CPU time, so figures include everything
// the browser does (renderers, GPU, network and storage services).

function childrenByParent(): Map<number, number[]> {
  const byParent = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(name)])
    } catch {
      // the process ended meanwhile
    }
  }
  return byParent
}

export function processTree(root: number): number[] {
  const byParent = childrenByParent()
  const pids: number[] = []
  const stack = [root]
  while (stack.length > 0) {
    const pid = stack.pop()!
    pids.push(pid)
    stack.push(...(byParent.get(pid) ?? []))
  }
  return pids
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

export function pssKiB(pid: number): number {
  const match = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`))
  return match ? Number(match[1]) : 0
}

export function isRenderer(pid: number): boolean {
  return read(`/proc/${pid}/cmdline`).includes('--type=renderer')
}

const TICKS_PER_SECOND = 100

/** User + system CPU seconds of the tree's processes (those alive now). */
export function cpuSeconds(root: number): number {
  let ticks = 0
  for (const pid of processTree(root)) {
    const stat = read(`/proc/${pid}/stat`)
    if (!stat) continue
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12]) // utime, stime
  }
  return ticks / TICKS_PER_SECOND
}

/** Resident set size of one process. */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`))
  return match ? Number(match[1]) : 0
}
