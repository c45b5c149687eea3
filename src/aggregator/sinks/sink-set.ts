/**
 * The set of enabled sinks: fans every exported flow out to each of them and sums their counters.
 *
 * Each sink queues and drains on its own (see sink.ts), so a slow, disconnected or failed sink
 * only fills and overflows its own queue; the others, and the aggregator's expiry loop, go on.
 * A sink that throws from offer() anyway (a bug) is counted and logged, and the others still get
 * the flow.
 *
 * `recordsExported` is upstream's numRecordsExported: flows handed to the sinks, counted once per
 * flow however many sinks there are.
 */
import { RateLimitedLog } from '../../transport/logger.ts';
import type { FlowCollectorConfig } from '../../config/aggregator-types.ts';
import type { AggregatedFlow } from '../core/index.ts';
import { silentSinkLogger, type SinkLogger } from './flow-row.ts';
import type { ProxiedRecord, ProxySink } from '../service/proxy-process.ts';
import { ipfixSinkFromConfig, ipfixSinkOptionsFromConfig, ProxyIpfixSink, type CollectorSinkContext } from './ipfix/index.ts';
import { JsonSink, jsonSinkFromConfig, jsonSinkOptionsFromConfig, proxyJsonRecordLine } from './json/index.ts';
import type { Sink, SinkStats } from './sink.ts';

export interface NamedSinkStats extends SinkStats {
  readonly name: string;
}

export interface SinkSetStats {
  /** Flows handed to the sinks (once per flow). */
  readonly recordsExported: number;
  /** offer() calls that threw (a sink bug; the flow still reached the other sinks). */
  readonly offerErrors: number;
  /** Sums over the sinks. */
  readonly queued: number;
  readonly sent: number;
  readonly dropped: number;
  readonly failures: number;
  readonly sinks: readonly NamedSinkStats[];
}

/** The with*Exporter flags of /recordmetrics. */
export interface ExporterFlags {
  readonly withClickHouseExporter: boolean;
  readonly withS3Exporter: boolean;
  readonly withLogExporter: boolean;
  readonly withIPFIXExporter: boolean;
}

/** Outcome of flush()/close() for one sink. */
export interface SinkOutcome {
  readonly name: string;
  readonly error?: Error;
}

export class SinkSet {
  private exported = 0;
  private offerErrors = 0;
  private readonly log: SinkLogger;
  private readonly errorLog = new RateLimitedLog(10_000, () => Date.now());

  constructor(readonly sinks: readonly Sink[], logger: SinkLogger = silentSinkLogger) {
    const names = new Set<string>();
    for (const s of sinks) {
      if (names.has(s.name)) throw new RangeError(`two sinks are named "${s.name}"`);
      names.add(s.name);
    }
    this.log = logger;
  }

  /** The aggregator core's sink callback. Never throws. */
  readonly offer = (flow: AggregatedFlow): void => {
    this.exported++;
    for (const s of this.sinks) {
      try {
        s.offer(flow);
      } catch (e) {
        this.offerErrors++;
        this.errorLog.hit((n) => this.log.error({ sink: s.name, err: e, occurrences: n }, 'sink threw from offer()'));
      }
    }
  };

  get recordsExported(): number {
    return this.exported;
  }

  get(name: string): Sink | undefined {
    return this.sinks.find((s) => s.name === name);
  }

  stats(): SinkSetStats {
    let queued = 0;
    let sent = 0;
    let dropped = 0;
    let failures = 0;
    const sinks: NamedSinkStats[] = [];
    for (const s of this.sinks) {
      const st = s.stats();
      queued += st.queued;
      sent += st.sent;
      dropped += st.dropped;
      failures += st.failures;
      sinks.push({ name: s.name, ...st });
    }
    return { recordsExported: this.exported, offerErrors: this.offerErrors, queued, sent, dropped, failures, sinks };
  }

  exporterFlags(): ExporterFlags {
    const has = (...names: string[]): boolean => this.sinks.some((s) => names.includes(s.name));
    return {
      withClickHouseExporter: has('clickhouse'),
      withS3Exporter: has('s3'),
      withLogExporter: has('flowlog'),
      withIPFIXExporter: has('ipfix', 'json'),
    };
  }

  /** Flushes every sink at once; one sink's failure does not hold up or fail the others. */
  flush(): Promise<SinkOutcome[]> {
    return this.each((s) => s.flush());
  }

  close(): Promise<SinkOutcome[]> {
    return this.each((s) => s.close());
  }

  private async each(op: (s: Sink) => Promise<void>): Promise<SinkOutcome[]> {
    const results = await Promise.allSettled(this.sinks.map((s) => op(s)));
    return results.map((r, i) => {
      const name = this.sinks[i].name;
      if (r.status === 'fulfilled') return { name };
      const error = r.reason instanceof Error ? r.reason : new Error(String(r.reason));
      return { name, error };
    });
  }
}

/** The flowCollector sink of flow-aggregator.conf: IPFIX or JSON lines, by recordFormat. */
export function collectorSinkFromConfig(config: FlowCollectorConfig, context: CollectorSinkContext): Sink {
  return config.recordFormat === 'JSON' ? jsonSinkFromConfig(config, context) : ipfixSinkFromConfig(config, context);
}

/** flowCollector's sink in Proxy mode: forwarded records as IPFIX (proxy template) or JSON lines. */
export function proxySinkFromConfig(config: FlowCollectorConfig, context: CollectorSinkContext): ProxySink {
  if (config.recordFormat === 'JSON') return new JsonSink<ProxiedRecord>({ ...jsonSinkOptionsFromConfig(config, context), line: proxyJsonRecordLine });
  return new ProxyIpfixSink(ipfixSinkOptionsFromConfig(config, context));
}
