import { describe, expect, it } from 'vitest'
import {
  INITIAL_LANES,
  LANE_BACKOFF_MS,
  LANE_IDLE_MS,
  LaneController,
  MAX_LANES_PER_MEMBER,
  type LaneDecision,
  type LaneFigures,
} from '../../src/core/lane-controller'

const MiB = 1024 * 1024

/**
 * One member on a modelled path, a second a step: each open lane moves `perLane` bytes a second
 * until the path's `capacity`; lanes asked for open after `connectSeconds`. The controller decides
 * each second, as the engine's tick does.
 */
function simulate(path: {
  rttMs: number
  perLane: number
  capacity: number
  wanted?: number
  connectSeconds?: number
  cap?: number
  /** A new lane's window grows: it carries a growing share of `perLane` over this many seconds. */
  rampSeconds?: number
  /** Seconds (1, 2, ...) in which the path carries half as much (a loss, a burst of other traffic). */
  dips?: number[]
  /** The upload cap the member says, bytes a second, from second `senderCapFrom` (1 unless given). */
  senderCap?: number
  senderCapFrom?: number
}) {
  const controller = new LaneController()
  let now = 0
  let open = 1
  let connecting: number[] = []
  /** When each open lane opened, the first one long ago. */
  let openedAt: number[] = [-Infinity]
  let ours = 0
  let bytesDown = 0
  const decisions: NonNullable<LaneDecision>[] = []
  const lanesOverTime: number[] = []
  const step = (wanted = path.wanted ?? 100 * MiB, idleMs = 0) => {
    now += 1000
    const carried = openedAt.reduce((sum, at) => sum + path.perLane * Math.min(1, (now - at) / 1000 / (path.rampSeconds ?? 0)), 0)
    bytesDown += Math.min(carried, path.capacity) * (path.dips?.includes(now / 1000) ? 0.5 : 1)
    const ready = connecting.filter((at) => at <= now)
    connecting = connecting.filter((at) => at > now)
    open += ready.length
    ours += ready.length
    openedAt.push(...ready)
    const figures: LaneFigures = {
      now,
      cap: path.cap ?? MAX_LANES_PER_MEMBER,
      open,
      connecting: connecting.length,
      ours,
      bytesDown,
      rttMs: path.rttMs,
      wantedBytes: wanted,
      idleMs,
      senderCap: now / 1000 >= (path.senderCapFrom ?? 1) ? path.senderCap : undefined,
    }
    const decision = controller.decide(figures)
    if (decision && 'open' in decision) for (let i = 0; i < decision.open; i++) connecting.push(now + (path.connectSeconds ?? 1) * 1000)
    if (decision && 'close' in decision) {
      open -= decision.close
      ours -= decision.close
      openedAt = openedAt.slice(0, open)
    }
    if (decision) decisions.push(decision)
    lanesOverTime.push(open)
    return decision
  }
  return { step, decisions, lanesOverTime, lanes: () => open }
}

