import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualTimers } from '../../transport/timers.ts';
import { AggregationProcess, type AggregatedFlow } from '../core/index.ts';
import { agentRecord } from '../core/testing/agent-records.ts';
import { QueuedSink, type QueuedSinkOptions, type Sink, type SinkStats } from './sink.ts';
import { SinkSet } from './sink-set.ts';
import { sampleFlow } from './testing/aggregated-flows.ts';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Delivers into an array. */
class RecordingSink extends QueuedSink {
  readonly delivered: AggregatedFlow[] = [];
  constructor(readonly name: string, options: QueuedSinkOptions = {}) {
    super(options);
  }
  protected deliver(batch: AggregatedFlow[]): void {
    this.delivered.push(...batch);
    this.sent += batch.length;
  }
}

/** A destination that never accepts anything (a collector that is down for good). */
class NeverDrainingSink extends QueuedSink {
  readonly name = 'json';
  protected override ready(): boolean {
    return false;
  }
  protected deliver(): void {
    throw new Error('never called');
  }
}

/** A broken sink that throws from offer(). */
const throwingSink: Sink = {
  name: 'broken',
  offer() { throw new Error('bug'); },
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
  stats: (): SinkStats => ({ queued: 0, sent: 0, dropped: 0, failures: 0 }),
};

describe('SinkSet', () => {
  it('a sink that never drains neither blocks nor slows another; its queue drops the oldest, counted', async () => {
    const stuck = new NeverDrainingSink({ maxQueue: 100 });
    const ok = new RecordingSink('ipfix');
    const set = new SinkSet([stuck, ok]);
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 200; i++) set.offer(sampleFlow(4, round * 200 + i));
      await turn();
      assert.equal(ok.delivered.length, (round + 1) * 200, `round ${round}: the healthy sink got every flow at once`);
    }
    const s = set.stats();
    assert.equal(s.recordsExported, 1000);
    const byName = Object.fromEntries(s.sinks.map((x) => [x.name, x]));
    assert.deepEqual(byName.json, { name: 'json', queued: 100, sent: 0, dropped: 900, failures: 0 });
    assert.deepEqual(byName.ipfix, { name: 'ipfix', queued: 0, sent: 1000, dropped: 0, failures: 0 });
    assert.equal(s.queued, 100);
    assert.equal(s.sent, 1000);
    assert.equal(s.dropped, 900);
  });

  it('a sink that throws from offer() is counted and the others still get the flow', async () => {
    const ok = new RecordingSink('flowlog');
    const set = new SinkSet([throwingSink, ok]);
    set.offer(sampleFlow(6, 1));
    set.offer(sampleFlow(6, 2));
    await set.flush();
    assert.equal(ok.delivered.length, 2);
    assert.equal(set.stats().offerErrors, 2);
  });

  it('flush() and close() settle every sink; a failing one is reported, not thrown', async () => {
    const timers = new ManualTimers();
    const stuck = new NeverDrainingSink({ timers, flushTimeoutMs: 100, closeTimeoutMs: 100 });
    const ok = new RecordingSink('ipfix');
    const set = new SinkSet([stuck, ok]);
    set.offer(sampleFlow(4, 0));
    const flushing = set.flush();
    await turn();
    timers.advance(100);
    const outcomes = await flushing;
    assert.equal(outcomes.find((o) => o.name === 'ipfix')?.error, undefined);
    assert.match(String(outcomes.find((o) => o.name === 'json')?.error?.message), /not delivered within 100 ms/);
    assert.equal(ok.delivered.length, 1);
    const closing = set.close();
    await turn();
    timers.advance(100);
    assert.deepEqual((await closing).map((o) => o.error), [undefined, undefined]);
    assert.equal(set.stats().sinks[0].dropped, 1);
  });

  it('reports the with*Exporter flags of /recordmetrics and rejects duplicate names', () => {
    const set = new SinkSet([new RecordingSink('json'), new RecordingSink('flowlog'), new RecordingSink('clickhouse')]);
    assert.deepEqual(set.exporterFlags(), { withClickHouseExporter: true, withS3Exporter: false, withLogExporter: true, withIPFIXExporter: true });
    assert.deepEqual(new SinkSet([]).exporterFlags(), { withClickHouseExporter: false, withS3Exporter: false, withLogExporter: false, withIPFIXExporter: false });
    assert.throws(() => new SinkSet([new RecordingSink('x'), new RecordingSink('x')]), RangeError);
  });

  it('plugs into the aggregation process as its sink callback', async () => {
    let now = 1_700_000_000_000;
    const ok = new RecordingSink('ipfix');
    const set = new SinkSet([ok]);
    const core = new AggregationProcess({ sink: set.offer, now: () => now });
    for (let i = 0; i < 3; i++) {
      const record = agentRecord(4, {
        sourceAddress: '10.0.0.1', destinationAddress: '10.0.0.2', sourceTransportPort: 1000 + i, destinationTransportPort: 80,
        protocolIdentifier: 6, flowType: 1, sourcePodName: 'a', destinationPodName: 'b',
        flowStartSeconds: 1_699_999_990, flowEndSeconds: 1_700_000_000, octetTotalCount: 100n, octetDeltaCount: 100n,
      });
      assert.equal(core.ingest(record), null);
    }
    now += 1000;
    core.expire();
    assert.equal(ok.delivered.length, 0, 'sinks deliver after the expiry pass, not inside it');
    await turn();
    assert.deepEqual(ok.delivered.map((f) => f.sourceTransportPort).sort(), [1000, 1001, 1002]);
    assert.equal(set.recordsExported, core.stats().recordsExported);
  });
});
