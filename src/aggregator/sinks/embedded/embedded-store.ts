/**
 * The embedded flow store (the default when ClickHouse is off): DuckDB in-process, one file
 * `flows.duckdb` under a data directory, or memory only when the path is "".
 *
 * - write() never blocks: records wait in a bounded queue (drop-oldest, counted and logged) and
 *   are stored every flushIntervalMs, or as soon as a full batch is waiting.
 * - A batch (up to batchRows, default 122880 = one DuckDB row group) is appended, in slices of
 *   16384 records with a turn of the event loop between them, to a temporary staging table
 *   through DuckDB's appender; then `INSERT INTO flows SELECT * FROM staging` moves it into the
 *   table. That statement runs on DuckDB's threads, off the event loop, and a batch of a full row
 *   group is written straight to the database file, compressed, without a trip through the WAL.
 *   Appending directly to `flows` would block the event loop for the commit and for every
 *   automatic checkpoint (seconds on a large store).
 * - Retention (default 12 h): every sweep deletes records whose timeInserted is older, then the
 *   dictionary entries no record uses any more.
 * - A failed append (disk full, …) puts the batch back in order and is retried with backoff.
 * - Queries use their own connections (connect()); DuckDB keeps them consistent with the writer.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ApiError } from '../../../errors.ts';
import { RateLimitedLog } from '../../../transport/logger.ts';
import { RowQueue, silentSinkLogger, type FlowRow, type FlowSink, type FlowSinkStats, type SinkLogger } from '../flow-row.ts';
import { ChunkAppender } from './chunk-appender.ts';
import { CREATE_STAGING_SQL, MOVE_STAGED_SQL, STORE_SCHEMA_VERSION, storeDdl } from './duckdb-schema.ts';
import { NameDictionary, type EndpointEntry, type ResolvedBatch, type ServiceEntry } from './name-dictionary.ts';

export const EMBEDDED_STORE_DEFAULTS = {
  fileName: 'flows.duckdb',
  retentionMs: 12 * 3600 * 1000,
  flushIntervalMs: 1000,
  batchRows: 122_880,
  sliceRows: 16_384,
  maxQueueSize: 1 << 19,
  retryMaxDelayMs: 30_000,
} as const;

export interface EmbeddedStoreOptions {
  /** Data directory for flows.duckdb; "" keeps everything in memory. */
  readonly path: string;
  /** How long records are kept, by timeInserted (default 12 h); 0 keeps them forever. */
  readonly retentionMs?: number;
  /** How often retention runs (default retention / 12, between 1 s and 10 min). */
  readonly retentionSweepMs?: number;
  readonly flushIntervalMs?: number;
  readonly batchRows?: number;
  readonly maxQueueSize?: number;
  /** DuckDB worker threads (default: DuckDB's, one per core). */
  readonly threads?: number;
  /** DuckDB memory limit, e.g. "2GB" (default: DuckDB's, 80% of RAM). */
  readonly memoryLimit?: string;
  /** Wall clock in ms (tests inject one). */
  readonly clock?: () => number;
  readonly logger?: SinkLogger;
}

const DROP_LOG_INTERVAL_MS = 10_000;

export class EmbeddedStore implements FlowSink {
  readonly name = 'embedded';
  readonly dictionary = new NameDictionary();
  private readonly queue: RowQueue;
  private readonly log: SinkLogger;
  private readonly clock: () => number;
  private readonly flushIntervalMs: number;
  private readonly batchRows: number;
  private readonly retentionMs: number;
  private stagingReady = false;
  private written = 0;
  private refused = 0;
  private failures = 0;
  private lastError: string | undefined;
  private retryDelayMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  /** Serialises appends and clean-ups (dictionary ids must not be collected under a batch). */
  private exclusive: Promise<unknown> = Promise.resolve();
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly dropLog: RateLimitedLog;

