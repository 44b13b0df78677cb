import { randomBytes } from 'node:crypto'
import type { WebSocket } from 'ws'
import { utf8Exceeds, utf8Length } from '../src/protocol/encoding'
import { MAX_TRACKER_FRAME_BYTES, type ErrorCode, type ServerMessage, type ServerMessageOf } from '../src/protocol/tracker'
import type { TrackerLimits } from './config'
import { messageBudget, perMinute, SignalBudget, type RateBudget } from './limits'
import type { NewsOutbox } from './news'
import type { Log } from './log'
import type { Metrics } from './metrics'

/** Bytes of randomness in a connection's session id. */
const SESSION_BYTES = 9

/** One WebSocket and what the tracker counts and remembers for it. */
export interface Connection {
  /** Messages are handled one after another, in arrival order: this is the last one's work. */
  queue: Promise<void>
  /** The socket closed: nothing more is handled, and what was under way is rolled back. */
  closed: boolean
  /** Empty until hello. */
  peerId: string
  /** This connection's claim on the peer id; a reconnect elsewhere makes a new one. */
  session: string
  socket: WebSocket
  /** The client's address (see clientAddress). */
  address: string
  alive: boolean
  budget: RateBudget
  /** Signals relayed to this peer, from anyone: a flood is dropped here, whichever instance it came through. */
  inboundSignals: SignalBudget
  refusals: number
  published: Set<string>
  manifestBytes: number
  /** Files whose swarm it is in. */
  member: Set<string>
  /** Files it asked for that nobody shared yet. */
  awaiting: Set<string>
  /** Files whose swarm it watches (the swarm view). */
  viewing: Set<string>
  /** Join codes it was given, by file id. */
  codes: Map<string, { code: string; expiresAt: number }>
  codeLookups: RateBudget
  /** Chunk news gathered for a client that takes `swarm-news` (it said so in hello). */
  news?: NewsOutbox
  /** Where what it is sent and refused is counted and logged. */
  observer: Observer
}

/** The service's log and (when on) its metrics, as a connection reports to them. */
export interface Observer {
  log: Log
  metrics: Metrics | undefined
}

export function newConnection(socket: WebSocket, address: string, limits: TrackerLimits, observer: Observer): Connection {
  return {
    observer,
    queue: Promise.resolve(),
    closed: false,
    peerId: '',
    session: randomBytes(SESSION_BYTES).toString('base64url'),
    socket,
    address,
    alive: true,
    budget: messageBudget(limits),
    inboundSignals: new SignalBudget(limits),
    refusals: 0,
    published: new Set(),
    manifestBytes: 0,
    member: new Set(),
    awaiting: new Set(),
    viewing: new Set(),
    codes: new Map(),
    codeLookups: perMinute(limits.codeLookupsPerMinute),
  }
}

/** Sends a message; every one is built to fit the clients' frame cap, so an oversized one is a bug, reported as such. */
export function send(connection: Connection, message: ServerMessage): void {
  if (connection.socket.readyState !== connection.socket.OPEN) return
  let text = JSON.stringify(message)
  const { log, metrics } = connection.observer
  if (utf8Exceeds(text, MAX_TRACKER_FRAME_BYTES)) {
    log.error({ event: 'message.oversized', type: message.type }, `a ${message.type} message was over the frame cap; sent an error instead`)
    const id = 'id' in message ? { id: message.id } : {}
    text = JSON.stringify({ type: 'error', code: 'internal', message: 'the reply was too large to send', ...id })
  }
  metrics?.messagesOut.inc({ type: message.type })
  if (message.type === 'error') metrics?.refusals.inc({ reason: message.code })
  connection.socket.send(text)
}

/** Relays a signal to this peer if its inbound budget allows; false when dropped. */
export function sendSignal(connection: Connection, push: ServerMessageOf<'signal'>): boolean {
  if (!connection.inboundSignals.spend(utf8Length(JSON.stringify(push.data)))) return false
  send(connection, push)
  connection.observer.metrics?.signals.inc()
  return true
}

export function refuse(connection: Connection, code: ErrorCode, message: string, id?: number): void {
  send(connection, { type: 'error', code, message, ...(id === undefined ? {} : { id }) })
}

/** Tells the client it is over a limit; one that keeps going is disconnected. */
export function overLimit(connection: Connection, refusalsBeforeDisconnect: number, message: string, id?: number): void {
  connection.refusals++
  if (connection.refusals > refusalsBeforeDisconnect) {
    connection.socket.close(1008, 'over the tracker limits')
    return
  }
  refuse(connection, 'rate-limited', message, id)
}
