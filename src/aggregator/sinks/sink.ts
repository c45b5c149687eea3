/**
 * The interface between the aggregator core and its exporting sinks, and the queue every
 * exporting sink (IPFIX, JSON, flow log) shares.
 *
 * The core hands each finished flow to `offer()` synchronously, from inside its expiry loop. A sink
 * must never block or throw there: it appends the flow to its own bounded queue (when full, the
 * oldest flow is dropped, counted and logged at a limited rate) and drains that queue
 * asynchronously, on its own, in batches. All flows offered during one expiry pass land in one
 * batch (draining starts on the next turn of the event loop), which is what lets the IPFIX sink
 * flush "after each batch of expiries" and the JSON sink write one buffer per batch.
 */
import { ApiError } from '../../errors.ts';
import { RateLimitedLog } from '../../transport/logger.ts';
import { realTimers, type Timers } from '../../transport/timers.ts';
import type { AggregatedFlow } from '../core/index.ts';
import { silentSinkLogger, type SinkLogger } from './flow-row.ts';

/** Counters of one sink (for /recordmetrics, Prometheus and logs). */
export interface SinkStats {
  /** Flows accepted and not yet handed to the destination. */
  readonly queued: number;
  /** Flows handed to the destination (socket, file, store). */
  readonly sent: number;
  /** Flows discarded: queue overflow (oldest first), closed sink, failed writes. */
  readonly dropped: number;
  /** Failed attempts: connects, lost connections, writes, encodings. */
  readonly failures: number;
  /** Message of the most recent failure. */
  readonly lastError?: string;
}

/** What every sink of the aggregator implements. */
export interface Sink {
  readonly name: string;
  /** Takes one finished flow. Synchronous; never blocks and never throws. */
  offer(flow: AggregatedFlow): void;
  /** Resolves once every flow offered before the call has been handed to the destination. */
  flush(): Promise<void>;
  /** Flushes (bounded in time), then releases the destination; later offers are dropped. */
  close(): Promise<void>;
  stats(): SinkStats;
}

/** A fixed-capacity FIFO ring that drops its oldest element when full. */
export class BoundedQueue<T> {
  private ring: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<T | undefined>(Math.min(capacity, 1024));
  }

  get length(): number {
    return this.count;
  }

  /** Appends; returns true when the oldest element had to be dropped to make room. */
  push(item: T): boolean {
    let dropped = false;
    if (this.count === this.capacity) {
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.count--;
      dropped = true;
    } else if (this.count === this.ring.length) {
      this.grow();
    }
    this.ring[(this.head + this.count) % this.ring.length] = item;
    this.count++;
    return dropped;
  }

  /** Removes and returns up to `max` of the oldest elements. */
  take(max: number): T[] {
    const n = Math.min(max, this.count);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.ring[this.head] as T;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
    }
    this.count -= n;
    return out;
  }

  /** Empties the queue; returns how many elements were discarded. */
  clear(): number {
    const n = this.count;
    this.ring = new Array<T | undefined>(Math.min(this.capacity, 1024));
    this.head = 0;
    this.count = 0;
    return n;
  }

  private grow(): void {
    const size = this.ring.length;
    const next = new Array<T | undefined>(Math.min(this.capacity, size * 2));
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.head + i) % size];
    this.ring = next;
    this.head = 0;
  }
}

export const QUEUED_SINK_DEFAULTS = {
  maxQueue: 32_768,
  maxBatch: 1_000,
  flushTimeoutMs: 10_000,
  closeTimeoutMs: 10_000,
  dropLogIntervalMs: 10_000,
} as const;

export interface QueuedSinkOptions {
  /** Flows kept while the destination is slow or away (default 32768); the oldest go first. */
  maxQueue?: number;
  /** Flows per delivery (default 1000). */
  maxBatch?: number;
  /** flush() rejects when the flows before it are not delivered within this (default 10 s). */
  flushTimeoutMs?: number;
  /** close() waits this long for queued flows before dropping them (default 10 s). */
  closeTimeoutMs?: number;
  timers?: Timers;
  logger?: SinkLogger;
}

interface Waiter {
  done: () => boolean;
  resolve: () => void;
}

/**
 * Base of the exporting sinks: the bounded queue, the asynchronous drain loop, flush/close and the
 * counters. It queues aggregated flows (a Sink), or in Proxy mode the records forwarded as they come. A subclass implements `deliver(batch)` (hand the flows to its destination; a rejection
 * drops the batch and counts a failure) and may override `ready()` (false while disconnected: the
 * queue then fills up and the subclass calls `kick()` once it can deliver again).
 */
export abstract class QueuedSink<T = AggregatedFlow> {
  abstract readonly name: string;
  protected readonly timers: Timers;
  protected readonly log: SinkLogger;
  protected readonly maxBatch: number;
  protected sent = 0;
  protected dropped = 0;
  protected failures = 0;
  protected lastError: string | undefined;
  private readonly queue: BoundedQueue<T>;
  private readonly flushTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly dropLog: RateLimitedLog;
  /** Sequence number of the next flow offered, and of the oldest flow still queued. */
  private offeredSeq = 0;
  private headSeq = 0;
  /** Sequence number of the first flow of the batch being delivered, and its size (0: none). */
  private inflightStart = 0;
  private inflightCount = 0;
  private scheduled = false;
  private draining = false;
  private closing: Promise<void> | null = null;
  private waiters: Waiter[] = [];

