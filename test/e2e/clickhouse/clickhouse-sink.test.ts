/**
 * The ClickHouse sink against a real server (Debian's clickhouse-server, started on loopback by
 * the harness): schema creation, every column read back, a 30 s outage without loss, HTTPS with a
 * custom CA or insecureSkipVerify, refused credentials, native-protocol URLs, retention on servers without TTL, literal escaping, and
 * the ClickHouse query layer giving the same answers as the reference semantics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, ApiError } from '../../../src/errors.ts';
import { openClickHouseSink, chString, flowsTableDdl, serverFeatures, type ClickHouseSink } from '../../../src/aggregator/sinks/clickhouse/index.ts';
import { emptyFlowRow, FLOW_COLUMNS, FLOW_ROW_COLUMNS, type FlowRow } from '../../../src/aggregator/sinks/flow-row.ts';
import { everyColumnRow, makeCluster, makeFlowRows } from '../../../src/aggregator/query/testing/flow-fixtures.ts';
import { ReferenceQueries, matches } from '../../../src/aggregator/query/testing/reference-queries.ts';
import { sampleFilters, START } from '../../../src/aggregator/query/testing/sample-filters.ts';
import { ClickHouseFlowQueries, workloadSql } from '../../../src/aggregator/query/clickhouse-queries.ts';
import { stripPodSuffix, workloadOf } from '../../../src/aggregator/sinks/embedded/workload.ts';
import type { FlowsQuery } from '../../../src/aggregator/query/types.ts';
import { clickHouseServerBinary, startClickHouseServer, type ClickHouseTestServer } from './server.ts';

const USER = { name: 'flowvis', password: "s3cret'pw\\x" };
const skip = clickHouseServerBinary() === undefined ? 'clickhouse-server is not installed (apt-get install clickhouse-server)' : false;

/** Reads flows back with DateTime as unix seconds and UInt64 as exact strings. */
async function readFlows(server: ClickHouseTestServer, database: string, where = '1'): Promise<Record<string, unknown>[]> {
  const select = FLOW_COLUMNS.map((c) => (c.type === 'DateTime' ? `toUInt32(${c.name}) AS ${c.name}` : c.name)).join(', ');
  const text = await server.query(
    `SELECT ${select} FROM ${database}.flows WHERE ${where} ORDER BY flowEndSeconds, sourceTransportPort FORMAT JSONEachRow`,
  );
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function assertSameRow(actual: Record<string, unknown>, expected: FlowRow): void {
  for (const c of FLOW_ROW_COLUMNS) {
    const want = expected[c.name];
    const got = actual[c.name];
    if (c.type === 'UInt64') assert.equal(BigInt(got as string), want, c.name);
    else assert.equal(got, want, c.name);
  }
}

describe('ClickHouse sink against clickhouse-server', { skip, timeout: 120_000 }, () => {
  let server: ClickHouseTestServer;
  const env = { CH_USERNAME: USER.name, CH_PASSWORD: USER.password };
  const sinks: ClickHouseSink[] = [];

  before(async () => {
    server = await startClickHouseServer({ users: [USER], tls: true });
  });
  after(async () => {
    for (const s of sinks) await s.close().catch(() => {});
    await server?.dispose();
  });

  test('creates the schema and writes every column exactly', async () => {
    const sink = await openClickHouseSink({ databaseURL: server.url, database: 'fv_cols', commitIntervalMs: 1000, env });
    sinks.push(sink);
    const version = (await server.query('SELECT version()')).trim();
    assert.equal(sink.features.version, version);
    const tables = (await server.query("SELECT name FROM system.tables WHERE database = 'fv_cols' ORDER BY name")).trim().split('\n');
    assert.deepEqual(tables, [
      'flows',
      'flows_node_view',
      'flows_pod_view',
      'flows_policy_view',
      'node_view_table',
      'pod_view_table',
      'policy_view_table',
    ]);
    const ddl = await server.query('SHOW CREATE TABLE fv_cols.flows');
    assert.match(ddl, /ORDER BY \(timeInserted, flowEndSeconds\)/);
    if (!sink.features.tableTtl) assert.doesNotMatch(ddl, /TTL/);

    const special = [everyColumnRow(1), everyColumnRow(2)];
    const bulk = makeFlowRows(2000, { startSeconds: 1_700_000_000 });
    sink.write(special);
    sink.write(bulk);
    await sink.flush();
    assert.deepEqual({ ...sink.stats(), lastError: undefined }, { queued: 0, written: 2002, dropped: 0, failures: 0, lastError: undefined });

    const back = await readFlows(server, 'fv_cols', 'flowEndSeconds >= 1800000000');
    assert.equal(back.length, 2);
    assertSameRow(back[0] as Record<string, unknown>, special[0] as FlowRow);
    assertSameRow(back[1] as Record<string, unknown>, special[1] as FlowRow);
    const inserted = Number(back[0]?.timeInserted);
    assert.ok(Math.abs(inserted - Date.now() / 1000) < 120, 'timeInserted is set by the server');

    const all = await readFlows(server, 'fv_cols', 'flowEndSeconds < 1800000000');
    assert.equal(all.length, bulk.length);
    const sorted = [...bulk].sort((a, b) => a.flowEndSeconds - b.flowEndSeconds || a.sourceTransportPort - b.sourceTransportPort);
    for (let i = 0; i < sorted.length; i += 97) assertSameRow(all[i] as Record<string, unknown>, sorted[i] as FlowRow);

    const bytes = bulk.reduce((s, r) => s + r.octetDeltaCount, 0n) + special.reduce((s, r) => s + r.octetDeltaCount, 0n);
    const viewBytes = (await server.query('SELECT sum(octetDeltaCount) FROM fv_cols.pod_view_table')).trim();
    assert.equal(BigInt(viewBytes), bytes, 'the pod view sums what the flows table holds');
  });

  test('keeps every record through a 30 s outage and retries in order', { timeout: 90_000 }, async () => {
    const sink = await openClickHouseSink({
      databaseURL: server.url,
      database: 'fv_outage',
      commitIntervalMs: 1000,
      retryInitialDelayMs: 500,
      retryMaxDelayMs: 2000,
      env,
    });
    sinks.push(sink);
    const rows = makeFlowRows(6000, { seed: 11 });
    sink.write(rows.slice(0, 1000));
    await sink.flush();
    await server.stop();
    const outageStart = Date.now();
    for (let i = 1; i < 6; i++) {
      sink.write(rows.slice(i * 1000, (i + 1) * 1000));
      await new Promise((r) => setTimeout(r, 5000));
    }
    while (Date.now() - outageStart < 30_000) await new Promise((r) => setTimeout(r, 250));
    const during = sink.stats();
    assert.equal(during.queued, 5000);
    assert.ok(during.failures >= 5, `failures counted (${during.failures})`);
    assert.match(during.lastError ?? '', /ECONNREFUSED/);
    await assert.rejects(sink.flush(), (err: unknown) => err instanceof ApiError && err.code === 'CLICKHOUSE_WRITE');

    await server.start();
    const deadline = Date.now() + 20_000;
    while (sink.stats().queued > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const stats = sink.stats();
    assert.equal(stats.queued, 0);
    assert.equal(stats.written, 6000);
    assert.equal(stats.dropped, 0);
    assert.equal(stats.lastError, undefined);
    const [count, bytes] = (await server.query('SELECT count(), sum(octetDeltaCount) FROM fv_outage.flows')).trim().split('\t');
    assert.equal(Number(count), 6000);
    assert.equal(BigInt(bytes as string), rows.reduce((s, r) => s + r.octetDeltaCount, 0n));
  });

  test('a record the server refuses is isolated and dropped alone; a Theia table without our newer columns works', async () => {
    // A pre-existing table where sourcePodName is a number: names that are not numbers fail to parse.
    await server.query('CREATE DATABASE fv_bad');
    const ddl = flowsTableDdl('fv_bad', serverFeatures('18.16.1'), { ttlSeconds: 0 })
      .replace('sourcePodName String', 'sourcePodName UInt16')
      .replace(/\n {2}(appProtocolName|httpVals|egressNodeName) String,/g, '');
    await server.query(ddl);
    const warnings: string[] = [];
    const logger = { info: () => {}, warn: (_: object, msg?: string) => warnings.push(msg ?? ''), error: () => {} };
    const sink = await openClickHouseSink({ databaseURL: server.url, database: 'fv_bad', commitIntervalMs: 1000, env, logger, createSchema: false });
    sinks.push(sink);
    assert.ok(!sink.insertColumns.includes('egressNodeName') && sink.insertColumns.includes('egressName'));
    assert.ok(warnings.some((w) => /lacks columns/.test(w)));
    const rows = Array.from({ length: 8 }, (_, i) => ({ ...emptyFlowRow(), flowEndSeconds: 1_800_000_000 + i, sourcePodName: i === 2 || i === 5 ? 'web-0' : String(i) }));
    sink.write(rows);
    await sink.flush();
    const stats = sink.stats();
    assert.equal(stats.written, 6);
    assert.equal(stats.dropped, 2);
    assert.match(stats.lastError ?? '', /ClickHouse error \d+: /);
    assert.equal((await server.query('SELECT groupArray(sourcePodName) FROM (SELECT sourcePodName FROM fv_bad.flows ORDER BY flowEndSeconds)')).trim(), '[0,1,3,4,6,7]');
  });

  test('HTTPS with a custom CA file or insecureSkipVerify; an unverifiable certificate is a clear error', async () => {
    const httpsUrl = server.httpsUrl as string;
    const withCa = await openClickHouseSink({ databaseURL: httpsUrl, database: 'fv_tls', env, tls: { caFile: server.caFile }, commitIntervalMs: 1000 });
    sinks.push(withCa);
    withCa.write([everyColumnRow(7)]);
    await withCa.flush();
    const skip = await openClickHouseSink({ databaseURL: httpsUrl, database: 'fv_tls', env, tls: { insecureSkipVerify: true } });
    sinks.push(skip);
    skip.write([everyColumnRow(8)]);
    await skip.flush();
    assert.equal((await server.query('SELECT count() FROM fv_tls.flows')).trim(), '2');
    await assert.rejects(
      openClickHouseSink({ databaseURL: httpsUrl, database: 'fv_tls', env }),
      (err: unknown) => err instanceof ApiError && err.code === 'CLICKHOUSE_TLS' && /cannot be verified \(DEPTH_ZERO_SELF_SIGNED_CERT/.test(err.message),
    );
    await assert.rejects(
      openClickHouseSink({ databaseURL: httpsUrl, database: 'fv_tls', env, tls: { caFile: '/nonexistent/ca.crt' } }),
      (err: unknown) => err instanceof ConfigError && err.code === 'CLICKHOUSE_CA',
    );
  });

  test('refuses wrong credentials with a clear error', async () => {
    await assert.rejects(
      openClickHouseSink({ databaseURL: server.url, database: 'fv_auth', env: { CH_USERNAME: USER.name, CH_PASSWORD: 'wrong' } }),
      (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.code, 'CLICKHOUSE_AUTH');
        assert.match(err.message, /refused the login of user "flowvis"/);
        assert.match(err.message, /CH_USERNAME and CH_PASSWORD/);
        return true;
      },
    );
    await assert.rejects(
      openClickHouseSink({ databaseURL: server.url, database: 'fv_auth', username: 'nobody', password: 'x' }),
      (err: unknown) => err instanceof ApiError && err.code === 'CLICKHOUSE_AUTH' && /nobody/.test(err.message),
    );
  });

  test('refuses native-protocol URLs, saying what to write instead', async () => {
    await assert.rejects(
      openClickHouseSink({ databaseURL: 'tcp://clickhouse.flow-visibility.svc:9000', database: 'default' }),
      (err: unknown) =>
        err instanceof ConfigError && err.code === 'CLICKHOUSE_NATIVE_PROTOCOL' && /use http:\/\/clickhouse\.flow-visibility\.svc:8123/.test(err.message),
    );
  });

  test('deletes expired records on a server without table TTL', async (t) => {
    const sink = await openClickHouseSink({ databaseURL: server.url, database: 'fv_ttl', ttlSeconds: 3600, env });
    sinks.push(sink);
    if (sink.features.tableTtl) {
      t.skip('server has table TTL');
      return;
    }
    await server.query("INSERT INTO fv_ttl.flows (timeInserted, flowEndSeconds, sourcePodName) VALUES (now() - 7200, now() - 7200, 'old')");
    await server.query("INSERT INTO fv_ttl.flows (flowEndSeconds, sourcePodName) VALUES (now(), 'new')");
    await sink.applyRetention();
    const deadline = Date.now() + 10_000;
    let left = '';
    while (Date.now() < deadline) {
      left = (await server.query('SELECT groupArray(sourcePodName) FROM fv_ttl.flows')).trim();
      if (left === "['new']") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(left, "['new']");
    assert.equal((await server.query("SELECT count() FROM fv_ttl.pod_view_table WHERE sourcePodName = 'old'")).trim(), '0');
  });

  test('string literals survive the round trip through the server', async () => {
    const nasty = ["it's", 'back\\slash', "\\'", 'tab\tnew\nline\r', 'nul\0byte', '\x01\x1f\x7f', 'é✓𝄞', "'; DROP TABLE x; --", '\\x41'];
    for (const s of nasty) {
      const text = await server.query(`SELECT ${chString(s)} AS v FORMAT JSONEachRow`);
      assert.equal((JSON.parse(text) as { v: string }).v, s, JSON.stringify(s));
    }
  });

  test('query layer answers like the reference (same semantics as the embedded store)', { timeout: 60_000 }, async () => {
    const rows = makeFlowRows(6000, { cluster: makeCluster({ namespaces: 6, workloadsPerNamespace: 5, nodes: 3 }), startSeconds: START, spanSeconds: 3600 });
    const sink = await openClickHouseSink({ databaseURL: server.url, database: 'fv_query', commitIntervalMs: 1000, env });
    sinks.push(sink);
    sink.write(rows);
    await sink.flush();
    const q = ClickHouseFlowQueries.open({ databaseURL: server.url, database: 'fv_query', env });
    const ref = new ReferenceQueries(rows, 0);
    const fingerprint = (r: Record<string, unknown>): string =>
      FLOW_ROW_COLUMNS.map((c) => String(r[c.name])).join('|');
    try {
      for (const filter of sampleFilters(rows)) {
        const all = new Set(rows.filter((r) => matches(r, filter)).map((r) => fingerprint(r as unknown as Record<string, unknown>)));
        for (const sort of ['flowEndSeconds', 'bytes'] as const) {
          const query: FlowsQuery = { filter, sort, limit: 25, offset: 10 };
          const got = await q.flows(query);
          const want = ref.flows(query);
          const keyOf = (r: Record<string, unknown>): string =>
            sort === 'bytes' ? String(BigInt(r.octetDeltaCount as bigint) + BigInt(r.reverseOctetDeltaCount as bigint)) : String(r.flowEndSeconds);
          assert.equal(got.hasMore, want.hasMore, JSON.stringify(filter));
          assert.deepEqual(got.flows.map((r) => keyOf(r as unknown as Record<string, unknown>)), want.flows.map((r) => keyOf(r as unknown as Record<string, unknown>)));
          for (const r of got.flows) assert.ok(all.has(fingerprint(r as unknown as Record<string, unknown>)), 'every returned record matches the filter');
        }
      }
      for (const by of ['pod', 'namespace', 'node'] as const) {
        for (const filter of sampleFilters(rows).slice(0, 12)) {
          assert.deepEqual(await q.topTalkers({ by, filter, limit: 15 }), ref.topTalkers(by, filter, 15), `${by} ${JSON.stringify(filter)}`);
        }
      }
      const range = { from: START, to: START + 3600 };
      assert.deepEqual(await q.throughput({ filter: range }), ref.throughput({ filter: range }));
      for (const by of ['pod', 'namespace', 'node'] as const) {
        assert.deepEqual(await q.throughput({ filter: range, by, top: 3, bucketSeconds: 600 }), ref.throughput({ filter: range, by, top: 3, bucketSeconds: 600 }));
      }
      const auto = await q.throughput({});
      assert.deepEqual([auto.from, auto.to], [START, rows[rows.length - 1]!.flowEndSeconds + 1]);
      for (const filter of sampleFilters(rows)) {
        assert.deepEqual(await q.serviceMap({ filter }), ref.serviceMap(filter), `service map ${JSON.stringify(filter)}`);
        assert.deepEqual(await q.policyHits({ filter }), ref.policyHits(filter), `policy hits ${JSON.stringify(filter)}`);
      }
    } finally {
      await q.close();
    }
  });

  test('workload names: the SQL rules agree with the JavaScript ones', async () => {
    const cases: [string, string][] = [
      ['web-7d9f8b6c5d-x7k2p', ''],
      ['my-app-7d9f8b6c5d-x7k2p', ''],
      ['fluentd-x7k2p', ''],
      ['db-0', ''],
      ['db-12', ''],
      ['plain', ''],
      ['web-7d9f8b6c5d-x7k2p', '{"app":"frontend","pod-template-hash":"7d9f8b6c5d"}'],
      ['api-5c4d-zzzzz', '{"app.kubernetes.io/name":"api-server","app":"api"}'],
      ['dns-abcde', '{"k8s-app":"kube-dns"}'],
      ['x-24567', '{}'],
      ['', '{"app":"ignored"}'],
    ];
    for (const [pod, labels] of cases) {
      const text = await server.query(`SELECT ${workloadSql(chString(pod), chString(labels))} AS w FORMAT JSONEachRow`);
      assert.equal((JSON.parse(text) as { w: string }).w, workloadOf(pod, labels), `${pod} ${labels}`);
    }
    assert.equal(stripPodSuffix('web-7d9f8b6c5d-x7k2p'), 'web');
  });
});
