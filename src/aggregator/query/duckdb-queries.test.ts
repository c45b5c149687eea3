import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../errors.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../sinks/embedded/index.ts';
import type { FlowRow } from '../sinks/flow-row.ts';
import { DuckDBFlowQueries } from './duckdb-queries.ts';
import { makeCluster, makeFlowRows } from './testing/flow-fixtures.ts';
import { ReferenceQueries } from './testing/reference-queries.ts';
import { sampleFilters, START } from './testing/sample-filters.ts';
import type { FlowFilter } from './types.ts';

const NOW_MS = 1_800_010_000_000;

describe('DuckDB query layer', () => {
  let store: EmbeddedStore;
  let q: DuckDBFlowQueries;
  let rows: FlowRow[];
  let ref: ReferenceQueries;

  before(async () => {
    rows = makeFlowRows(6000, { cluster: makeCluster({ namespaces: 6, workloadsPerNamespace: 5, nodes: 3 }), startSeconds: START, spanSeconds: 3600 });
    store = await openEmbeddedStore({ path: '', clock: () => NOW_MS, retentionMs: 0, threads: 1 });
    store.write(rows);
    await store.flush();
    q = await DuckDBFlowQueries.open(store);
    ref = new ReferenceQueries(rows, NOW_MS / 1000);
  });
  after(async () => {
    await q?.close();
    await store?.close();
  });

  test('flows: filters, sorting and paging match the reference', async () => {
    for (const filter of sampleFilters(rows)) {
      for (const sort of ['flowEndSeconds', 'bytes'] as const) {
        const query = { filter, sort, limit: 25, offset: 10 };
        assert.deepEqual(await q.flows(query), ref.flows(query), `${JSON.stringify(filter)} ${sort}`);
      }
    }
    for (const sort of ['flowStartSeconds', 'packets', 'throughput'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        const query = { sort, order, limit: 50, offset: 0 };
        assert.deepEqual(await q.flows(query), ref.flows(query), `${sort} ${order}`);
      }
    }
    const last = await q.flows({ limit: 1000, offset: 5500 });
    assert.equal(last.flows.length, 500);
    assert.equal(last.hasMore, false);
  });

  test('top talkers by pod, namespace and node match the reference', async () => {
    for (const by of ['pod', 'namespace', 'node'] as const) {
      for (const filter of sampleFilters(rows).slice(0, 12)) {
        assert.deepEqual(await q.topTalkers({ by, filter, limit: 15 }), ref.topTalkers(by, filter, 15), `${by} ${JSON.stringify(filter)}`);
      }
    }
    const pods = await q.topTalkers({ by: 'pod', limit: 1000 });
    assert.ok(pods.some((t) => t.destination.kind === 'external' && /^93\.184\.216\./.test(t.destination.name)), 'external ends by IP');
  });

  test('throughput over time, total and per pair, matches the reference', async () => {
    const filter = { from: START, to: START + 3600 };
    assert.deepEqual(await q.throughput({ filter }), ref.throughput({ filter }));
    assert.deepEqual(await q.throughput({ filter, bucketSeconds: 300 }), ref.throughput({ filter, bucketSeconds: 300 }));
    for (const by of ['pod', 'namespace', 'node'] as const) {
      assert.deepEqual(await q.throughput({ filter, by, top: 3, bucketSeconds: 600 }), ref.throughput({ filter, by, top: 3, bucketSeconds: 600 }), by);
    }
    const auto = await q.throughput({});
    assert.equal(auto.from, START);
    assert.equal(auto.to, rows[rows.length - 1]!.flowEndSeconds + 1);
    const total = auto.series[0]!.points.reduce((s, p) => s + p.bytes, 0n);
    assert.equal(total, rows.reduce((s, r) => s + r.octetDeltaCount + r.reverseOctetDeltaCount, 0n));
    const p = auto.series[0]!.points[0]!;
    assert.equal(p.bitsPerSecond, (Number(p.bytes) * 8) / auto.bucketSeconds);
  });

  test('service map and policy hits match the reference', async () => {
    for (const filter of sampleFilters(rows).slice(0, 8)) {
      assert.deepEqual(await q.serviceMap({ filter }), ref.serviceMap(filter), JSON.stringify(filter));
      assert.deepEqual(await q.policyHits({ filter }), ref.policyHits(filter), JSON.stringify(filter));
    }
    const map = await q.serviceMap({ limit: 5000 });
    const kinds = new Set(map.nodes.map((n) => n.kind));
    assert.deepEqual([...kinds].sort(), ['external', 'service', 'workload']);
    assert.ok(map.nodes.some((n) => n.id === 'workload:frontend/cart'), 'Deployment pods grouped into their workload');
    assert.ok(map.edges.some((e) => e.deniedFlows > 0 && e.allowedFlows >= 0));
    const hits = await q.policyHits({ filter: { action: 'deny' } });
    assert.ok(hits.some((h) => h.action === 'Drop') && hits.some((h) => h.action === 'Reject'));
  });

  test('refuses malformed queries with BAD_QUERY', async () => {
    const bad = async (fn: () => Promise<unknown>): Promise<void> => {
      await assert.rejects(fn, (err: unknown) => err instanceof ApiError && err.code === 'BAD_QUERY');
    };
    await bad(() => q.flows({ limit: 0 }));
    await bad(() => q.flows({ offset: 10_001 }));
    await bad(() => q.flows({ sort: 'sourceIP' as 'bytes' }));
    await bad(() => q.flows({ filter: { ip: 'not-an-ip' } }));
    await bad(() => q.flows({ filter: { port: 70000 } }));
    await bad(() => q.flows({ filter: { from: 10, to: 5 } }));
    await bad(() => q.flows({ filter: { bogus: 1 } as FlowFilter }));
    await bad(() => q.topTalkers({ by: 'cluster' as 'pod' }));
    await bad(() => q.throughput({ filter: { from: 0, to: 86400 * 365 }, bucketSeconds: 1 }));
  });
});
