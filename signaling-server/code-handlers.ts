import { randomInt } from 'node:crypto'
import { newJoinCode } from '../src/protocol/join-code'
import type { ClientMessageOf } from '../src/protocol/tracker'
import type { TrackerLimits } from './config'
import { overLimit, refuse, send, type Connection } from './connection'
import type { Credentials } from './credentials'
import type { JoinCodeRecord, JoinCodes } from './join-codes'
import type { KeyedBudgets } from './limits'
import type { Registry } from './registry'

/** A new code collides with a live one about once in JOIN_CODE_SPACE / live codes; this many tries is plenty. */
const NEW_CODE_ATTEMPTS = 8

export interface CodeContext {
  codes: JoinCodes
  registry: Registry
  limits: TrackerLimits
  joinCodeTtlMs: number
  /** Lookups and new codes by client address, on this instance. */
  requestsByAddress: KeyedBudgets
  /** Signs the codes given out, so only their holder can claim one again. */
  credentials: Pick<Credentials, 'codeProof' | 'validCodeProof'>
}

type Given = { code: string; expiresAt: number }
/** A code's record but its expiry: the file, its presenter, and a presented private file's key. */
type Holder = Omit<JoinCodeRecord, 'expiresAt'>

/**
 * Gives the peer a join code for a file. The same connection asking again for the same file gets
 * the same code; a code given before a reconnect (or a restart) is claimed again with the proof
 * the tracker signed, keeping its expiry, unless another file took it meanwhile. Whether the peer
 * shares the file is checked at lookup time, so a renewal may come before it has published again.
 */
export async function present(context: CodeContext, connection: Connection, message: ClientMessageOf<'present'>): Promise<void> {
  const { fileId } = message
  const { codesPerPeer } = context.limits
  if (!connection.codes.has(fileId) && connection.codes.size >= codesPerPeer) {
    return overLimit(connection, context.limits.refusalsBeforeDisconnect, `a peer may hold at most ${codesPerPeer} join codes`, message.id)
  }
  const asked = connection.codes.get(fileId) ?? provenClaim(context, fileId, message.renew)
  // What the code stands for; a presented private file's key goes with it.
  const holder: Holder = { fileId, owner: connection.peerId, ...(message.secret ? { secret: message.secret } : {}) }
  const renewed = asked === undefined ? undefined : await renew(context, holder, asked)
  if (!renewed && !context.requestsByAddress.spend(connection.address)) {
    const text = `too many join codes asked for from this address (at most ${context.limits.codeRequestsPerIpPerMinute} a minute): wait a minute`
    return overLimit(connection, context.limits.refusalsBeforeDisconnect, text, message.id)
  }
  const given = renewed ?? (await fresh(context, holder))
  if (!given) return refuse(connection, 'internal', 'no free join code was found; try again', message.id)
  connection.codes.set(fileId, given)
  const proof = context.credentials.codeProof(given.code, fileId, given.expiresAt)
  send(connection, { type: 'presented', id: message.id, fileId, code: given.code, expiresAt: given.expiresAt, proof })
}

/** A code the peer was given for this file before, as its signed proof shows; undefined otherwise. */
function provenClaim(context: CodeContext, fileId: string, renew: ClientMessageOf<'present'>['renew']): Given | undefined {
  if (!renew || !context.credentials.validCodeProof(renew.code, fileId, renew.expiresAt, renew.proof)) return undefined
  return { code: renew.code, expiresAt: renew.expiresAt }
}

/** Stores the code again for this owner, with its expiry; undefined when it expired or another file holds it. */
async function renew(context: CodeContext, holder: Holder, { code, expiresAt }: Given): Promise<Given | undefined> {
  if (expiresAt <= Date.now()) return undefined
  const existing = await context.codes.get(code)
  if (existing && (existing.fileId !== holder.fileId || existing.ended)) return undefined
  return (await context.codes.put(code, { ...holder, expiresAt })) ? { code, expiresAt } : undefined
}

async function fresh(context: CodeContext, holder: Holder): Promise<Given | undefined> {
  const expiresAt = Date.now() + context.joinCodeTtlMs
  for (let attempt = 0; attempt < NEW_CODE_ATTEMPTS; attempt++) {
    const code = newJoinCode(randomInt)
    // Not even an expired code still remembered: a late lookup of it must hear "expired", not find another file.
    if ((await context.codes.get(code)) === undefined && (await context.codes.put(code, { ...holder, expiresAt }))) {
      return { code, expiresAt }
    }
  }
  return undefined
}

/** Ends a code its presenter holds (shown by the tracker's proof, so it works after a reconnect too) and forgets its key. */
export async function endCode(context: CodeContext, connection: Connection, message: ClientMessageOf<'end-code'>): Promise<void> {
  const { fileId, given } = message
  const proven = context.credentials.validCodeProof(given.code, fileId, given.expiresAt, given.proof)
  if (!proven || !(await context.codes.end(given.code, fileId))) {
    return refuse(connection, 'not-found', 'no join code of yours has that code and file', message.id)
  }
  if (connection.codes.get(fileId)?.code === given.code) connection.codes.delete(fileId)
  send(connection, { type: 'code-ended', id: message.id, fileId })
}

/** Resolves a code to its file, while it has not expired and its presenter still shares the file. */
export async function lookupCode(context: CodeContext, connection: Connection, message: ClientMessageOf<'lookup-code'>): Promise<void> {
  const { limits } = context
  if (!connection.codeLookups.spend() || !context.requestsByAddress.spend(connection.address)) {
    const text = `too many join code lookups (at most ${limits.codeLookupsPerMinute} a minute, ${limits.codeRequestsPerIpPerMinute} from one address): wait a minute and try again`
    return overLimit(connection, limits.refusalsBeforeDisconnect, text, message.id)
  }
  const record = await context.codes.get(message.code)
  if (!record) return refuse(connection, 'not-found', 'no share has that code', message.id)
  if (record.ended) return refuse(connection, 'expired', 'the sharer ended that code', message.id)
  if (record.expiresAt <= Date.now()) return refuse(connection, 'expired', 'that code has expired', message.id)
  const swarm = await context.registry.swarm(record.fileId)
  if (!swarm?.peers.some((peer) => peer.peerId === record.owner)) {
    return refuse(connection, 'expired', 'the tab that showed that code no longer shares the file', message.id)
  }
  const secret = record.secret ? { secret: record.secret } : {}
  send(connection, { type: 'code-found', id: message.id, code: message.code, fileId: record.fileId, ...secret })
}