  constructor(options: QueuedSinkOptions = {}) {
    this.timers = options.timers ?? realTimers;
    this.log = options.logger ?? silentSinkLogger;
    this.queue = new BoundedQueue(options.maxQueue ?? QUEUED_SINK_DEFAULTS.maxQueue);
    this.maxBatch = options.maxBatch ?? QUEUED_SINK_DEFAULTS.maxBatch;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${this.maxBatch}`);
    this.flushTimeoutMs = options.flushTimeoutMs ?? QUEUED_SINK_DEFAULTS.flushTimeoutMs;
    this.closeTimeoutMs = options.closeTimeoutMs ?? QUEUED_SINK_DEFAULTS.closeTimeoutMs;
    this.dropLog = new RateLimitedLog(QUEUED_SINK_DEFAULTS.dropLogIntervalMs, () => this.timers.now());
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  offer(flow: T): void {
    if (this.closing) {
      this.countDropped(1, 'sink closed');
      return;
    }
    this.offeredSeq++;
    if (this.queue.push(flow)) {
      this.headSeq++;
      this.countDropped(1, 'queue full, oldest flow dropped');
    }
    this.kick();
  }

  async flush(): Promise<void> {
    await this.waitForDelivery(this.flushTimeoutMs);
    await this.flushOutput();
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  stats(): SinkStats {
    return {
      queued: this.queue.length + this.inflightCount + this.extraQueued(),
      sent: this.sent,
      dropped: this.dropped,
      failures: this.failures,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  /** Hands a batch (oldest first) to the destination; count `sent` (and partial losses) here. */
  protected abstract deliver(batch: T[]): Promise<void> | void;

  /** Whether deliver() may be called now (default: always). */
  protected ready(): boolean {
    return true;
  }

  /** After the queue is delivered: push out anything the destination buffers (default: nothing). */
  protected flushOutput(): Promise<void> | void {}

  /** Releases the destination, after the final flush (default: nothing). */
  protected closeOutput(): Promise<void> | void {}

  /** Flows offered and not yet handed to deliver() or still being delivered. */
  protected get backlog(): number {
    return this.queue.length + this.inflightCount;
  }

  /** Flows buffered beyond this queue (e.g. in an exporting process), for stats().queued. */
  protected extraQueued(): number {
    return 0;
  }

  /** Schedules a drain on the next turn of the event loop (call it when ready() became true). */
  protected kick(): void {
    if (this.scheduled || this.draining || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  protected recordFailure(err: unknown): void {
    this.failures++;
    this.lastError = err instanceof Error ? err.message : String(err);
  }

  protected countDropped(n: number, reason: string): void {
    if (n <= 0) return;
    this.dropped += n;
    this.dropLog.hit((hits) => this.log.warn({ sink: this.name, dropped: n, occurrences: hits, totalDropped: this.dropped, queued: this.queue.length, reason }, 'sink dropped flow records'));
  }

  /** Wakes flush()/close() waiters whose condition may now hold (subclasses call it after progress). */
  protected notify(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.done()) w.resolve(); else still.push(w);
    }
    this.waiters = still;
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 && this.ready()) {
        const batch = this.queue.take(this.maxBatch);
        this.inflightStart = this.headSeq;
        this.inflightCount = batch.length;
        this.headSeq += batch.length;
        try {
          await this.deliver(batch);
        } catch (e) {
          this.recordFailure(e);
          this.countDropped(batch.length, `delivery failed: ${this.lastError}`);
        }
        this.inflightCount = 0;
        this.notify();
      }
    } finally {
      this.draining = false;
      this.notify();
    }
    // Offers that arrived while the last batch was delivered.
    if (this.queue.length > 0 && this.ready()) this.kick();
  }

  /** Resolves once the flows offered before the call have left the queue; rejects after timeoutMs. */
  private waitForDelivery(timeoutMs: number): Promise<void> {
    const target = this.offeredSeq;
    const done = (): boolean => this.headSeq >= target && !(this.inflightCount > 0 && this.inflightStart < target);
    if (done()) return Promise.resolve();
    this.kick();
    return new Promise<void>((resolve, reject) => {
      const cancel = this.timers.setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new ApiError('SINK_FLUSH_TIMEOUT', `sink ${this.name}: queued flows not delivered within ${timeoutMs} ms`, {
          sink: this.name, queued: this.queue.length, timeoutMs,
        }));
      }, timeoutMs);
      const waiter: Waiter = { done, resolve: () => { cancel(); resolve(); } };
      this.waiters.push(waiter);
    });
  }

  private async shutdown(): Promise<void> {
    try {
      await this.waitForDelivery(this.closeTimeoutMs);
      await this.flushOutput();
    } catch (e) {
      this.recordFailure(e);
    }
    this.headSeq += this.queue.length;
    this.countDropped(this.queue.clear(), 'sink closed before the flows could be delivered');
    try {
      await this.closeOutput();
    } catch (e) {
      this.recordFailure(e);
    }
    this.notify();
  }
}
