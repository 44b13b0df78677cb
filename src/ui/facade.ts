import type { BandwidthLimits, ClientSnapshot } from '../engine/views'

/** Everything the UI may ask of the rest of the app. */
export interface AppFacade {
  subscribe(listener: () => void): () => void
  snapshot(): ClientSnapshot
  share(file: File): Promise<string | undefined>
  open(fileId: string): Promise<void>
  retry(fileId: string): void
  fileForSaving(fileId: string): Promise<{ blob: Blob; name: string }>
  setLimits(limits: BandwidthLimits): void
  pause(fileId: string): Promise<void>
  resume(fileId: string): Promise<void>
  remove(fileId: string): Promise<void>
}
