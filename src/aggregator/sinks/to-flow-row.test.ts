import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FLOW_COLUMN_NAMES, FLOW_ROW_COLUMNS, RowQueue, type FlowRow, type FlowSink, type FlowSinkStats,
} from './flow-row.ts';
import { BIG, sampleFlow } from './testing/aggregated-flows.ts';
import { StorageSinkAdapter, toFlowRow } from './to-flow-row.ts';

const UUID = '0b7d9c2e-55b6-4a0c-9a64-6b8c3f0e1a2d';
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** An in-memory store with the FlowSink contract (bounded RowQueue, explicit commits). */
class MemoryStore implements FlowSink {
  readonly name = 'embedded';
  readonly rows: FlowRow[] = [];
  writeCalls = 0;
  private readonly queue: RowQueue;
  private written = 0;
  constructor(capacity = 1000) {
    this.queue = new RowQueue(capacity);
  }
  write(rows: readonly FlowRow[]): void {
    this.writeCalls++;
    this.queue.push(rows);
  }
  commit(): void {
    const batch = this.queue.take(Number.MAX_SAFE_INTEGER);
    this.rows.push(...batch);
    this.written += batch.length;
    this.queue.done();
  }
  flush(): Promise<void> {
    this.commit();
    return Promise.resolve();
  }
  close(): Promise<void> {
    return this.flush();
  }
  stats(): FlowSinkStats {
    return { queued: this.queue.pending, written: this.written, dropped: this.queue.dropped, failures: 0, lastError: undefined };
  }
}

describe('toFlowRow', () => {
  it('maps every column of an IPv4 flow to a Service', () => {
    const flow = sampleFlow(4, 3);
    const row = toFlowRow(flow, UUID);
    assert.deepEqual(Object.keys(row), FLOW_ROW_COLUMNS.map((c) => c.name), 'every column, in table order');
    assert.equal(row.sourceIP, '10.10.0.3');
    assert.equal(row.destinationIP, '10.10.1.80');
    assert.equal(row.destinationClusterIP, '10.96.0.10');
    assert.equal(row.clusterUUID, UUID);
    assert.equal(row.trusted, 0);
    const f = flow as unknown as Record<string, unknown>;
    for (const c of FLOW_ROW_COLUMNS) {
      if (['sourceIP', 'destinationIP', 'destinationClusterIP', 'clusterUUID', 'trusted'].includes(c.name)) continue;
      assert.equal(row[c.name], f[c.name], c.name);
    }
    assert.equal(typeof row.octetTotalCount, 'bigint');
    assert.ok(row.octetTotalCount >= BIG(0), 'counters above 2^53 stay exact');
  });

  it('writes the zero address as destinationClusterIP when the flow is not to a Service', () => {
    assert.equal(toFlowRow(sampleFlow(4, 0, { destinationServicePortName: '' }), UUID).destinationClusterIP, '0.0.0.0');
    assert.equal(toFlowRow(sampleFlow(6, 0, { destinationServicePortName: '' }), UUID).destinationClusterIP, '::');
  });

  it('maps an IPv6 flow from the IPv6 elements', () => {
    const row = toFlowRow(sampleFlow(6, 1, { egressNodeName: 'node-egress', appProtocolName: 'http', httpVals: '{"1":"GET /"}' }), UUID);
    assert.equal(row.sourceIP, 'fd00:10:244::2');
    assert.equal(row.destinationIP, 'fd00:10:244:1::50');
    assert.equal(row.destinationClusterIP, 'fd00:10:96::a');
    assert.equal(row.egressNodeName, 'node-egress');
    assert.equal(row.appProtocolName, 'http');
    assert.equal(row.httpVals, '{"1":"GET /"}');
  });

  it('adds timeInserted first when given', () => {
    const row = toFlowRow(sampleFlow(4, 0), UUID, 1_700_000_100);
    assert.deepEqual(Object.keys(row), [...FLOW_COLUMN_NAMES]);
    assert.equal(row.timeInserted, 1_700_000_100);
  });
});

describe('StorageSinkAdapter', () => {
  it('batches the flows of one turn into one write() and reports the store counters', async () => {
    const store = new MemoryStore();
    const sink = new StorageSinkAdapter(store, { clusterUUID: UUID });
    assert.equal(sink.name, 'embedded');
    for (let i = 0; i < 10; i++) sink.offer(sampleFlow(i % 2 === 0 ? 4 : 6, i));
    assert.equal(store.writeCalls, 0);
    assert.equal(sink.stats().queued, 10);
    await turn();
    assert.equal(store.writeCalls, 1);
    assert.deepEqual(sink.stats(), { queued: 10, sent: 0, dropped: 0, failures: 0 });
    await sink.flush();
    assert.deepEqual(sink.stats(), { queued: 0, sent: 10, dropped: 0, failures: 0 });
    assert.deepEqual(store.rows.map((r) => r.sourceTransportPort), Array.from({ length: 10 }, (_, i) => 40_000 + i));
    assert.ok(store.rows.every((r) => r.clusterUUID === UUID));
  });

  it('writes at once when maxBatch flows wait; the store drops the oldest when its queue is full', async () => {
    const store = new MemoryStore(5);
    const sink = new StorageSinkAdapter(store, { clusterUUID: UUID, maxBatch: 4 });
    for (let i = 0; i < 9; i++) sink.offer(sampleFlow(4, i));
    assert.equal(store.writeCalls, 2, 'two full batches left synchronously');
    await sink.flush();
    assert.deepEqual(store.rows.map((r) => r.sourceTransportPort), [40004, 40005, 40006, 40007, 40008]);
    assert.equal(sink.stats().dropped, 4);
    await sink.close();
    sink.offer(sampleFlow(4, 99));
    assert.equal(sink.stats().dropped, 5, 'offers after close are dropped and counted');
  });
});
