// The raw limit a benchmark compares the app with: one plain RTCDataChannel between two browsers
// on on-disk profiles, 64 KiB messages sent as fast as bufferedAmount allows (kept between 1 and
// 4 MiB), timed from connection start to last byte. CPU is both browsers' process trees.
import type { Page } from '@playwright/test'
import { launchProfile } from './harness'
import { cpuByKind, cpuByThread, cpuSeconds, machineCpu } from './proc'

export interface Run {
  seconds: number
  cpu: number
  /** CPU seconds by kind of process (renderer, network, storage, browser, ...), for the profile. */
  kinds?: Record<string, number>
  /** Share of the machine's cores busy meanwhile: near 1, the cores set the pace; lower, something waits. */
  busy?: number
}

export interface RawRun extends Run {
  /** The connection's round trip as WebRTC measured it at the end (getStats), ms. */
  rttMs: number | undefined
  /** From connection start to the first message received. */
  firstByteSeconds: number
}

export interface RawPumpOptions {
  iceServers?: RTCIceServer[]
  /** Relay-only ICE (the TURN path). */
  relayOnly?: boolean
  /** Runs on the sending page before its peer connection exists (network emulation). */
  shapeSender?: (page: Page) => Promise<void>
}

/** The machine's busy share from now until the returned function is called. */
export function measureBusy(): () => number {
  const before = machineCpu()
  return () => {
    const after = machineCpu()
    return (after.busy - before.busy) / (after.total - before.total)
  }
}

/** CPU seconds by kind of process and by job of thread over both browsers, from now until the returned function is called. */
export function measureKinds(roots: number[]): () => Record<string, number> {
  const sum = () => {
    const total: Record<string, number> = {}
    for (const root of roots)
      for (const [kind, seconds] of [...Object.entries(cpuByKind(root)), ...Object.entries(cpuByThread(root))])
        total[kind] = (total[kind] ?? 0) + seconds
    return total
  }
  const before = sum()
  return () => Object.fromEntries(Object.entries(sum()).map(([kind, seconds]) => [kind, seconds - (before[kind] ?? 0)]))
}

/** One data channel, `bytes` long, from a page of one on-disk profile to a page of another. */
export async function rawPump(url: string, bytes: number, options: RawPumpOptions = {}): Promise<RawRun> {
  const profiles = await Promise.all([launchProfile(), launchProfile()])
  const [a, b] = (await Promise.all(
    profiles.map(async ({ context }) => {
      const page = context.pages()[0] ?? (await context.newPage())
      await page.goto(url)
      return page
    }),
  )) as [Page, Page]
  await options.shapeSender?.(a)
  const config = JSON.stringify({ iceServers: options.iceServers ?? [], ...(options.relayOnly ? { iceTransportPolicy: 'relay' } : {}) })
  const cpuOf = () => profiles.reduce((sum, profile) => sum + cpuSeconds(profile.root), 0)
  const gathered = `new Promise((resolve) => { if (pc.iceGatheringState === 'complete') resolve(); else pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve() })`
  const cpu0 = cpuOf()
  const kinds = measureKinds(profiles.map((profile) => profile.root))
  const busy = measureBusy()
  const started = performance.now()
  const offer = await a.evaluate(`(async () => {
    const pc = window.pc = new RTCPeerConnection(${config})
    window.channel = pc.createDataChannel('pump', { ordered: true })
    await pc.setLocalDescription(await pc.createOffer())
    await ${gathered}
    return pc.localDescription.toJSON()
  })()`)
  const answer = await b.evaluate(`(async (offer) => {
      const pc = window.pc = new RTCPeerConnection(${config})
      window.received = new Promise((resolve) => {
        pc.ondatachannel = ({ channel }) => {
          let got = 0
          channel.onmessage = (event) => {
            if (got === 0) window.firstAt = performance.now()
            got += event.data.byteLength ?? event.data.size
            if (got >= ${bytes}) resolve(got)
          }
        }
      })
      await pc.setRemoteDescription(offer)
      await pc.setLocalDescription(await pc.createAnswer())
      await ${gathered}
      return pc.localDescription.toJSON()
    })(${JSON.stringify(offer)})`)
  await a.evaluate(`(async (answer) => {
    await pc.setRemoteDescription(answer)
    const channel = window.channel
    await new Promise((resolve) => channel.readyState === 'open' ? resolve() : (channel.onopen = resolve))
    const message = new Uint8Array(64 * 1024)
    channel.bufferedAmountLowThreshold = 1024 * 1024
    let sent = 0
    while (sent < ${bytes}) {
      while (channel.bufferedAmount < 4 * 1024 * 1024 && sent < ${bytes}) { channel.send(message); sent += message.length }
      if (sent < ${bytes}) await new Promise((resolve) => (channel.onbufferedamountlow = resolve))
    }
  })(${JSON.stringify(answer)})`)
  await b.evaluate('window.received')
  const seconds = (performance.now() - started) / 1000
  const cpu = cpuOf() - cpu0
  const byKind = kinds()
  const busyShare = busy()
  // The first message's time on the receiving page, moved to this process's clock through the time origins.
  const { firstAt, rtt } = (await b.evaluate(`(async () => {
    let rtt
    ;(await pc.getStats()).forEach((r) => { if (r.type === 'candidate-pair' && r.nominated && r.currentRoundTripTime !== undefined) rtt = r.currentRoundTripTime * 1000 })
    return { firstAt: window.firstAt, rtt }
  })()`)) as { firstAt: number; rtt: number | undefined }
  const pageStarted = (await b.evaluate('performance.timeOrigin')) as number
  const firstByteSeconds = (pageStarted + firstAt - (performance.timeOrigin + started)) / 1000
  for (const profile of profiles) await profile.close()
  return { seconds, cpu, kinds: byKind, busy: busyShare, rttMs: rtt, firstByteSeconds }
}