  private constructor(
    readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    /** The database file, or undefined in memory. */
    readonly file: string | undefined,
    options: EmbeddedStoreOptions,
  ) {
    this.queue = new RowQueue(options.maxQueueSize ?? EMBEDDED_STORE_DEFAULTS.maxQueueSize);
    this.log = options.logger ?? silentSinkLogger;
    this.clock = options.clock ?? Date.now;
    this.dropLog = new RateLimitedLog(DROP_LOG_INTERVAL_MS, this.clock);
    this.flushIntervalMs = options.flushIntervalMs ?? EMBEDDED_STORE_DEFAULTS.flushIntervalMs;
    this.batchRows = options.batchRows ?? EMBEDDED_STORE_DEFAULTS.batchRows;
    this.retentionMs = options.retentionMs ?? EMBEDDED_STORE_DEFAULTS.retentionMs;
    if (this.retentionMs > 0) {
      const every = options.retentionSweepMs ?? Math.min(Math.max(this.retentionMs / 12, 1000), 600_000);
      this.retentionTimer = setInterval(() => void this.applyRetention().catch(() => {}), every);
      this.retentionTimer.unref();
    }
  }

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    let file: string | undefined;
    if (options.path !== '') {
      mkdirSync(options.path, { recursive: true });
      file = join(options.path, EMBEDDED_STORE_DEFAULTS.fileName);
    }
    const config: Record<string, string> = {};
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(file ?? ':memory:', config);
    } catch (err) {
      throw new ApiError('STORE_OPEN', `cannot open the embedded store ${file ?? '(memory)'}: ${(err as Error).message}`, {
        path: file ?? '',
      }, { cause: err });
    }
    const writer = await instance.connect();
    // FSST's analysis costs about a tenth of the file store's ingest CPU and never wins on flow
    // records (dictionary compression does: same file size with and without it, bench/store.ts).
    // (DuckDB ignores this one in the instance's config, hence the statement.)
    await writer.run("SET GLOBAL disabled_compression_methods = 'fsst'");
    for (const ddl of storeDdl()) await writer.run(ddl);
    await checkSchemaVersion(writer, file);
    const store = new EmbeddedStore(instance, writer, file, options);
    await store.loadDictionary();
    return store;
  }

  /** A new connection to the store, for queries. */
  connect(): Promise<DuckDBConnection> {
    return this.instance.connect();
  }

  write(rows: readonly FlowRow[]): void {
    if (rows.length === 0) return;
    if (this.closed) {
      this.refused += rows.length;
      this.noteDrops(rows.length, 'the store is closed');
      return;
    }
    const dropped = this.queue.push(rows);
    if (dropped > 0) this.noteDrops(dropped, 'the queue is full');
    if (this.queue.length >= this.batchRows) this.schedule(0);
    else if (this.timer === undefined) this.schedule(this.flushIntervalMs);
  }

  /** Resolves when everything queued is in the store (rejects on failure; records stay queued). */
  async flush(): Promise<void> {
    await this.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.retentionTimer);
    try {
      await this.drain();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'embedded store: final flush failed');
    }
    await this.exclusive.catch(() => {});
    const lost = this.queue.clear();
    if (lost > 0) this.log.error({ dropped: lost }, 'embedded store: records not written at shutdown');
    this.writer.closeSync();
    this.instance.closeSync();
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

  /** Deletes records older than the retention and unused dictionary entries; returns rows deleted. */
  applyRetention(): Promise<number> {
    if (this.retentionMs <= 0 || this.closed) return Promise.resolve(0);
    return this.serialise(async () => {
      const cutoff = Math.floor((this.clock() - this.retentionMs) / 1000);
      const deleted = await this.writer.run('DELETE FROM flows WHERE timeInserted < $1::UINTEGER', [Math.max(cutoff, 0)]);
      const count = Number(deleted.rowsChanged);
      if (count === 0) return 0;
      const endpoints = await this.writer.runAndReadAll(
        `DELETE FROM flow_endpoints WHERE id NOT IN (SELECT sourceEndpointId FROM flows UNION SELECT destinationEndpointId FROM flows) RETURNING id`,
      );
      const services = await this.writer.runAndReadAll(
        'DELETE FROM flow_services WHERE id NOT IN (SELECT DISTINCT serviceId FROM flows) RETURNING id',
      );
      this.dictionary.forget(
        endpoints.getRows().map((r) => Number(r[0])),
        services.getRows().map((r) => Number(r[0])),
      );
      this.log.info({ deleted: count, cutoff }, 'embedded store: retention');
      return count;
    }).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'embedded store: retention failed');
      throw err;
    });
  }

  private serialise<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusive.then(work, work);
    this.exclusive = run.catch(() => {});
    return run;
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.drain();
      this.retryDelayMs = 0;
    } catch {
      this.retryDelayMs = this.retryDelayMs === 0 ? this.flushIntervalMs : Math.min(this.retryDelayMs * 2, EMBEDDED_STORE_DEFAULTS.retryMaxDelayMs);
      this.schedule(this.retryDelayMs);
    }
  }

  private drain(): Promise<void> {
    if (this.draining === undefined) {
      this.draining = (async () => {
        while (this.queue.length > 0) {
          await this.serialise(() => this.appendBatch());
          if (this.queue.length > 0) await yieldToEventLoop();
        }
      })().finally(() => {
        this.draining = undefined;
      });
    }
    return this.draining;
  }

  private async appendBatch(): Promise<void> {
    const batch = this.queue.take(this.batchRows);
    if (batch.length === 0) {
      this.queue.done();
      return;
    }
    try {
      await this.stage(batch);
      await this.writer.run(MOVE_STAGED_SQL);
      this.queue.done();
      this.written += batch.length;
      this.lastError = undefined;
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
      const dropped = this.queue.giveBack(batch);
      if (dropped > 0) this.noteDrops(dropped, 'the queue is full');
      this.log.warn({ err: this.lastError, queued: this.queue.pending }, 'embedded store: append failed; will retry');
      throw new ApiError('STORE_WRITE', `appending to the embedded store failed: ${this.lastError}`, { rows: batch.length }, { cause: err });
    }
  }

  /**
   * Fills an empty staging table with the batch, a slice at a time (ids resolved, new names
   * stored, rows appended and committed), yielding to the event loop between slices.
   */
  private async stage(batch: readonly FlowRow[]): Promise<void> {
    if (this.stagingReady) await this.writer.run('DROP TABLE IF EXISTS flows_staging');
    await this.writer.run(CREATE_STAGING_SQL);
    this.stagingReady = true;
    const appender = new ChunkAppender(await this.writer.createAppender('flows_staging', 'main', 'temp'));
    try {
      const now = Math.floor(this.clock() / 1000);
      for (let start = 0; start < batch.length; start += EMBEDDED_STORE_DEFAULTS.sliceRows) {
        const slice = batch.slice(start, start + EMBEDDED_STORE_DEFAULTS.sliceRows);
        const resolved = this.dictionary.resolve(slice);
        await this.storeNames(resolved);
        this.dictionary.commit(resolved);
        appender.appendRange(slice, resolved, now, 0, slice.length);
        appender.flush();
        if (start + slice.length < batch.length) await yieldToEventLoop();
      }
    } finally {
      appender.close();
    }
  }

  private async storeNames(batch: ResolvedBatch): Promise<void> {
    if (batch.newEndpoints.length > 0) {
      const app = await this.writer.createAppender('flow_endpoints');
      for (const e of batch.newEndpoints) {
        app.appendUInteger(e.id);
        app.appendVarchar(e.namespace);
        app.appendVarchar(e.podName);
        app.appendVarchar(e.nodeName);
        app.appendVarchar(e.workload);
        app.appendVarchar(e.ip);
        app.endRow();
      }
      app.closeSync();
    }
    if (batch.newServices.length > 0) {
      const app = await this.writer.createAppender('flow_services');
      for (const s of batch.newServices) {
        app.appendUInteger(s.id);
        app.appendVarchar(s.name);
        app.endRow();
      }
      app.closeSync();
    }
  }

  private async loadDictionary(): Promise<void> {
    const endpoints = await this.writer.runAndReadAll('SELECT id, namespace, podName, nodeName, workload, ip FROM flow_endpoints');
    const services = await this.writer.runAndReadAll('SELECT id, name FROM flow_services');
    this.dictionary.load(
      endpoints.getRowObjectsJS().map((r) => r as unknown as EndpointEntry),
      services.getRowObjectsJS().map((r) => r as unknown as ServiceEntry),
    );
  }

  private noteDrops(count: number, reason: string): void {
    this.dropLog.hit((dropped) => this.log.warn({ dropped, totalDropped: this.stats().dropped, reason }, 'embedded store: records dropped'), count);
  }
}

async function checkSchemaVersion(conn: DuckDBConnection, file: string | undefined): Promise<void> {
  const rows = (await conn.runAndReadAll("SELECT value FROM flowvis_meta WHERE key = 'schemaVersion'")).getRows();
  if (rows.length === 0) {
    await conn.run("INSERT INTO flowvis_meta VALUES ('schemaVersion', $1)", [String(STORE_SCHEMA_VERSION)]);
    return;
  }
  if (rows[0]?.[0] !== String(STORE_SCHEMA_VERSION)) {
    throw new ApiError(
      'STORE_VERSION',
      `the embedded store ${file ?? ''} has schema version ${String(rows[0]?.[0])}, this build expects ${STORE_SCHEMA_VERSION}; move the file away`,
      { path: file ?? '' },
    );
  }
}

export function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  return EmbeddedStore.open(options);
}
