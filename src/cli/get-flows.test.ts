/**
 * `flowvis get flows|toptalkers|throughput|servicemap|policyhits` end to end: the CLI against the
 * aggregator API over real HTTPS on loopback, served from a real in-memory embedded store with a
 * few hundred records. Tables, JSON and YAML match the query layer's own results; bad options are
 * refused before any request, naming the option; server-side refusals and a missing store are
 * reported on stderr with exit status 1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { formatJson, parseJson } from '../aggregator/api/index.ts';
import { startApiFixture, type ApiFixture } from '../aggregator/api/testing/api-fixture.ts';
import { DuckDBFlowQueries } from '../aggregator/query/index.ts';
import { makeCluster, makeFlowRows } from '../aggregator/query/testing/flow-fixtures.ts';
import { openEmbeddedStore, type EmbeddedStore } from '../aggregator/sinks/embedded/index.ts';
import { endpointCell, flowRow, rateCell, timeCell } from './get-flows.ts';
import { registerGetCommand } from './get.ts';

const START = 1_800_000_000;
const NOW_MS = (START + 3600) * 1000;

interface Run {
  out: string;
  err: string;
  code: number;
}

async function flowvis(args: string[]): Promise<Run> {
  const run: Run = { out: '', err: '', code: 0 };
  const program = new Command('flowvis').exitOverride().configureOutput({ writeErr: (t) => (run.err += t), writeOut: (t) => (run.out += t) });
  registerGetCommand(program, { out: (t) => (run.out += t), err: (t) => (run.err += t), setExitCode: (c) => (run.code = c) }, () => NOW_MS);
  await program.parseAsync(['get', ...args], { from: 'user' });
  return run;
}

const viaJson = (value: unknown): unknown => parseJson(formatJson(value, 0));
const tableRows = (out: string): string[][] => out.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/));
const cells = (row: string[]): string[] => row.map((c) => (c === '' ? '<NONE>' : c));

describe('flowvis get: flow store queries', () => {
  let store: EmbeddedStore;
  let q: DuckDBFlowQueries;
  let f: ApiFixture;
  let conn: string[];

  before(async () => {
    const rows = makeFlowRows(300, { cluster: makeCluster({ namespaces: 4, workloadsPerNamespace: 4, nodes: 3 }), startSeconds: START, spanSeconds: 3600 });
    store = await openEmbeddedStore({ path: '', clock: () => NOW_MS, retentionMs: 0, threads: 1 });
    store.write(rows);
    await store.flush();
    q = await DuckDBFlowQueries.open(store);
    f = await startApiFixture({ flowQueries: q });
    conn = ['--server', f.server.url, '--token-file', f.tokenFile, '--ca-file', f.caFile];
  });
  after(async () => {
    await f?.close();
    await q?.close();
    await store?.close();
  });

  test('flows as a table: one row per record, newest first, a warning when more match', async () => {
    const r = await flowvis(['flows', ...conn, '--namespace', 'frontend', '--limit', '5']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out.split('\n')[0]!, /^END\s+SRC_POD\s+SRC_IP\s+SPORT\s+DST_POD\s+DST_IP\s+DPORT\s+PROTO\s+SERVICE\s+BYTES\s+PACKETS\s+ACTION$/);
    const page = await q.flows({ filter: { namespace: 'frontend' }, limit: 5 });
    assert.deepEqual(tableRows(r.out), page.flows.map((row) => cells(flowRow(row as unknown as Record<string, unknown>))));
    assert.match(r.err, /^warning: more records match; showing 5 from offset 0 \(use --offset 5/);
  });

  test('flows -o json and -o yaml: the records, filters and paging as the query layer', async () => {
    const args = ['flows', ...conn, '--protocol', 'udp', '--flow-type', 'inter-node', '--sort', 'bytes', '--order', 'asc', '--offset', '2', '--limit', '50'];
    const expected = (await q.flows({ filter: { protocol: 17, flowType: [2] }, sort: 'bytes', order: 'asc', offset: 2, limit: 50 })).flows;
    const j = await flowvis([...args, '-o', 'json']);
    assert.equal(j.code, 0, j.err);
    assert.deepEqual(parseJson(j.out), viaJson(expected));
    const y = await flowvis([...args, '-o', 'yaml']);
    assert.deepEqual(parseYaml(y.out, { intAsBigInt: true }), (viaJson(expected) as Record<string, unknown>[]).map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'number' ? BigInt(v) : v]))));
  });

  test('--since is relative to the clock; --from takes RFC 3339', async () => {
    const since = await flowvis(['flows', ...conn, '--since', '10m', '--limit', '1000', '-o', 'json']);
    assert.deepEqual(parseJson(since.out), viaJson((await q.flows({ filter: { from: START + 3000 }, limit: 1000 })).flows));
    const from = await flowvis(['flows', ...conn, '--from', new Date((START + 3000) * 1000).toISOString(), '--limit', '1000', '-o', 'json']);
    assert.equal(from.out, since.out);
  });

  test('toptalkers: pairs at each level', async () => {
    const pods = await flowvis(['toptalkers', ...conn]);
    assert.match(pods.out.split('\n')[0]!, /^SOURCE\s+DESTINATION\s+BYTES\s+FLOWS$/);
    const top = await q.topTalkers({ by: 'pod' });
    assert.deepEqual(tableRows(pods.out), top.map((t) => [endpointCell(t.source), endpointCell(t.destination), String(t.bytes), String(t.flows)]));
    const ns = await flowvis(['toptalkers', ...conn, '--by', 'namespace', '--limit', '3', '-o', 'json']);
    assert.deepEqual(parseJson(ns.out), viaJson(await q.topTalkers({ by: 'namespace', limit: 3 })));
  });

  test('throughput: a row per bucket, or per pair and bucket with --by', async () => {
    const total = await flowvis(['throughput', ...conn, '--from', String(START), '--to', String(START + 3600), '--bucket', '10m']);
    assert.equal(total.code, 0, total.err);
    const expected = await q.throughput({ filter: { from: START, to: START + 3600 }, bucketSeconds: 600 });
    assert.deepEqual(tableRows(total.out), expected.series[0]!.points.map((p) => [timeCell(p.time), String(p.bytes), ...rateCell(p.bitsPerSecond).split(' ')]));
    const pairs = await flowvis(['throughput', ...conn, '--bucket', '1800', '--by', 'node', '--top', '2', '-o', 'json']);
    assert.deepEqual(parseJson(pairs.out), viaJson(await q.throughput({ bucketSeconds: 1800, by: 'node', top: 2 })));
    const table = await flowvis(['throughput', ...conn, '--bucket', '1800', '--by', 'node', '--top', '2']);
    assert.match(table.out.split('\n')[0]!, /^SOURCE\s+DESTINATION\s+TIME\s+BYTES\s+RATE$/);
  });

  test('servicemap and policyhits', async () => {
    const map = await flowvis(['servicemap', ...conn, '--limit', '10']);
    const expected = await q.serviceMap({ limit: 10 });
    assert.deepEqual(tableRows(map.out), expected.edges.map((e) => [e.source, e.destination, String(e.bytes), String(e.flows), String(e.allowedFlows), String(e.deniedFlows)]));
    const hits = await flowvis(['policyhits', ...conn, '--action', 'deny']);
    assert.match(hits.out.split('\n')[0]!, /^DIRECTION\s+NAMESPACE\s+POLICY\s+TYPE\s+ACTION\s+FLOWS\s+BYTES$/);
    const denied = await q.policyHits({ filter: { action: 'deny' } });
    assert.equal(tableRows(hits.out).length, denied.length);
    assert.ok(tableRows(hits.out).some((r) => r[3] === 'AntreaNetworkPolicy' && r[4] === 'Drop'));
    const y = await flowvis(['policyhits', ...conn, '--action', 'deny', '-o', 'yaml']);
    assert.equal((parseYaml(y.out) as unknown[]).length, denied.length);
  });

  test('bad options are refused before any request, naming the option', async () => {
    const requests = f.server.stats.requests;
    const port = await flowvis(['flows', ...conn, '--source-port', '70000']);
    assert.deepEqual([port.code, port.err], [1, 'error: --source-port: expected an integer from 0 to 65535\n']);
    const ip = await flowvis(['toptalkers', ...conn, '--destination-ip', '10.0.0']);
    assert.equal(ip.err, 'error: --destination-ip: expected an IPv4 or IPv6 address\n');
    const both = await flowvis(['flows', ...conn, '--since', '1h', '--from', String(START)]);
    assert.equal(both.err, 'error: --since and --from cannot be used together\n');
    const late = await flowvis(['flows', ...conn, '--since', '1h', '--to', String(START - 60)]);
    assert.equal(late.err, 'error: --since: must not be after to\n');
    assert.equal(f.server.stats.requests, requests, 'no request was sent');
    await assert.rejects(flowvis(['toptalkers', ...conn, '--by', 'cluster']), /Allowed choices are pod, namespace, node/);
    await assert.rejects(flowvis(['throughput', ...conn, '--bucket', '5x']), /--bucket must be seconds or a duration/);
  });

  test('refusals of the server: the 400 message naming the parameter, exit status 1', async () => {
    const r = await flowvis(['flows', ...conn, '--limit', '5000']);
    assert.equal(r.code, 1);
    assert.match(r.err, /HTTP 400: query parameter limit="5000": expected an integer from 1 to 1000\n$/);
    const top = await flowvis(['throughput', ...conn, '--top', '3']);
    assert.match(top.err, /query parameter top="3": needs by=pod\|namespace\|node/);
  });
});

test('without a flow store: the server says so', async () => {
  const f = await startApiFixture();
  try {
    const r = await flowvis(['servicemap', '--server', f.server.url, '--token-file', f.tokenFile, '--ca-file', f.caFile]);
    assert.equal(r.code, 1);
    assert.match(r.err, /HTTP 404: no flow store is enabled \(embeddedStore or clickHouse\)/);
  } finally {
    await f.close();
  }
});

test('table cells: times, rates, endpoints', () => {
  assert.equal(timeCell(1_800_000_000), '2027-01-15T08:00:00Z');
  assert.equal(timeCell(0), '');
  assert.deepEqual([rateCell(0), rateCell(999), rateCell(1234567), rateCell(8e12)], ['0 bit/s', '999 bit/s', '1.23 Mbit/s', '8.00 Tbit/s']);
  assert.deepEqual([
    endpointCell({ kind: 'pod', namespace: 'ns', name: 'web-1' }), endpointCell({ kind: 'namespace', namespace: 'ns', name: 'ns' }),
    endpointCell({ kind: 'external', namespace: '', name: '' }), endpointCell({ kind: 'external', namespace: '', name: '93.184.216.34' }),
  ], ['ns/web-1', 'ns', 'external', '93.184.216.34']);
});
