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
  return Object.values(cpuByKind(root)).reduce((sum, seconds) => sum + seconds, 0)
}

/** A Chromium process's job: renderer (pages and their workers), network, storage, gpu, browser, other. */
function kindOf(pid: number): string {
  const cmdline = read(`/proc/${pid}/cmdline`)
  const type = /--type=([a-z-]+)/.exec(cmdline)?.[1]
  if (!type) return 'browser'
  if (type !== 'utility') return type
  const service = /--utility-sub-type=([a-zA-Z.]+)/.exec(cmdline)?.[1] ?? ''
  if (service.startsWith('network')) return 'network'
  if (service.startsWith('storage')) return 'storage'
  return 'other'
}

/** CPU seconds of the tree by kind of process: where the time goes. */
export function cpuByKind(root: number): Record<string, number> {
  const seconds: Record<string, number> = {}
  for (const pid of processTree(root)) {
    const stat = read(`/proc/${pid}/stat`)
    if (!stat) continue
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const kind = kindOf(pid)
    seconds[kind] = (seconds[kind] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND // utime, stime
  }
  return seconds
}

/** What a Chromium thread does, by its name (the main thread carries the process's own name). */
function threadJob(tid: string, pid: number, name: string): string {
  if (Number(tid) === pid) return 'main thread'
  if (name.startsWith('DedicatedWorker')) return 'workers'
  if (name.startsWith('WebRTC')) return 'WebRTC (SCTP, DTLS)'
  if (name.startsWith('Chrome_ChildIOT') || name.startsWith('Chrome_IOThread')) return 'I/O and IPC'
  if (/Compositor/.test(name)) return 'compositing'
  if (name.startsWith('ThreadPool')) return 'thread pool'
  return 'other'
}

/** CPU seconds of the tree by kind of process and job of thread ("renderer: workers"): finer than cpuByKind. */
export function cpuByThread(root: number): Record<string, number> {
  const seconds: Record<string, number> = {}
  for (const pid of processTree(root)) {
    const kind = kindOf(pid)
    let tids: string[] = []
    try {
      tids = readdirSync(`/proc/${pid}/task`)
    } catch {
      continue
    }
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`)
      if (!stat) continue
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const key = `${kind}: ${threadJob(tid, pid, name)}`
      seconds[key] = (seconds[key] ?? 0) + (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
    }
  }
  return seconds
}

/** Resident set size of one process. */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`))
  return match ? Number(match[1]) : 0
}

/** The machine's CPU seconds so far, all cores together: busy (anything but idle and I/O wait) and in all. */
export function machineCpu(): { busy: number; total: number } {
  const fields = read('/proc/stat').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields as [number, number, number, number, number, number, number, number]
  const busy = user + nice + system + irq + softirq + steal
  return { busy: busy / TICKS_PER_SECOND, total: (busy + idle + iowait) / TICKS_PER_SECOND }
}
