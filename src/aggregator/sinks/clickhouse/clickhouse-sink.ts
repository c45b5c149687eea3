/**
 * The ClickHouse sink: queues finished flow records and inserts them into Theia's `flows` table
 * every commitInterval, as Antrea's Flow Aggregator does (clickhouseclient.go), over HTTP(S).
 *
 * - Start-up: refuses native-protocol URLs; waits up to startupTimeoutMs for the server
 *   (`SELECT version()`), fails at once on refused credentials; creates the database, the
 *   `flows` table and the pod/node/policy views when absent (features chosen by version); reads
 *   the table's columns, so a table created by Theia without our newer columns still works.
 * - write(): never blocks; a bounded queue (default 524288 records) drops the oldest records
 *   when full, counted and logged.
 * - Every commitInterval (≥ 1 s, default 8 s): the queue is sent in batches of TabSeparated rows
 *   (gzip-compressed). A failed batch goes back to the front of the queue, in order, and is retried
 *   with exponential backoff; nothing is lost while the queue has room. When the server refuses a
 *   batch as malformed data, it is split until the offending records are alone; only those are
 *   dropped (counted, logged), since retrying them cannot succeed.
 * - Servers without table TTL (< 19.6) get a periodic ALTER TABLE … DELETE for retention.
 * - close(): flushes (bounded by closeTimeoutMs), then counts what is left as dropped.
 */
import { Readable } from 'node:stream';
import { ApiError, ConfigError } from '../../../errors.ts';
import { RateLimitedLog } from '../../../transport/logger.ts';
import {
  FLOW_ROW_COLUMNS,
  RowQueue,
  silentSinkLogger,
  type FlowColumnName,
  type FlowRow,
  type FlowSink,
  type FlowSinkStats,
  type SinkLogger,
} from '../flow-row.ts';
import {
  authError,
  classifyFailure,
  describeFailure,
  openConnection,
  serverError,
  tlsError,
  type ClickHouseConnection,
  type ClickHouseConnectionOptions,
} from './connection.ts';
import { flowsTableDdl, retentionDeletes, serverFeatures, viewDdls, type ServerFeatures } from './schema.ts';
import { chIdentifier, chString } from './sql-literal.ts';
import { compileTsvSerializer, type TsvSerializer } from './tsv.ts';

export const CLICKHOUSE_SINK_DEFAULTS = {
  commitIntervalMs: 8_000,
  minCommitIntervalMs: 1_000,
  maxQueueSize: 1 << 19,
  maxBatchRows: 100_000,
  ttlSeconds: 12 * 3600,
  startupTimeoutMs: 10_000,
  retryInitialDelayMs: 1_000,
  retryMaxDelayMs: 30_000,
  closeTimeoutMs: 10_000,
} as const;

export interface ClickHouseSinkOptions extends ClickHouseConnectionOptions {
  /** Database of the flows table and views (created when absent). */
  readonly database: string;
  /** Milliseconds between commits; ≥ 1000 (default 8000). */
  readonly commitIntervalMs?: number;
  /** Records kept while ClickHouse is slow or away (default 524288). */
  readonly maxQueueSize?: number;
  /** Records per INSERT request (default 100000). */
  readonly maxBatchRows?: number;
  /** Retention of the tables this sink creates, in seconds; 0 keeps everything (default 12 h). */
  readonly ttlSeconds?: number;
  /** How long start-up waits for the server (default 10 s). */
  readonly startupTimeoutMs?: number;
  readonly retryInitialDelayMs?: number;
  readonly retryMaxDelayMs?: number;
  readonly closeTimeoutMs?: number;
  /** Create the database, table and views when absent (default true). */
  readonly createSchema?: boolean;
  readonly logger?: SinkLogger;
}

/** Drops are logged at most this often (with the count since the last message). */
const DROP_LOG_INTERVAL_MS = 10_000;

export class ClickHouseSink implements FlowSink {
  readonly name = 'clickhouse';
  private readonly queue: RowQueue;
  private readonly log: SinkLogger;
  private readonly serialize: TsvSerializer;
  private readonly table: string;
  private readonly commitIntervalMs: number;
  private readonly maxBatchRows: number;
  private readonly retryInitialDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly closeTimeoutMs: number;
  private readonly ttlSeconds: number;
  private written = 0;
  private refused = 0;
  private failures = 0;
  private lastError: string | undefined;
  private retryDelayMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly dropLog: RateLimitedLog;

