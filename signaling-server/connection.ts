import { randomBytes } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { ErrorCode, ServerMessage } from '../src/protocol/tracker'
import type { TrackerLimits } from './config'
import { MessageBudget } from './limits'

/** Bytes of randomness in a connection's session id. */
const SESSION_BYTES = 9

/** One WebSocket and what the tracker counts and remembers for it. */
export interface Connection {
  /** Empty until hello. */
  peerId: string
  /** This connection's claim on the peer id; a reconnect elsewhere makes a new one. */
  session: string
  socket: WebSocket
  alive: boolean
  budget: MessageBudget
  refusals: number
  published: Set<string>
  manifestBytes: number
  /** Files whose swarm it is in. */
  member: Set<string>
  /** Files it asked for that nobody shared yet. */
  awaiting: Set<string>
  /** Files whose swarm it watches (the swarm view). */
  viewing: Set<string>
}

export function newConnection(socket: WebSocket, limits: TrackerLimits): Connection {
  return {
    peerId: '',
    session: randomBytes(SESSION_BYTES).toString('base64url'),
    socket,
    alive: true,
    budget: new MessageBudget(limits),
    refusals: 0,
    published: new Set(),
    manifestBytes: 0,
    member: new Set(),
    awaiting: new Set(),
    viewing: new Set(),
  }
}

export function send(connection: Connection, message: ServerMessage): void {
  if (connection.socket.readyState === connection.socket.OPEN) connection.socket.send(JSON.stringify(message))
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
