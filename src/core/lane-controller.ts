// How many peer connections ("lanes") to keep with one member of a swarm. Pure: figures in,
// a decision out; the clock is the figures' `now`.
//
// One WebRTC connection keeps only about 64 KB in flight (Chromium), so its rate is that much per
// round trip: 1.6 MB/s at 40 ms, whatever the path could carry. Several connections each have
// their own window (and their own loss recovery). So on a path with a real round trip and data
// still to fetch, more lanes are opened: a first guess at once, then doubling while each step
// pays. A step that does not raise the member's rate (over two intervals, as new lanes' windows
// grow) is closed again, and extra lanes are closed once idle; on loopback or a LAN (round trips
// of a few ms) one lane is never the limit. A member that says it caps its upload gets no more
// lanes than its cap fills at the round trip.

/** Lanes per member unless the caller says fewer (a relayed connection costs a TURN allocation). */
export const MAX_LANES_PER_MEMBER = 8
/** Lanes per member through a TURN relay. */
export const MAX_RELAYED_LANES = 4
/**
 * Below this round trip one lane is not what limits a transfer (at 20 ms it moves over 3 MB/s),
 * and a busy machine's loopback can measure 10–15 ms: no lanes there.
 */
export const LANE_MIN_RTT_MS = 20
/** Lanes in all at first, when the round trip says one will be window-bound, at least... */
export const INITIAL_LANES = 4
/**
 * ...or as many as it takes to carry this at the measured round trip, a first guess at what a
 * broadband path carries: on a long path (100 ms: 8 lanes) the doubling steps would take most
 * of a medium file's transfer, each judged over a dozen round trips.
 */
export const FIRST_GUESS_BYTES_PER_SECOND = 5_000_000
/** ...and only when one lane would take longer than this to fetch what is left (a small file is done before they open). */
export const LANES_WORTH_SECONDS = 2
/** What one Chromium data channel keeps in flight: one lane moves at most this per round trip. */
export const LANE_WINDOW_BYTES = 64 * 1024
/** A step's gain is measured over this long once its lanes are open... */
export const LANE_PROBE_MS = 1_500
/** ...or over this many round trips, if longer (a new lane's window grows a round trip at a time). */
export const LANE_PROBE_RTTS = 12
/** Lanes are steered this often (and when a lane opens): a step's lanes go to work within this of opening. */
export const LANE_STEER_MS = 250
/** A step that raises the member's rate by less than this share is undone. */
export const LANE_MIN_GAIN = 0.25
/** After a step that did not pay, no new lane for this long. */
export const LANE_BACKOFF_MS = 60_000
/** Extra lanes that carried nothing this long, with nothing more to fetch, are closed. */
export const LANE_IDLE_MS = 15_000
/** Lanes that failed to open this many times: no more for this member. */
export const LANE_CONNECT_FAILURES = 2

export interface LaneFigures {
  now: number
  /** The most lanes this member may have (1: no extra lanes). */
  cap: number
  /** Lanes open, the first one included. */
  open: number
  /** Lanes we asked for that are still connecting. */
  connecting: number
  /** Extra lanes we opened that are open (the ones we may close). */
  ours: number
  /** Bytes received from the member so far, on all lanes. */
  bytesDown: number
  /** The member's round trip on its transport; undefined while unknown. */
  rttMs: number | undefined
  /** Bytes we would still ask of it, beyond what is in flight. */
  wantedBytes: number
  /** Since any of its lanes last carried data either way, ms. */
  idleMs: number
  /** What the member said it caps its upload at, bytes per second (undefined: no cap said). */
  senderCap?: number
}

/** Lanes it takes to carry `bytesPerSecond` at a round trip of `rttMs`, each moving a window per round trip. */
export function lanesToCarry(bytesPerSecond: number, rttMs: number): number {
  return Math.max(1, Math.ceil((bytesPerSecond * rttMs) / 1000 / LANE_WINDOW_BYTES))
}

export type LaneDecision = { open: number; reason: string } | { close: number; reason: string } | undefined

/** One member's lane decisions: remembers the step under way and its rate before. */
export class LaneController {
  private step:
    | {
        opened: number
        rateBefore: number | undefined
        openSince: number | undefined
        bytesAt: number
        /** Judged short once already: the second interval decides. */
        secondLook?: boolean
      }
    | undefined
  private backoffUntil = 0
  private failures = 0
  private sample: { at: number; bytes: number } | undefined
  /** The member's rate over the last full probe interval. */
  private rate: number | undefined

