import { createSocket, type RemoteInfo } from 'node:dgram'
import { isIPv4 } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { Log } from './log'

// A STUN responder (RFC 5389): answers Binding requests with the address they came from, so
// peers behind ordinary NATs learn their public address from this service alone. Anything else
// that arrives is dropped without a reply.

const BINDING_REQUEST = 0x0001
const BINDING_SUCCESS = 0x0101
const MAGIC_COOKIE = 0x2112a442
const HEADER_BYTES = 20
const XOR_MAPPED_ADDRESS = 0x0020
const SOFTWARE = 0x8022
const SOFTWARE_NAME = Buffer.from('TabSwarm')

/** The transaction id of a well-formed Binding request, or undefined. */
export function bindingTransaction(message: Buffer): Buffer | undefined {
  if (message.length < HEADER_BYTES || message.length > 1024) return undefined
  if (message.readUInt16BE(0) !== BINDING_REQUEST || message.readUInt32BE(4) !== MAGIC_COOKIE) return undefined
  const length = message.readUInt16BE(2)
  if (length % 4 !== 0 || HEADER_BYTES + length !== message.length) return undefined
  return message.subarray(8, 20)
}

/** A Binding success response carrying the sender's address as XOR-MAPPED-ADDRESS. */
export function bindingSuccess(transaction: Buffer, address: string, port: number): Buffer {
  const v4 = isIPv4(address)
  const ip = v4 ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address)
  const xorKey = Buffer.concat([Buffer.alloc(4), transaction])
  xorKey.writeUInt32BE(MAGIC_COOKIE, 0)
  const xored = Buffer.from(ip.map((byte, i) => byte ^ xorKey[i]!))
  const mapped = Buffer.alloc(4 + ip.length)
  mapped.writeUInt8(0, 0)
  mapped.writeUInt8(v4 ? 0x01 : 0x02, 1)
  mapped.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 2)
  xored.copy(mapped, 4)
  const software = Buffer.alloc(Math.ceil(SOFTWARE_NAME.length / 4) * 4)
  SOFTWARE_NAME.copy(software)
  const attributes = Buffer.concat([
    attribute(XOR_MAPPED_ADDRESS, mapped, mapped.length),
    attribute(SOFTWARE, software, SOFTWARE_NAME.length),
  ])
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt16BE(BINDING_SUCCESS, 0)
  header.writeUInt16BE(attributes.length, 2)
  header.writeUInt32BE(MAGIC_COOKIE, 4)
  transaction.copy(header, 8)
  return Buffer.concat([header, attributes])
}

function attribute(type: number, padded: Buffer, length: number): Buffer {
  const head = Buffer.alloc(4)
  head.writeUInt16BE(type, 0)
  head.writeUInt16BE(length, 2)
  return Buffer.concat([head, padded])
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::')
  const groups = (part: string) => (part ? part.split(':') : [])
  const left = groups(head)
  const right = groups(tail)
  const all = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  const bytes = Buffer.alloc(16)
  all.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16) || 0, i * 2))
  return bytes
}

export interface StunResponder {
  port: number
  close(): Promise<void>
}

/**
 * Listens for Binding requests on UDP `port` of `host`; where `host` is every address (0.0.0.0 or
 * ::), on each local address by itself: a socket bound to all addresses answers from whichever its
 * route prefers, and a client behind a NAT drops an answer from another address than it asked.
 */
export async function startStunResponder(port: number, host: string, log?: Log): Promise<StunResponder> {
  const everywhere = host === '0.0.0.0' || host === '::'
  const addresses = everywhere ? localAddresses(host === '::') : [host]
  const first = await bindResponder(port, addresses[0]!, log)
  const others = await Promise.all(addresses.slice(1).map((address) => bindResponder(first.port, address, log)))
  return { port: first.port, close: async () => void (await Promise.all([first, ...others].map((socket) => socket.close()))) }
}

/** This host's addresses, IPv4 (and IPv6 when listening on ::), link-local IPv6 left out. */
function localAddresses(withIpv6: boolean): string[] {
  const found: string[] = []
  for (const infos of Object.values(networkInterfaces())) {
    for (const info of infos ?? []) {
      if (info.family === 'IPv4') found.push(info.address)
      else if (withIpv6 && !info.address.startsWith('fe80')) found.push(info.address)
    }
  }
  return found.length > 0 ? found : ['127.0.0.1']
}

function bindResponder(port: number, address: string, log: Log | undefined): Promise<StunResponder> {
  const socket = createSocket({ type: isIPv4(address) ? 'udp4' : 'udp6', ...(isIPv4(address) ? {} : { ipv6Only: true }) })
  socket.on('message', (message: Buffer, from: RemoteInfo) => {
    const transaction = bindingTransaction(message)
    if (!transaction) return
    const sender = from.address.startsWith('::ffff:') ? from.address.slice(7) : from.address
    socket.send(bindingSuccess(transaction, sender, from.port), from.port, from.address)
  })
  socket.on('error', (error) => log?.error({ event: 'stun.error', reason: error.message }, 'STUN responder failed'))
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(port, address, () => {
      socket.off('error', reject)
      resolve({ port: socket.address().port, close: () => new Promise((done) => socket.close(() => done())) })
    })
  })
}