  constructor(
    readonly connection: ClickHouseConnection,
    readonly database: string,
    readonly features: ServerFeatures,
    /** The columns inserted: FlowRow columns that the table has, in table order. */
    readonly insertColumns: readonly FlowColumnName[],
    options: ClickHouseSinkOptions,
  ) {
    this.log = options.logger ?? silentSinkLogger;
    this.queue = new RowQueue(options.maxQueueSize ?? CLICKHOUSE_SINK_DEFAULTS.maxQueueSize);
    this.dropLog = new RateLimitedLog(DROP_LOG_INTERVAL_MS, Date.now);
    this.serialize = compileTsvSerializer(insertColumns);
    this.table = `${chIdentifier(database)}.flows`;
    this.commitIntervalMs = options.commitIntervalMs ?? CLICKHOUSE_SINK_DEFAULTS.commitIntervalMs;
    this.maxBatchRows = options.maxBatchRows ?? CLICKHOUSE_SINK_DEFAULTS.maxBatchRows;
    this.retryInitialDelayMs = options.retryInitialDelayMs ?? CLICKHOUSE_SINK_DEFAULTS.retryInitialDelayMs;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? CLICKHOUSE_SINK_DEFAULTS.retryMaxDelayMs;
    this.closeTimeoutMs = options.closeTimeoutMs ?? CLICKHOUSE_SINK_DEFAULTS.closeTimeoutMs;
    this.schedule(this.commitIntervalMs);
    this.ttlSeconds = options.createSchema === false ? 0 : (options.ttlSeconds ?? CLICKHOUSE_SINK_DEFAULTS.ttlSeconds);
    if (!features.tableTtl && this.ttlSeconds > 0) this.startRetention();
  }

  write(rows: readonly FlowRow[]): void {
    if (rows.length === 0) return;
    if (this.closed) {
      this.refused += rows.length;
      this.noteDrops(rows.length, 'the sink is closed');
      return;
    }
    const dropped = this.queue.push(rows);
    if (dropped > 0) this.noteDrops(dropped, 'the queue is full');
  }

  /** Resolves when every queued record is written; rejects (records stay queued) on failure. */
  async flush(): Promise<void> {
    await this.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.retentionTimer);
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.drain(),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`flush did not finish within ${this.closeTimeoutMs} ms`)), this.closeTimeoutMs);
        }),
      ]);
    } catch (err) {
      this.log.error({ err: describeFailure(err), queued: this.queue.pending }, 'clickhouse: final flush failed');
    } finally {
      clearTimeout(timeout);
    }
    const lost = this.queue.clear();
    if (lost > 0) this.log.error({ dropped: lost }, 'clickhouse: records not written at shutdown');
    await this.connection.client.close();
  }

  stats(): FlowSinkStats {
    return {
      queued: this.queue.pending,
      written: this.written,
      dropped: this.queue.dropped + this.refused,
      failures: this.failures,
      lastError: this.lastError,
    };
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.drain();
      this.retryDelayMs = 0;
      this.schedule(this.commitIntervalMs);
    } catch {
      this.retryDelayMs =
        this.retryDelayMs === 0 ? this.retryInitialDelayMs : Math.min(this.retryDelayMs * 2, this.retryMaxDelayMs);
      this.schedule(this.retryDelayMs);
    }
  }

  /** Sends the queue, one batch at a time; concurrent callers share one run. */
  private drain(): Promise<void> {
    if (this.draining === undefined) {
      this.draining = (async () => {
        while (this.queue.length > 0) await this.insertBatch();
      })().finally(() => {
        this.draining = undefined;
      });
    }
    return this.draining;
  }

  private async insertBatch(): Promise<void> {
    const batch = this.queue.take(this.maxBatchRows);
    const progress = { handled: 0 };
    const refusedBefore = this.refused;
    try {
      await this.insertRange(batch, 0, batch.length, progress);
      this.queue.done();
      if (this.refused === refusedBefore) {
        if (this.lastError !== undefined) this.log.info({ written: batch.length }, 'clickhouse: writing again');
        this.lastError = undefined;
      }
    } catch (err) {
      const dropped = this.queue.giveBack(batch, progress.handled);
      if (dropped > 0) this.noteDrops(dropped, 'the queue is full');
      this.log.warn({ err: this.lastError, queued: this.queue.pending, failures: this.failures }, 'clickhouse: insert failed; will retry');
      throw new ApiError(
        'CLICKHOUSE_WRITE',
        `inserting into ${this.table} at ${this.connection.url} failed: ${this.lastError ?? ''}`,
        { url: this.connection.url, rows: batch.length - progress.handled },
        { cause: err },
      );
    }
  }

  /**
   * Inserts batch[start, end) in order. A part the server refuses as malformed data is split in
   * halves until the offending records are alone; those are dropped (counted, logged), the rest
   * is written. Any other failure is thrown, with progress.handled telling how far it got.
   */
  private async insertRange(batch: readonly FlowRow[], start: number, end: number, progress: { handled: number }): Promise<void> {
    try {
      await this.connection.client.insert({
        table: this.table,
        values: Readable.from([this.serialize(batch, start, end)], { objectMode: false }),
        format: 'TabSeparated',
        columns: this.insertColumns as [string, ...string[]],
      });
      this.written += end - start;
      progress.handled = end;
    } catch (err) {
      this.failures++;
      this.lastError = describeFailure(err);
      if (classifyFailure(err) !== 'data') throw err;
      if (end - start === 1) {
        this.refused++;
        progress.handled = end;
        this.log.error({ err: this.lastError }, 'clickhouse: server refused a record as malformed; dropped');
        return;
      }
      const middle = start + Math.floor((end - start) / 2);
      await this.insertRange(batch, start, middle, progress);
      await this.insertRange(batch, middle, end, progress);
    }
  }

  private noteDrops(count: number, reason: string): void {
    this.dropLog.hit((dropped) => this.log.warn({ dropped, totalDropped: this.stats().dropped, reason }, 'clickhouse: records dropped'), count);
  }

  /**
   * Deletes records older than the retention from the flows table and the view tables (servers
   * without table TTL only; others expire rows themselves). Runs periodically; failures are logged.
   */
  async applyRetention(): Promise<void> {
    if (this.features.tableTtl || this.ttlSeconds <= 0) return;
    for (const query of retentionDeletes(this.database, this.ttlSeconds)) {
      try {
        await this.connection.client.command({ query });
      } catch (err) {
        this.log.warn({ err: describeFailure(err), query }, 'clickhouse: retention delete failed');
      }
    }
  }

  private startRetention(): void {
    const everyMs = Math.min(Math.max((this.ttlSeconds * 1000) / 12, 60_000), 3_600_000);
    this.retentionTimer = setInterval(() => void this.applyRetention(), everyMs);
    this.retentionTimer.unref();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for the server and returns its version; throws at once when the login is refused. */
async function waitForServer(conn: ClickHouseConnection, timeoutMs: number, log: SinkLogger): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await conn.client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' });
      const rows = await result.json<{ version: string }>();
      return rows[0]?.version ?? '';
    } catch (err) {
      if (classifyFailure(err) === 'auth') throw authError(conn, err);
      if (classifyFailure(err) === 'tls') throw tlsError(conn, err);
      const server = serverError(err);
      if (server !== undefined) {
        throw new ApiError('CLICKHOUSE_START', `ClickHouse at ${conn.url} refused \`SELECT version()\`: ${describeFailure(err)}`, {
          url: conn.url,
        }, { cause: err });
      }
      if (Date.now() + 1000 > deadline) {
        throw new ApiError(
          'CLICKHOUSE_UNREACHABLE',
          `ClickHouse at ${conn.url} did not answer within ${timeoutMs} ms (${describeFailure(err)})`,
          { url: conn.url, attempts: attempt },
          { cause: err },
        );
      }
      log.warn({ err: describeFailure(err), url: conn.url, attempt }, 'clickhouse: server not ready; retrying');
      await delay(1000);
    }
  }
}

