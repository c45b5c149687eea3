/**
 * The flow log sink (flowLogger in flow-aggregator.conf): every exported flow that passes the
 * filters becomes one CSV line (flow-log-line.ts) in a size-rotated file (rotating-file.ts), as
 * Antrea's LogExporter writes it. Lines of one batch are written with one append (upstream buffers
 * and flushes every 5 s; here a batch is on disk, in the page cache, when its write returns).
 */
import type { FlowLoggerConfig } from '../../../config/aggregator-types.ts';
import type { AggregatedFlow } from '../../core/index.ts';
import { QueuedSink, type QueuedSinkOptions, type Sink } from '../sink.ts';
import { toFlowRow } from '../to-flow-row.ts';
import { compileFlowLogFilters, type FlowLogFilter } from './filters.ts';
import { flowLogLine } from './flow-log-line.ts';
import { RotatingFile } from './rotating-file.ts';

export const FLOW_LOG_DEFAULTS = { path: '/tmp/antrea-flows.log', maxSizeMB: 100, maxBackups: 3, maxAgeDays: 0 } as const;

const MEGABYTE = 1024 * 1024;

export interface FlowLogSinkOptions extends QueuedSinkOptions, Partial<Pick<FlowLoggerConfig, 'filters'>> {
  path?: string;
  /** Rotation size in bytes (default 100 MB; the config's maxSize is in megabytes of 2^20 octets). */
  maxSizeBytes?: number;
  /** Backups kept (default 3; 0 keeps all). */
  maxBackups?: number;
  /** Days backups are kept (default 0: any age). */
  maxAgeDays?: number;
  /** gzip rotated files (default true). */
  compress?: boolean;
  /** Names instead of numbers for protocol, rule actions and policy types (default true). */
  prettyPrint?: boolean;
}

export class FlowLogSink extends QueuedSink implements Sink {
  readonly name = 'flowlog';
  readonly file: RotatingFile;
  private readonly filter: FlowLogFilter;
  private readonly prettyPrint: boolean;
  private filteredOut = 0;

  constructor(options: FlowLogSinkOptions = {}) {
    super(options);
    this.file = new RotatingFile({
      path: options.path ?? FLOW_LOG_DEFAULTS.path,
      maxSizeBytes: options.maxSizeBytes ?? FLOW_LOG_DEFAULTS.maxSizeMB * MEGABYTE,
      maxBackups: options.maxBackups ?? FLOW_LOG_DEFAULTS.maxBackups,
      maxAgeDays: options.maxAgeDays ?? FLOW_LOG_DEFAULTS.maxAgeDays,
      compress: options.compress ?? true,
      now: () => this.timers.now(),
      logger: options.logger,
    });
    this.filter = compileFlowLogFilters(options.filters ?? []);
    this.prettyPrint = options.prettyPrint ?? true;
  }

  /** Flows not logged because no filter matched them. */
  get filtered(): number {
    return this.filteredOut;
  }

  protected async deliver(batch: AggregatedFlow[]): Promise<void> {
    const lines: string[] = [];
    for (const flow of batch) {
      const row = toFlowRow(flow, '');
      if (this.filter(row)) lines.push(flowLogLine(row, this.prettyPrint));
      else this.filteredOut++;
    }
    await this.file.writeLines(lines);
    this.sent += lines.length;
  }

  protected override async closeOutput(): Promise<void> {
    await this.file.close();
  }
}

/** The flow log sink of flowLogger. */
export function flowLogSinkFromConfig(config: FlowLoggerConfig, options: QueuedSinkOptions = {}): FlowLogSink {
  return new FlowLogSink({
    ...options,
    path: config.path,
    maxSizeBytes: (config.maxSize > 0 ? config.maxSize : FLOW_LOG_DEFAULTS.maxSizeMB) * MEGABYTE,
    maxBackups: config.maxBackups,
    maxAgeDays: config.maxAge,
    compress: config.compress,
    prettyPrint: config.prettyPrint,
    filters: config.filters,
  });
}
