import type { WebSocketServer } from 'ws'
import type { Connection } from './connection'
import type { Registry } from './registry'
import type { Rooms } from './rooms'
import type { FaultLog, Log } from './log'

/** Lapsed peers taken per script call, so one call stays short; a sweep repeats until none are left. */
const EXPIRE_BATCH = 500
/** Registrations are refreshed this many times per TTL, so one lapses only after several missed refreshes. */
const REFRESHES_PER_TTL = 4

export interface UpkeepDeps {
  wss: WebSocketServer
  registry: Registry
  rooms: Rooms
  /** Connections by socket, and greeted ones by peer id. */
  sockets: ReadonlyMap<unknown, Connection>
  connections: ReadonlyMap<string, Connection>
  heartbeatMs: number
  peerTtlMs: number
  log: Log
  /**
   * Redis's outage: a refresh that fails during it is counted there, not logged on its own; when it
   * ends, registrations are refreshed at once.
   */
  faults: Pick<FaultLog, 'drop' | 'active' | 'lastEndedAt' | 'onEnd'>
}

/**
 * The tracker's sweeps: WebSocket ping/pong drops connections that stop answering; this
 * instance's registrations are refreshed, and peers whose instance stopped refreshing them are
 * swept out of their swarms.
 */
export class Upkeep {
  private readonly heartbeat: ReturnType<typeof setInterval>
  private readonly refresher: ReturnType<typeof setInterval>
  private running = false
  /** A pass was asked for while one ran: run another when it ends. */
  private passAgain = false
  private readonly stopListening: () => void
  /**
   * No sweep before this (ms since the epoch): after Redis was unreachable every deadline may have
   * passed, and the live peers' owners must refresh them before anyone sweeps them out.
   */
  private sweepAfter = 0
  /** When the previous pass began. */
  private lastPassAt = 0

  constructor(private readonly deps: UpkeepDeps) {
    this.heartbeat = setInterval(() => this.checkLiveness(), deps.heartbeatMs)
    this.heartbeat.unref()
    this.refresher = setInterval(() => void this.keepRegistrations(), deps.peerTtlMs / REFRESHES_PER_TTL)
    this.refresher.unref()
    // A Redis that came back empty (restarted without its data) has lost every registration: its
    // owners learn it from the refresh and close them, so peers register again within a second or
    // two of Redis's return, not a refresh period later.
    this.stopListening = deps.faults.onEnd(() => void this.keepRegistrations({ queue: true }))
  }

  stop(): void {
    clearInterval(this.heartbeat)
    clearInterval(this.refresher)
    this.stopListening()
  }

  private checkLiveness(): void {
    for (const socket of this.deps.wss.clients) {
      const connection = this.deps.sockets.get(socket)
      if (connection && !connection.alive) {
        socket.terminate()
        continue
      }
      if (connection) connection.alive = false
      socket.ping()
    }
  }

  /** Refreshes this instance's peers in the registry and forgets peers whose instance stopped doing so. */
  private async keepRegistrations({ queue = false } = {}): Promise<void> {
    if (this.running) {
      // A tick skips a pass still running; an outage's end must not (that pass may have failed in it).
      this.passAgain ||= queue
      return
    }
    this.running = true
    const { registry, connections, rooms } = this.deps
    const passAt = Date.now()
    try {
      // A peer whose registration lapsed (this instance stalled) reconnects and announces itself again.
      for (const peerId of await registry.refresh([...connections.keys()])) connections.get(peerId)?.socket.terminate()
      if (this.registryWasAway(passAt)) this.sweepAfter = Math.max(this.sweepAfter, Date.now() + this.deps.peerTtlMs)
      while (Date.now() >= this.sweepAfter) {
        const expired = await registry.expire(EXPIRE_BATCH)
        for (const { peerId, fileIds } of expired) {
          for (const fileId of fileIds) await rooms.left(fileId, peerId)
        }
        if (expired.length < EXPIRE_BATCH) break
      }
    } catch (error) {
      this.sweepAfter = Date.now() + this.deps.peerTtlMs
      if (!this.deps.faults.drop((error as Error).message)) {
        this.deps.log.warn(
          { event: 'registrations.refresh-failed', reason: (error as Error).message },
          'peer registrations could not be refreshed',
        )
      }
    } finally {
      this.lastPassAt = passAt
      this.running = false
    }
    if (this.passAgain) {
      this.passAgain = false
      void this.keepRegistrations()
    }
  }

  /**
   * Redis was out of reach since the previous pass, though this refresh went through: down now,
   * back since (a pause the ping watchdog saw), or this refresh stalled longer than a pass. Other
   * instances' refreshes may have stalled too, so their live peers' deadlines may have passed.
   */
  private registryWasAway(passAt: number): boolean {
    const { active, lastEndedAt } = this.deps.faults
    const endedSince = lastEndedAt !== undefined && lastEndedAt >= this.lastPassAt
    return active || endedSince || Date.now() - passAt > this.deps.peerTtlMs / REFRESHES_PER_TTL
  }
}
