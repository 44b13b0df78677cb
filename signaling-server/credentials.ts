import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** Bytes of randomness in a new peer id. */
const PEER_ID_BYTES = 12

/** Peer ids, the resume tokens that let a reconnecting peer keep its id, and TURN credentials. */
export class Credentials {
  constructor(
    private readonly secret: string,
    private readonly turn: { secret: string; urls: string[]; ttlSeconds: number } | undefined,
  ) {}

  newPeerId(): string {
    return randomBytes(PEER_ID_BYTES).toString('base64url')
  }

  tokenFor(peerId: string): string {
    return createHmac('sha256', this.secret).update(peerId).digest('base64url')
  }

  /** The peer id a resume proves, or undefined. */
  validResume(resume: { peerId: string; token: string } | undefined): string | undefined {
    if (!resume) return undefined
    const expected = Buffer.from(this.tokenFor(resume.peerId))
    const given = Buffer.from(resume.token)
    return expected.length === given.length && timingSafeEqual(expected, given) ? resume.peerId : undefined
  }

  /**
   * TURN REST API credentials (what coturn's --use-auth-secret checks): the username is
   * `<expiry unix time>:<peer id>`, the password the base64 HMAC-SHA1 of it under the shared secret.
   */
  turnServersFor(peerId: string): { urls: string[]; username: string; credential: string }[] {
    const turn = this.turn
    if (!turn) return []
    const username = `${Math.floor(Date.now() / 1000) + turn.ttlSeconds}:${peerId}`
    return [{ urls: turn.urls, username, credential: createHmac('sha1', turn.secret).update(username).digest('base64') }]
  }
}
