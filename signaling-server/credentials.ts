import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** Bytes of randomness in a new peer id, and in a resume token's nonce. */
const PEER_ID_BYTES = 12
const NONCE_BYTES = 8
/** Peers whose newest resume token this instance remembers; the oldest are forgotten first. */
const MAX_REMEMBERED_TOKENS = 200_000
const TOKEN_PATTERN = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{11})\.([A-Za-z0-9_-]{43})$/
/** A relay ticket opens a relay socket within this long of being handed out. */
export const RELAY_TICKET_TTL_MS = 60_000
const RELAY_TICKET_PATTERN = /^([A-Za-z0-9_-]{8,64})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/

/**
 * Peer ids, the resume tokens that let a reconnecting peer keep its id, and TURN credentials.
 * A token is `<issued at>.<nonce>.<HMAC of peer id, issued at and nonce>`: good for `tokenTtlMs`,
 * and once: a resume hands out a new token, and this instance then refuses the old one. After a
 * restart nothing is remembered, so any unexpired token works once more (that is what lets
 * peers keep their ids across a tracker restart).
 */
export class Credentials {
  /** Per peer id, the newest token handed out here. */
  private readonly newest = new Map<string, string>()

  constructor(
    private readonly secret: string,
    private readonly tokenTtlMs: number,
    private readonly turn: { secret: string; urls: string[]; ttlSeconds: number } | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  newPeerId(): string {
    return randomBytes(PEER_ID_BYTES).toString('base64url')
  }

  /** A fresh token for the peer id; every earlier one stops working here. */
  issue(peerId: string): string {
    const issuedAt = this.now().toString(36)
    const nonce = randomBytes(NONCE_BYTES).toString('base64url')
    const token = `${issuedAt}.${nonce}.${this.mac(peerId, issuedAt, nonce)}`
    this.newest.delete(peerId) // re-inserted last, so the map's order is oldest first
    this.newest.set(peerId, token)
    if (this.newest.size > MAX_REMEMBERED_TOKENS) this.newest.delete(this.newest.keys().next().value!)
    return token
  }

  /** The peer id a resume proves (signed, unexpired, not replaced by a newer token), or undefined. */
  validResume(resume: { peerId: string; token: string } | undefined): string | undefined {
    if (!resume) return undefined
    const match = TOKEN_PATTERN.exec(resume.token)
    if (!match) return undefined
    const [, issuedAt, nonce, mac] = match as unknown as [string, string, string, string]
    const expected = Buffer.from(this.mac(resume.peerId, issuedAt, nonce))
    if (!timingSafeEqual(expected, Buffer.from(mac))) return undefined
    if (this.now() - parseInt(issuedAt, 36) > this.tokenTtlMs) return undefined
    const newest = this.newest.get(resume.peerId)
    if (newest !== undefined && newest !== resume.token) return undefined
    return resume.peerId
  }

  /**
   * TURN REST API credentials (what coturn's --use-auth-secret checks): the username is
   * `<expiry unix time>:<peer id>`, the password the base64 HMAC-SHA1 of it under the shared secret.
   */
  turnServersFor(peerId: string): { urls: string[]; username: string; credential: string }[] {
    const turn = this.turn
    if (!turn) return []
    const username = `${Math.floor(this.now() / 1000) + turn.ttlSeconds}:${peerId}`
    return [{ urls: turn.urls, username, credential: createHmac('sha1', turn.secret).update(username).digest('base64') }]
  }

  /**
   * Proves that this tracker (or one with the same secret) gave `code` out for `fileId` and until
   * `expiresAt`: only with it can a peer claim that code again after a restart lost it.
   */
  codeProof(code: string, fileId: string, expiresAt: number): string {
    return createHmac('sha256', this.secret).update(`code.${code}.${fileId}.${expiresAt}`).digest('base64url')
  }

  validCodeProof(code: string, fileId: string, expiresAt: number, proof: string): boolean {
    const expected = Buffer.from(this.codeProof(code, fileId, expiresAt))
    const given = Buffer.from(proof)
    return expected.length === given.length && timingSafeEqual(expected, given)
  }

  /** A ticket that opens a relay socket as this peer: `<peer id>.<expiry>.<HMAC>`, good for RELAY_TICKET_TTL_MS. */
  relayTicket(peerId: string): string {
    const expires = (this.now() + RELAY_TICKET_TTL_MS).toString(36)
    return `${peerId}.${expires}.${this.relayMac(peerId, expires)}`
  }

  /** The peer a relay ticket names, if it is this tracker's and unexpired. */
  relayTicketPeer(ticket: string): string | undefined {
    const match = RELAY_TICKET_PATTERN.exec(ticket)
    if (!match) return undefined
    const [, peerId, expires, mac] = match as unknown as [string, string, string, string]
    const expected = Buffer.from(this.relayMac(peerId, expires))
    if (expected.length !== mac.length || !timingSafeEqual(expected, Buffer.from(mac))) return undefined
    return parseInt(expires, 36) >= this.now() ? peerId : undefined
  }

  private relayMac(peerId: string, expires: string): string {
    return createHmac('sha256', this.secret).update(`relay.${peerId}.${expires}`).digest('base64url')
  }

  private mac(peerId: string, issuedAt: string, nonce: string): string {
    return createHmac('sha256', this.secret).update(`${peerId}.${issuedAt}.${nonce}`).digest('base64url')
  }
}
