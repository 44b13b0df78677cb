// What the chaos run checks of each tracker instance it ran, and how it prints a fault.
import type { ChaosInstance } from './chaos-cast'
import type { ChaosReport, FaultRecord } from './chaos'

const MAX_RSS_MIB = 400
const MAX_FDS = 400

/**
 * Memory and open files bounded; one log line when Redis went and one when it came back (never
 * more than the faults it lived through, and every kill seen); nothing printed outside the log.
 */
export function checkInstances(instances: ChaosInstance[], faults: FaultRecord[], problems: string[]): ChaosReport['instances'] {
  return instances.flatMap((instance) =>
    instance.incarnations.map((life, i) => {
      const ended = instance.incarnations[i + 1]?.startedAt ?? Infinity
      const lived = faults.filter((fault) => fault.target === 'redis' && fault.struckAt > life.startedAt && fault.struckAt < ended)
      const lines = life
        .log()
        .split('\n')
        .filter((line) => line.trim())
      const entries = lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as { event?: string; level?: number; reason?: string; time?: number }]
        } catch {
          return []
        }
      })
      const events = entries.map((entry) => entry.event ?? '')
      // Warnings besides the outage's two lines: a failure is counted into its outage, not logged on its own.
      const warnings = entries.filter((entry) => (entry.level ?? 0) >= 40 && !/^(redis|bus)\.(down|up)$/.test(entry.event ?? ''))
      const stray = lines.filter((line) => !line.startsWith('{'))
      const count = (name: string) => events.filter((event) => event === name).length
      const name = `${instance.name}#${i + 1}`
      const [downs, ups] = [count('redis.down'), count('redis.up')]
      const kills = lived.filter((fault) => fault.kind === 'redis-kill').length
      // Which outages it saw, and when (on the run's clock, as the faults are printed), for a problem's sentence.
      const runStart = faults[0] ? faults[0].struckAt - faults[0].at * 1000 : life.startedAt
      const outages = entries
        .filter((entry) => entry.event === 'redis.down' || entry.event === 'redis.up')
        .map((entry) => `${entry.event} ${(((entry.time ?? 0) - runStart) / 1000).toFixed(1)} s${entry.reason ? ` (${entry.reason})` : ''}`)
        .join(', ')
      if (downs !== ups) problems.push(`${name} logged ${downs} Redis outages and ${ups} ends: ${outages}`)
      if (downs > lived.length) problems.push(`${name} logged ${downs} Redis outages for ${lived.length} faults: ${outages}`)
      if (downs < kills) problems.push(`${name} logged ${downs} Redis outages, though Redis was killed ${kills} times`)
      if (warnings.length > lived.length) {
        problems.push(
          `${name} logged ${warnings.length} warnings besides outages (${[...new Set(warnings.map((w) => w.event))].join(', ')})`,
        )
      }
      if (stray.length > 0) problems.push(`${name} printed ${stray.length} lines outside its log, e.g. ${stray[0]}`)
      const maxRssMiB = Math.round(life.maxRssKiB / 1024)
      if (maxRssMiB > MAX_RSS_MIB) problems.push(`${name} grew to ${maxRssMiB} MiB`)
      if (life.maxFds > MAX_FDS) problems.push(`${name} held ${life.maxFds} open files`)
      return {
        name,
        pid: life.pid,
        maxRssMiB,
        maxFds: life.maxFds,
        faultLines: downs + ups + count('bus.down') + count('bus.up'),
        strayLines: stray.length,
      }
    }),
  )
}

export function describeFault(fault: FaultRecord): string {
  const lasted = fault.lastedMs ? ` for ${(fault.lastedMs / 1000).toFixed(1)} s` : ''
  const last = fault.slowest ? ` (last: ${fault.slowest})` : ''
  const online = fault.onlineMs === undefined ? `NOT back online${last}` : `online in ${(fault.onlineMs / 1000).toFixed(1)} s${last}`
  const swarm = fault.swarmMs === undefined ? '' : `, swarms whole in ${(fault.swarmMs / 1000).toFixed(1)} s`
  return `${fault.at.toFixed(1).padStart(6)} s  ${fault.kind} ${fault.target}${lasted}: ${online}${swarm}`
}
