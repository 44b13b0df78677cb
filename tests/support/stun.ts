import { randomBytes } from 'node:crypto'

export const STUN_MAGIC_COOKIE = 0x2112a442

/** A STUN Binding request (RFC 5389) with no attributes. */
export function stunBindingRequest(transaction: Buffer = randomBytes(12)): Buffer {
  const header = Buffer.alloc(20)
  header.writeUInt16BE(0x0001, 0)
  header.writeUInt16BE(0, 2)
  header.writeUInt32BE(STUN_MAGIC_COOKIE, 4)
  transaction.copy(header, 8)
  return header
}
