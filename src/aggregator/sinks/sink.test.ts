import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../errors.ts';
import { ManualTimers } from '../../transport/timers.ts';
import type { AggregatedFlow } from '../core/index.ts';
import { BoundedQueue, QueuedSink, type QueuedSinkOptions } from './sink.ts';
import { sampleFlow } from './testing/aggregated-flows.ts';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A sink whose destination is an array; it can be held "disconnected" (ready() false). */
class ArraySink extends QueuedSink {
  readonly name = 'array';
  readonly batches: AggregatedFlow[][] = [];
  open = true;
  failNext = false;

  constructor(options: QueuedSinkOptions = {}) {
    super(options);
  }

  reconnect(): void {
    this.open = true;
    this.kick();
  }

  protected override ready(): boolean {
    return this.open;
  }

  protected deliver(batch: AggregatedFlow[]): void {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('destination refused the batch');
    }
    this.batches.push(batch);
    this.sent += batch.length;
  }
}

const ports = (flows: readonly AggregatedFlow[]): number[] => flows.map((f) => f.sourceTransportPort);

describe('BoundedQueue', () => {
  it('is FIFO, grows, and drops the oldest when full', () => {
    const q = new BoundedQueue<number>(3000);
    for (let i = 0; i < 3005; i++) q.push(i);
    assert.equal(q.length, 3000);
    assert.deepEqual(q.take(3), [5, 6, 7]);
    assert.equal(q.push(1), false);
    assert.equal(q.length, 2998);
    assert.equal(q.clear(), 2998);
    assert.equal(q.length, 0);
    assert.throws(() => new BoundedQueue(0), RangeError);
  });
});

describe('QueuedSink', () => {
  it('delivers all flows offered in one turn as one batch, on the next turn', async () => {
    const sink = new ArraySink();
    for (let i = 0; i < 5; i++) sink.offer(sampleFlow(4, i));
    assert.equal(sink.batches.length, 0, 'offer() never delivers synchronously');
    assert.equal(sink.stats().queued, 5);
    await turn();
    assert.deepEqual(sink.batches.map((b) => b.length), [5]);
    assert.deepEqual(sink.stats(), { queued: 0, sent: 5, dropped: 0, failures: 0 });
  });

  it('splits large backlogs into maxBatch batches', async () => {
    const sink = new ArraySink({ maxBatch: 4 });
    for (let i = 0; i < 10; i++) sink.offer(sampleFlow(4, i));
    await sink.flush();
    assert.deepEqual(sink.batches.map((b) => b.length), [4, 4, 2]);
  });

  it('keeps flows while not ready, drops the oldest beyond maxQueue, and delivers the rest in order', async () => {
    const sink = new ArraySink({ maxQueue: 3 });
    sink.open = false;
    for (let i = 0; i < 7; i++) sink.offer(sampleFlow(4, i));
    await turn();
    assert.deepEqual(sink.stats(), { queued: 3, sent: 0, dropped: 4, failures: 0 });
    sink.reconnect();
    await sink.flush();
    assert.deepEqual(ports(sink.batches.flat()), [40004, 40005, 40006]);
  });

  it('counts a failed delivery as a failure and its flows as dropped', async () => {
    const sink = new ArraySink();
    sink.failNext = true;
    sink.offer(sampleFlow(4, 0));
    sink.offer(sampleFlow(4, 1));
    await sink.flush();
    sink.offer(sampleFlow(4, 2));
    await sink.flush();
    assert.deepEqual(sink.stats(), { queued: 0, sent: 1, dropped: 2, failures: 1, lastError: 'destination refused the batch' });
  });

  it('flush() rejects with SINK_FLUSH_TIMEOUT when the destination stays away', async () => {
    const timers = new ManualTimers();
    const sink = new ArraySink({ timers, flushTimeoutMs: 1000 });
    sink.open = false;
    sink.offer(sampleFlow(4, 0));
    const flushed = sink.flush();
    timers.advance(1000);
    await assert.rejects(flushed, (e: unknown) => e instanceof ApiError && e.code === 'SINK_FLUSH_TIMEOUT');
  });

  it('flush() waits only for flows offered before it', async () => {
    const sink = new ArraySink();
    sink.offer(sampleFlow(4, 0));
    const flushed = sink.flush();
    sink.offer(sampleFlow(4, 1));
    await flushed;
    assert.ok(sink.stats().sent >= 1);
  });

  it('close() delivers what it can, then drops the rest and every later offer, counted', async () => {
    const timers = new ManualTimers();
    const sink = new ArraySink({ timers, closeTimeoutMs: 500 });
    sink.offer(sampleFlow(4, 0));
    await sink.close();
    assert.equal(sink.stats().sent, 1);

    const stuck = new ArraySink({ timers, closeTimeoutMs: 500 });
    stuck.open = false;
    stuck.offer(sampleFlow(4, 0));
    stuck.offer(sampleFlow(4, 1));
    const closing = stuck.close();
    timers.advance(500);
    await closing;
    stuck.offer(sampleFlow(4, 2));
    const st = stuck.stats();
    assert.equal(st.queued, 0);
    assert.equal(st.dropped, 3);
    assert.equal(st.failures, 1, 'the close timeout is recorded');
    assert.equal(stuck.closed, true);
  });
});