describe('the lane controller, on modelled paths', () => {
  it('never opens a lane where the round trip is a few milliseconds (loopback, a LAN)', () => {
    const lab = simulate({ rttMs: 2, perLane: 20 * MiB, capacity: 20 * MiB })
    for (let second = 0; second < 60; second++) lab.step()
    expect(lab.decisions).toEqual([])
  })

  it('opens no lane at a round trip a busy machine’s loopback can measure (15 ms)', () => {
    const lab = simulate({ rttMs: 15, perLane: 4 * MiB, capacity: 4 * MiB })
    for (let second = 0; second < 10; second++) lab.step()
    expect(lab.decisions).toEqual([])
  })

  it('on a window-bound path opens a first batch at once, then doubles to the cap while each step pays', () => {
    const lab = simulate({ rttMs: 40, perLane: 1.6 * MiB, capacity: 100 * MiB })
    lab.step()
    expect(lab.decisions[0]).toMatchObject({ open: INITIAL_LANES - 1 })
    for (let second = 0; second < 20; second++) lab.step()
    expect(lab.lanes()).toBe(MAX_LANES_PER_MEMBER)
    // Reached within a few seconds, and kept.
    expect(lab.lanesOverTime.indexOf(MAX_LANES_PER_MEMBER)).toBeLessThan(8)
    expect(lab.decisions.filter((d) => 'close' in d)).toEqual([])
  })

  it('on a long path opens as many lanes at once as a broadband rate needs at that round trip', () => {
    const far = simulate({ rttMs: 100, perLane: 640 * 1024, capacity: 100 * MiB })
    far.step()
    expect(far.decisions[0]).toMatchObject({ open: MAX_LANES_PER_MEMBER - 1 })
    const middle = simulate({ rttMs: 60, perLane: 1.1 * MiB, capacity: 100 * MiB })
    middle.step()
    expect(middle.decisions[0]).toMatchObject({ open: 4 })
    const relayed = simulate({ rttMs: 100, perLane: 640 * 1024, capacity: 100 * MiB, cap: 4 })
    relayed.step()
    expect(relayed.decisions[0]).toMatchObject({ open: 3 })
  })

  it('undoes a step that does not raise the rate, and tries no other for a while', () => {
    // Three lanes' worth of path: four lanes pay (nothing to compare yet), eight do not.
    const lab = simulate({ rttMs: 40, perLane: 1.6 * MiB, capacity: 4.8 * MiB })
    for (let second = 0; second < 15; second++) lab.step()
    expect(lab.decisions.find((d) => 'close' in d)).toMatchObject({ close: 4, reason: 'the last step did not raise the rate' })
    expect(lab.lanes()).toBe(4)
    const before = lab.decisions.length
    for (let second = 0; second < LANE_BACKOFF_MS / 1000 - 10; second++) lab.step()
    expect(lab.decisions.length).toBe(before)
  })

  it('judges a step that seemed not to pay once more before undoing it (its lanes ramping, the path dipping)', () => {
    // The second step's first interval (seconds 6 and 7) meets a dip while its lanes still ramp up.
    const lab = simulate({ rttMs: 40, perLane: 1.6 * MiB, capacity: 100 * MiB, rampSeconds: 2, dips: [6, 7] })
    for (let second = 0; second < 20; second++) lab.step()
    expect(lab.decisions.filter((d) => 'close' in d)).toEqual([])
    expect(lab.lanes()).toBe(MAX_LANES_PER_MEMBER)
  })

  it('on a path whose capacity is what one lane moves (an upload cap) stops at the first batch and tries no more', () => {
    const lab = simulate({ rttMs: 40, perLane: 1.6 * MiB, capacity: 1.6 * MiB })
    for (let second = 0; second < 30; second++) lab.step()
    expect(lab.lanes()).toBe(INITIAL_LANES)
    expect(lab.decisions.filter((d) => 'open' in d)).toHaveLength(2)
    expect(lab.decisions.at(-1)).toMatchObject({ close: INITIAL_LANES, reason: 'the last step did not raise the rate' })
  })

  it('opens no lane to a member that says it caps its upload below what one lane carries', () => {
    // 400 KB/s: one lane at 40 ms moves a 64 KB window 25 times a second, 1.6 MB/s.
    const lab = simulate({ rttMs: 40, perLane: 1.6 * MiB, capacity: 400_000, senderCap: 400_000 })
    for (let second = 0; second < 30; second++) lab.step()
    expect(lab.decisions).toEqual([])
  })

  it('opens only the lanes a member’s upload cap can fill, not the first batch the round trip alone would', () => {
    // 1 MB/s at 100 ms: two lanes' windows (640 KB/s each); the round trip alone opens eight.
    const lab = simulate({ rttMs: 100, perLane: 640 * 1024, capacity: 1_000_000, senderCap: 1_000_000 })
    for (let second = 0; second < 30; second++) lab.step()
    expect(lab.decisions[0]).toMatchObject({ open: 1 })
    expect(Math.max(...lab.lanesOverTime)).toBe(2)
  })

  it('closes the lanes a member’s cap cannot fill once it says it caps its upload, and opens none again', () => {
    const lab = simulate({ rttMs: 40, perLane: 1.6 * MiB, capacity: 100 * MiB, senderCap: 400_000, senderCapFrom: 12 })
    for (let second = 0; second < 11; second++) lab.step()
    expect(lab.lanes()).toBe(MAX_LANES_PER_MEMBER)
    expect(lab.step()).toEqual({ close: MAX_LANES_PER_MEMBER - 1, reason: 'its upload cap fills fewer lanes' })
    for (let second = 0; second < 30; second++) lab.step()
    expect(lab.lanes()).toBe(1)
    expect(lab.decisions.filter((d) => 'open' in d)).toHaveLength(2)
  })

  it('keeps lanes on a lossy path where each carries less than a window but together they carry more', () => {
    // 1 % loss at 40 ms: about 14 KB per round trip a lane, each lane adding its own.
    const lab = simulate({ rttMs: 40, perLane: 350 * 1024, capacity: 100 * MiB })
    for (let second = 0; second < 20; second++) lab.step()
    expect(lab.lanes()).toBe(MAX_LANES_PER_MEMBER)
  })

  it('opens no lane for a small download, and none beyond the cap', () => {
    // At 100 ms one lane moves 640 KB a second: 1 MiB is fetched before more lanes would be open.
    const small = simulate({ rttMs: 100, perLane: 600 * 1024, capacity: 100 * MiB, wanted: 1 * MiB })
    for (let second = 0; second < 10; second++) small.step()
    expect(small.decisions).toEqual([])
    const capped = simulate({ rttMs: 100, perLane: 600 * 1024, capacity: 100 * MiB, cap: 2 })
    for (let second = 0; second < 20; second++) capped.step()
    expect(capped.lanes()).toBe(2)
  })

  it('closes its extra lanes once there is nothing more to fetch and they have been idle a while', () => {
    const lab = simulate({ rttMs: 40, perLane: 1.6 * MiB, capacity: 100 * MiB })
    for (let second = 0; second < 10; second++) lab.step()
    expect(lab.lanes()).toBe(MAX_LANES_PER_MEMBER)
    expect(lab.step(0, LANE_IDLE_MS - 1000)).toBeUndefined()
    expect(lab.step(0, LANE_IDLE_MS)).toMatchObject({ close: MAX_LANES_PER_MEMBER - 1, reason: 'idle' })
  })

  it('stops asking for lanes to a member whose lanes fail to open', () => {
    const controller = new LaneController()
    controller.laneFailed()
    controller.laneFailed()
    expect(
      controller.decide({ now: 1, cap: 8, open: 1, connecting: 0, ours: 0, bytesDown: 0, rttMs: 40, wantedBytes: 100 * MiB, idleMs: 0 }),
    ).toBeUndefined()
  })
})
