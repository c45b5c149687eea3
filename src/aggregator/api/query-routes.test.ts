/**
 * The query endpoints (/flows, /toptalkers, /throughput, /servicemap, /policyhits) over real HTTPS
 * on loopback, served from a real in-memory embedded store (DuckDB) holding a few hundred records:
 * each answer equals the query layer's own result, bad parameters are 400s naming the parameter
 * (and counted), and a server without a flow store answers 404.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { DuckDBFlowQueries } from '../query/index.ts';
import { everyColumnRow, makeCluster, makeFlowRows } from '../query/testing/flow-fixtures.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../sinks/embedded/index.ts';
import { formatJson, parseJson } from './json.ts';
import { startApiFixture, type ApiFixture } from './testing/api-fixture.ts';

const START = 1_800_000_000;
const NOW_MS = (START + 7200) * 1000;

function get(f: ApiFixture, path: string, opts: { token?: string | null; method?: string } = {}): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? f.token : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = https.request(`${f.server.url}${path}`, { method: opts.method ?? 'GET', ca: f.pki.ca.cert, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What the query layer returned, as a client reads it back from JSON. */
const viaJson = (value: unknown): unknown => parseJson(formatJson(value, 0));

describe('query endpoints on the embedded store', () => {
  let store: EmbeddedStore;
  let q: DuckDBFlowQueries;
  let f: ApiFixture;

  const ok = async (path: string): Promise<unknown> => {
    const r = await get(f, path);
    assert.equal(r.status, 200, `${path}: ${r.body}`);
    return parseJson(r.body);
  };

  before(async () => {
    const rows = makeFlowRows(400, { cluster: makeCluster({ namespaces: 4, workloadsPerNamespace: 4, nodes: 3 }), startSeconds: START, spanSeconds: 3600 });
    store = await openEmbeddedStore({ path: '', clock: () => NOW_MS, retentionMs: 0, threads: 1 });
    store.write([...rows, everyColumnRow(1)]);
    await store.flush();
    q = await DuckDBFlowQueries.open(store);
    f = await startApiFixture({ flowQueries: q });
  });
  after(async () => {
    await f?.close();
    await q?.close();
    await store?.close();
  });

  test('/flows: filters, paging and sorting as the query layer; 64-bit counters exact', async () => {
    const body = (await ok('/flows?namespace=frontend&protocol=tcp&flowType=inter-node,intra-node&limit=7&offset=3&sort=bytes&order=asc')) as { flows: unknown[] };
    assert.deepEqual(body, viaJson(await q.flows({ filter: { namespace: 'frontend', protocol: 6, flowType: [2, 1] }, limit: 7, offset: 3, sort: 'bytes', order: 'asc' })));
    assert.equal(body.flows.length, 7);
    const timed = await ok(`/flows?from=${new Date((START + 600) * 1000).toISOString()}&to=${START + 1200}&action=deny`);
    assert.deepEqual(timed, viaJson(await q.flows({ filter: { from: START + 600, to: START + 1200, action: 'deny' } })));
    const whole = await ok('/flows');
    assert.deepEqual(whole, viaJson(await q.flows()));
    const big = await get(f, '/flows?sourceIP=fd00:10:244::1');
    assert.ok(big.body.includes('"octetTotalCount":18446744073709551615'), 'exact 2^64 - 1');
    assert.equal((parseJson(big.body) as { flows: { octetTotalCount: bigint }[] }).flows[0]!.octetTotalCount, 2n ** 64n - 1n);
  });

  test('/toptalkers by pod (default), namespace and node', async () => {
    assert.deepEqual(await ok('/toptalkers'), viaJson({ by: 'pod', topTalkers: await q.topTalkers({ by: 'pod' }) }));
    for (const by of ['namespace', 'node'] as const) {
      const body = await ok(`/toptalkers?by=${by}&limit=4&destinationNamespace=backend`);
      assert.deepEqual(body, viaJson({ by, topTalkers: await q.topTalkers({ by, limit: 4, filter: { destinationNamespace: 'backend' } }) }));
    }
  });

  test('/throughput: total with a bucket width, and per top pair', async () => {
    const total = (await ok(`/throughput?from=${START}&to=${START + 3600}&bucket=5m`)) as { bucketSeconds: number; series: { points: unknown[] }[] };
    assert.deepEqual(total, viaJson(await q.throughput({ filter: { from: START, to: START + 3600 }, bucketSeconds: 300 })));
    assert.deepEqual([total.bucketSeconds, total.series[0]!.points.length], [300, 12]);
    const pairs = await ok(`/throughput?from=${START}&to=${START + 3600}&bucket=600&by=namespace&top=2`);
    assert.deepEqual(pairs, viaJson(await q.throughput({ filter: { from: START, to: START + 3600 }, bucketSeconds: 600, by: 'namespace', top: 2 })));
  });

  test('/servicemap and /policyhits', async () => {
    assert.deepEqual(await ok('/servicemap?limit=20'), viaJson(await q.serviceMap({ limit: 20 })));
    const hits = (await ok('/policyhits?action=deny')) as { policyHits: { action: string }[] };
    assert.deepEqual(hits, viaJson({ policyHits: await q.policyHits({ filter: { action: 'deny' } }) }));
    assert.ok(hits.policyHits.some((h) => h.action === 'Drop') && hits.policyHits.some((h) => h.action === 'Reject'));
  });

  test('bad parameters: 400 naming the parameter, counted', async () => {
    const cases: [string, string, RegExp][] = [
      ['/flows?limit=0', 'limit', /limit="0": expected an integer from 1 to 1000/],
      ['/flows?limit=ten', 'limit', /expected a non-negative integer/],
      ['/flows?offset=10001', 'offset', /from 0 to 10000/],
      ['/flows?sort=sourceIP', 'sort', /expected one of flowEndSeconds/],
      ['/flows?order=up', 'order', /asc or desc/],
      ['/flows?ip=10.0.0', 'ip', /IPv4 or IPv6/],
      ['/flows?port=70000', 'port', /from 0 to 65535/],
      ['/flows?from=20&to=10', 'from', /must not be after to/],
      ['/flows?from=yesterday', 'from', /unix seconds or an RFC 3339 time/],
      ['/flows?flowType=sideways', 'flowType', /non-negative integer/],
      ['/flows?action=maybe', 'action', /allow, deny/],
      ['/flows?srcip=10.0.0.1', 'srcip', /unknown parameter; accepted: the flow filter fields and limit, offset, sort, order/],
      ['/flows?namespace=a&namespace=b', 'namespace', /given more than once/],
      ['/flows?namespace=', 'namespace', /non-empty string/],
      ['/toptalkers?by=cluster', 'by', /pod, namespace, node/],
      ['/toptalkers?sort=bytes', 'sort', /unknown parameter/],
      ['/throughput?from=0&to=4000000000&bucket=1', 'bucket', /more than 10000 buckets/],
      ['/throughput?bucket=5x', 'bucket', /30s, 5m, 1h, 1d/],
      ['/throughput?top=3', 'top', /needs by=/],
      ['/throughput?by=node&top=51', 'top', /from 1 to 50/],
      ['/servicemap?limit=5001', 'limit', /from 1 to 5000/],
      ['/policyhits?limit=0', 'limit', /from 1 to 10000/],
    ];
    const before = f.server.stats.badRequests;
    for (const [path, parameter, message] of cases) {
      const r = await get(f, path);
      assert.equal(r.status, 400, `${path}: ${r.body}`);
      const err = JSON.parse(r.body) as { error: string; code: string; parameter: string };
      assert.deepEqual([err.code, err.parameter], ['BAD_PARAMETER', parameter], path);
      assert.match(err.error, message, path);
      assert.match(err.error, new RegExp(`^query parameter ${parameter}`), path);
    }
    assert.equal(f.server.stats.badRequests - before, cases.length);
    const metrics = (await get(f, '/metrics')).body;
    assert.match(metrics, /flowvis_aggregator_api_requests_total\{endpoint="\/flows",code="400"\} 14/);
  });

  test('the bearer token is needed; HEAD answers without a body', async () => {
    assert.equal((await get(f, '/flows', { token: null })).status, 401);
    const head = await get(f, '/servicemap', { method: 'HEAD' });
    assert.deepEqual([head.status, head.body], [200, '']);
    assert.equal((await get(f, '/flows', { method: 'POST' })).status, 405);
  });
});

test('without a flow store the query endpoints answer 404 with a clear message', async () => {
  const f = await startApiFixture();
  try {
    for (const path of ['/flows', '/toptalkers?by=node', '/throughput', '/servicemap', '/policyhits']) {
      const r = await get(f, path);
      assert.equal(r.status, 404, path);
      assert.deepEqual(JSON.parse(r.body), { error: 'no flow store is enabled (embeddedStore or clickHouse)', code: 'NO_FLOW_STORE' });
    }
    assert.equal(f.server.stats.notFound, 5);
    assert.equal((await get(f, '/flows', { token: null })).status, 401, 'still behind the token');
  } finally {
    await f.close();
  }
});
