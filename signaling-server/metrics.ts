import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry as MetricsRegistry } from 'prom-client'
import type { Registry } from './registry'

/** What the gauges read when /metrics is scraped. */
export interface MetricsSources {
  connections: () => number
  relay: () => { sockets: number; links: number } | undefined
  registry: Registry
}

/**
 * The service's figures in the Prometheus text format (prom-client): what it carries, refuses and
 * relays, how its Redis answers, its event loop and memory. Counts only: no names, no keys.
 */
export class Metrics {
  readonly registry = new MetricsRegistry()
  readonly messagesIn: Counter<'type'>
  readonly messagesOut: Counter<'type'>
  readonly refusals: Counter<'reason'>
  readonly signals: Counter
  readonly relayedBytes: Counter
  readonly registryCalls: Histogram<'operation'>
  readonly registryErrors: Counter<'operation'>

  constructor(sources: MetricsSources) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.messagesIn = new Counter({
      name: 'tabswarm_messages_received_total',
      help: 'Tracker messages received, by type',
      labelNames: ['type'],
      registers,
    })
    this.messagesOut = new Counter({
      name: 'tabswarm_messages_sent_total',
      help: 'Tracker messages sent, by type',
      labelNames: ['type'],
      registers,
    })
    this.refusals = new Counter({
      name: 'tabswarm_refusals_total',
      help: 'Messages and connections refused, by reason',
      labelNames: ['reason'],
      registers,
    })
    this.signals = new Counter({ name: 'tabswarm_signals_relayed_total', help: 'WebRTC signals relayed between peers', registers })
    this.relayedBytes = new Counter({
      name: 'tabswarm_relayed_bytes_total',
      help: 'Wire bytes carried by the last-resort relay',
      registers,
    })
    this.registryCalls = new Histogram({
      name: 'tabswarm_registry_call_seconds',
      help: 'Time of each call to the registry (Redis, when configured), by operation',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers,
    })
    this.registryErrors = new Counter({
      name: 'tabswarm_registry_errors_total',
      help: 'Registry calls that failed, by operation',
      labelNames: ['operation'],
      registers,
    })
    new Gauge({
      name: 'tabswarm_connections',
      help: 'Open tracker connections on this instance',
      registers,
      collect() {
        this.set(sources.connections())
      },
    })
    new Gauge({
      name: 'tabswarm_relay_sockets',
      help: 'Open relay sockets on this instance',
      registers,
      collect() {
        this.set(sources.relay()?.sockets ?? 0)
      },
    })
    new Gauge({
      name: 'tabswarm_relay_links',
      help: 'Relayed links active on this instance',
      registers,
      collect() {
        this.set(sources.relay()?.links ?? 0)
      },
    })
    const counts = () => sources.registry.counts().catch(() => ({ files: NaN, peers: NaN }))
    new Gauge({
      name: 'tabswarm_peers',
      help: 'Peers registered, on every instance',
      registers,
      async collect() {
        this.set((await counts()).peers)
      },
    })
    new Gauge({
      name: 'tabswarm_swarms',
      help: 'Files with a swarm, on every instance',
      registers,
      async collect() {
        this.set((await counts()).files)
      },
    })
  }

  /** The registry, each call timed and its failures counted by operation. */
  timed(registry: Registry): Registry {
    const metrics = this
    return new Proxy(registry, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver)
        if (typeof value !== 'function' || key === 'close' || key === 'counts') return value
        return async (...args: unknown[]) => {
          const end = metrics.registryCalls.startTimer({ operation: String(key) })
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
          } catch (error) {
            metrics.registryErrors.inc({ operation: String(key) })
            throw error
          } finally {
            end()
          }
        }
      },
    })
  }
}