async function tableColumns(conn: ClickHouseConnection, database: string): Promise<Set<string>> {
  const result = await conn.client.query({
    query: `SELECT name FROM system.columns WHERE database = ${chString(database)} AND table = 'flows'`,
    format: 'JSONEachRow',
  });
  return new Set((await result.json<{ name: string }>()).map((r) => r.name));
}

/** Connects, prepares the schema and starts the commit timer. */
export async function openClickHouseSink(options: ClickHouseSinkOptions): Promise<ClickHouseSink> {
  const log = options.logger ?? silentSinkLogger;
  const commitIntervalMs = options.commitIntervalMs ?? CLICKHOUSE_SINK_DEFAULTS.commitIntervalMs;
  if (!(commitIntervalMs >= CLICKHOUSE_SINK_DEFAULTS.minCommitIntervalMs)) {
    throw new ConfigError('BAD_COMMIT_INTERVAL', `clickHouse.commitInterval must be at least 1s (got ${commitIntervalMs} ms)`, {
      key: 'clickHouse.commitInterval',
      value: commitIntervalMs,
    });
  }
  const database = chIdentifier(options.database);
  const conn = openConnection(options);
  try {
    const version = await waitForServer(conn, options.startupTimeoutMs ?? CLICKHOUSE_SINK_DEFAULTS.startupTimeoutMs, log);
    const features = serverFeatures(version);
    const retention = { ttlSeconds: options.ttlSeconds ?? CLICKHOUSE_SINK_DEFAULTS.ttlSeconds };
    if (options.createSchema !== false) {
      await conn.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
      await conn.client.command({ query: flowsTableDdl(database, features, retention) });
      for (const query of viewDdls(database, features, retention)) await conn.client.command({ query });
    }
    const present = await tableColumns(conn, database);
    if (present.size === 0) {
      throw new ApiError('CLICKHOUSE_NO_TABLE', `${database}.flows does not exist at ${conn.url} (and createSchema is off)`, {
        url: conn.url,
        database,
      });
    }
    const insertColumns = FLOW_ROW_COLUMNS.map((c) => c.name).filter((name) => present.has(name));
    const missing = FLOW_ROW_COLUMNS.map((c) => c.name).filter((name) => !present.has(name));
    if (missing.length > 0) log.warn({ missing }, `clickhouse: ${database}.flows lacks columns; they are not written`);
    log.info({ url: conn.url, database, version, tableTtl: features.tableTtl }, 'clickhouse: connected');
    return new ClickHouseSink(conn, database, features, insertColumns, { ...options, commitIntervalMs });
  } catch (err) {
    await conn.client.close();
    throw err;
  }
}
