declare module '@thaunknown/simple-peer/lite.js' {
  interface SimplePeerOptions {
    initiator?: boolean
    trickle?: boolean
    config?: RTCConfiguration
    channelConfig?: RTCDataChannelInit
    objectMode?: boolean
    /** A WebRTC implementation outside browsers (e.g. @roamhq/wrtc in Node). */
    wrtc?: object
  }
  export default class SimplePeer {
    constructor(options?: SimplePeerOptions)
    readonly connected: boolean
    readonly destroyed: boolean
    readonly bufferSize: number
    _channel: RTCDataChannel | null
    _pc: RTCPeerConnection | null
    signal(data: unknown): void
    send(data: ArrayBufferView | ArrayBuffer | string): void
    destroy(error?: Error): void
    on(event: 'signal', listener: (data: unknown) => void): this
    on(event: 'connect' | 'close', listener: () => void): this
    on(event: 'data', listener: (data: Uint8Array) => void): this
    on(event: 'error', listener: (error: Error & { code?: string }) => void): this
  }
}
