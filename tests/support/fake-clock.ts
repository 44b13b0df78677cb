import type { Cancel, Clock } from '../../src/core/ports'

/** A clock that moves only when told: timers fire in order as `advance` passes them. */
export class FakeClock implements Clock {
  private time = 0
  private nextId = 0
  private readonly timers = new Map<number, { at: number; every: number | undefined; callback: () => void }>()

  now = (): number => this.time

  after(ms: number, callback: () => void): Cancel {
    return this.add(ms, undefined, callback)
  }

  every(ms: number, callback: () => void): Cancel {
    return this.add(ms, ms, callback)
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in time order. */
  advance(ms: number): void {
    const end = this.time + ms
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0]
      if (!due) break
      const [id, timer] = due
      this.time = timer.at
      if (timer.every === undefined) this.timers.delete(id)
      else timer.at += timer.every
      timer.callback()
    }
    this.time = end
  }

  get pending(): number {
    return this.timers.size
  }

  private add(ms: number, every: number | undefined, callback: () => void): Cancel {
    const id = this.nextId++
    this.timers.set(id, { at: this.time + Math.max(0, ms), every, callback })
    return () => this.timers.delete(id)
  }
}