  /** A lane we asked for did not open. */
  laneFailed(): void {
    this.failures++
  }

  decide(f: LaneFigures): LaneDecision {
    if (f.ours > 0 && f.wantedBytes === 0 && f.idleMs >= LANE_IDLE_MS) {
      this.step = undefined
      return { close: f.ours, reason: 'idle' }
    }
    if (f.connecting > 0) return undefined
    const surplus = this.surplusUnderCap(f)
    if (surplus > 0) {
      this.step = undefined
      return { close: surplus, reason: 'its upload cap fills fewer lanes' }
    }
    if (this.step) return this.judgeStep(f)
    this.measure(f)
    return this.maybeOpen(f)
  }

  /** How long a step's lanes run before it is judged. */
  private probeMs(f: LaneFigures): number {
    return Math.max(LANE_PROBE_MS, (f.rttMs ?? 0) * LANE_PROBE_RTTS)
  }

  /**
   * Extra lanes of ours beyond what the member's upload cap can fill, with room to spare (twice
   * the cap), so a round trip that wavers does not close and reopen lanes.
   */
  private surplusUnderCap(f: LaneFigures): number {
    if (f.senderCap === undefined || f.rttMs === undefined || f.ours === 0) return 0
    return Math.min(f.ours, f.open - lanesToCarry(2 * f.senderCap, f.rttMs))
  }

  private maybeOpen(f: LaneFigures): LaneDecision {
    if (f.open >= f.cap || f.wantedBytes === 0 || f.now < this.backoffUntil || this.failures >= LANE_CONNECT_FAILURES) return
    if (f.rttMs === undefined || f.rttMs < LANE_MIN_RTT_MS) return
    // A member that caps its upload is limited by that, not by windows: no more lanes than the cap fills.
    const cap = Math.min(f.cap, f.senderCap === undefined ? Infinity : lanesToCarry(f.senderCap, f.rttMs))
    if (f.open >= cap) return
    if (f.open === 1) {
      if (f.wantedBytes < ((LANE_WINDOW_BYTES * 1000) / f.rttMs) * LANES_WORTH_SECONDS) return
      const guess = lanesToCarry(FIRST_GUESS_BYTES_PER_SECOND, f.rttMs)
      const opened = Math.min(cap, Math.max(INITIAL_LANES, guess)) - 1
      this.step = { opened, rateBefore: undefined, openSince: undefined, bytesAt: f.bytesDown }
      return { open: opened, reason: 'the round trip makes one lane window-bound' }
    }
    if (this.rate === undefined) return
    const opened = Math.min(cap - f.open, f.open)
    this.step = { opened, rateBefore: this.rate, openSince: undefined, bytesAt: f.bytesDown }
    return { open: opened, reason: 'the last step paid' }
  }

  /** Once a step's lanes have been open for a probe interval: keep them (and maybe step again) or undo it. */
  private judgeStep(f: LaneFigures): LaneDecision {
    const step = this.step!
    if (step.openSince === undefined) {
      step.openSince = f.now
      step.bytesAt = f.bytesDown
      return undefined
    }
    if (f.now - step.openSince < this.probeMs(f)) return undefined
    const rate = ((f.bytesDown - step.bytesAt) * 1000) / (f.now - step.openSince)
    const paid = step.rateBefore === undefined || rate >= step.rateBefore * (1 + LANE_MIN_GAIN)
    if (!paid && !step.secondLook) {
      // The new lanes' windows may still have been growing: judge them over one more interval.
      Object.assign(step, { secondLook: true, openSince: f.now, bytesAt: f.bytesDown })
      return undefined
    }
    this.step = undefined
    this.rate = rate
    this.sample = { at: f.now, bytes: f.bytesDown }
    if (!paid) return this.undo(f, Math.min(step.opened, f.ours), 'the last step did not raise the rate')
    return this.maybeOpen(f)
  }

  private undo(f: LaneFigures, close: number, reason: string): LaneDecision {
    this.backoffUntil = f.now + LANE_BACKOFF_MS
    return close > 0 ? { close, reason } : undefined
  }

  /** The member's rate over whole probe intervals while no step is under way. */
  private measure(f: LaneFigures): void {
    if (!this.sample || f.bytesDown < this.sample.bytes) {
      this.sample = { at: f.now, bytes: f.bytesDown }
      return
    }
    if (f.now - this.sample.at < this.probeMs(f)) return
    this.rate = ((f.bytesDown - this.sample.bytes) * 1000) / (f.now - this.sample.at)
    this.sample = { at: f.now, bytes: f.bytesDown }
  }
}
