import { readByteRange } from '../protocol/byte-range'
import { previewOf } from '../core/preview-kind'
import type { ReadableFile } from '../engine/readable-file'
import { readStreamRequest } from './stream-messages'
import type { StreamAnswer } from './stream-protocol'

/** What the engine serves streams from. */
export interface StreamFiles {
  readable(fileId: string, path?: string): ReadableFile | undefined
}

const NOT_HERE = 'This file is not in this browser, or it holds the file for others without its key.'

/**
 * Answers one stream port (one HTTP request of a player or preview): the head from the file and
 * the Range asked, then the bytes one pull at a time, waiting for chunks still on their way.
 */
export function serveStreamPort(port: MessagePort, files: StreamFiles): void {
  let body: AsyncGenerator<Uint8Array<ArrayBuffer>> | undefined
  let pulling = Promise.resolve()
  // A read waiting for a chunk ends at once when the player lets go, so its window stops being urgent.
  const cancelled = new AbortController()
  const send = (answer: StreamAnswer) => port.postMessage(answer, answer.type === 'data' ? [answer.bytes] : [])
  const stop = () => {
    cancelled.abort()
    void body?.return(undefined).catch(() => undefined)
    body = undefined
    port.close()
  }
  port.onmessage = (event: MessageEvent) => {
    const request = readStreamRequest(event.data)
    if (!request) return stop()
    if (request.type === 'cancel') return stop()
    if (request.type === 'pull') {
      // One answer per pull, in order.
      pulling = pulling.then(async () => {
        if (!body) return
        try {
          const next = await body.next()
          send(next.done ? { type: 'end' } : { type: 'data', bytes: next.value.buffer })
        } catch (error) {
          send({ type: 'failed', message: (error as Error)?.message ?? String(error) })
        }
      })
      return
    }
    if (body) return
    const file = files.readable(request.fileId, request.path)
    if (!file) return send({ type: 'refused', status: 404, size: undefined, message: NOT_HERE })
    const range = readByteRange(request.range, file.size)
    if (range.kind === 'unsatisfiable') {
      return send({ type: 'refused', status: 416, size: file.size, message: 'The range asked for lies past the end of the file.' })
    }
    const preview = previewOf(file.type, file.name)
    body = file.read(range.start, range.end, cancelled.signal)
    send({
      type: 'head',
      status: range.kind === 'part' ? 206 : 200,
      start: range.start,
      end: range.end,
      size: file.size,
      contentType: preview.servedType,
      name: file.name.split('/').pop() ?? file.name,
      inline: preview.kind !== undefined,
    })
  }
  port.start()
}
