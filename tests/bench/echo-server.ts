// The ceiling for this stack on this machine: a `ws` server that echoes every text frame.
import { WebSocketServer } from 'ws'

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
server.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })))
server.on('listening', () => {
  const address = server.address()
  if (address && typeof address === 'object') console.log(`ws://127.0.0.1:${address.port}/ws`)
})
