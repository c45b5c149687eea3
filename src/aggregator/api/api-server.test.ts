/**
 * The API server over real HTTPS on loopback, serving a real AggregationProcess: authentication,
 * every endpoint, /flowrecords lookups and filters, bad parameters, TLS version and cipher
 * settings, certificate rotation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { pino } from 'pino';
import { ApiError } from '../../errors.ts';
import { generatePki, issueServerCertificate } from '../certs/index.ts';
import { ApiClient } from './client.ts';
import { parseJson } from './json.ts';
import { BIG_OCTETS, startApiFixture, type ApiFixture } from './testing/api-fixture.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function request(f: ApiFixture, path: string, opts: { token?: string | null; method?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? f.token : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = https.request(`${f.server.url}${path}`, { method: opts.method ?? 'GET', ca: f.pki.ca.cert, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function records(f: ApiFixture, query: string): Promise<Record<string, unknown>[]> {
  const r = await request(f, `/flowrecords${query}`);
  assert.equal(r.status, 200, r.body);
  return (parseJson(r.body) as { flowRecords: Record<string, unknown>[] }).flowRecords;
}

describe('API server', () => {
  let f: ApiFixture;
  let ready = true;
  before(async () => {
    f = await startApiFixture({ bulk: 30, flowRecordsDefaultLimit: 25, ready: () => ready });
  });
  after(async () => {
    await f.close();
  });

  test('health endpoints answer without a token; /readyz follows the readiness hook', async () => {
    for (const p of ['/healthz', '/livez', '/readyz']) {
      const r = await request(f, p, { token: null });
      assert.deepEqual([r.status, r.body], [200, 'ok'], p);
    }
    ready = false;
    assert.equal((await request(f, '/readyz', { token: null })).status, 503);
    ready = true;
  });

  test('every other endpoint needs the bearer token: 401 with a JSON error', async () => {
    const before = f.server.stats.unauthorized;
    for (const p of ['/flowrecords', '/recordmetrics', '/metrics', '/nope']) {
      const none = await request(f, p, { token: null });
      assert.equal(none.status, 401, p);
      assert.equal(none.headers['www-authenticate'], 'Bearer realm="flow-aggregator"');
      assert.deepEqual(JSON.parse(none.body), { error: 'missing bearer token (Authorization: Bearer <token from apiServer.tokenFile>)', code: 'UNAUTHORIZED' });
      const wrong = await request(f, p, { token: f.token.slice(1) + 'x' });
      assert.deepEqual([wrong.status, JSON.parse(wrong.body).code], [401, 'UNAUTHORIZED']);
    }
    assert.equal(f.server.stats.unauthorized - before, 8);
  });

  test('full 5-tuple: a direct lookup returning the full IE map with exact 64-bit integers', async () => {
    const r = await request(f, '/flowrecords?srcip=10.0.1.2&dstip=10.0.1.3&proto=6&srcport=50000&dstport=8080');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] as string, /^application\/json/);
    assert.ok(r.body.includes(`"octetTotalCount":${BIG_OCTETS}`), 'the big counter is written as an exact integer');
    const body = parseJson(r.body) as { flowRecords: Record<string, unknown>[]; truncated: boolean };
    assert.equal(body.flowRecords.length, 1);
    assert.equal(body.truncated, false);
    const rec = body.flowRecords[0];
    assert.equal(Object.keys(rec).length, 70, '69 information elements + correlationState');
    assert.deepEqual(Object.keys(rec).slice(0, 3), ['flowStartSeconds', 'flowEndSeconds', 'flowEndReason']);
    assert.equal(rec.octetTotalCount, BIG_OCTETS);
    assert.deepEqual([rec.sourceIPv4Address, rec.destinationIPv4Address, rec.sourcePodName, rec.destinationServicePortName, rec.clusterId, rec.correlationState],
      ['10.0.1.2', '10.0.1.3', 'client', 'ns-b/server:http', 'cluster-1', 'not-required']);
    assert.deepEqual(await records(f, '?srcip=10.0.1.2&dstip=10.0.1.3&proto=6&srcport=50000&dstport=1'), [], 'no such flow');
  });

  test('partial filters scan; no filter lists everything up to the limit', async () => {
    assert.deepEqual((await records(f, '?srcip=10.0.1.2')).map((r) => r.destinationTransportPort).sort(), [443, 8080]);
    assert.deepEqual((await records(f, '?srcip=10.0.1.2&dstport=443')).map((r) => r.correlationState), ['waiting']);
    assert.deepEqual((await records(f, '?proto=udp&dstip=FD00:10:244:1:0:0:0:7')).map((r) => r.destinationPodName), ['coredns']);
    assert.deepEqual((await records(f, '?proto=17&srcport=20007')).map((r) => r.sourcePodName), ['bulk-7']);
    assert.equal((await records(f, '?srcip=&proto=0')).length, 25, 'empty and 0 match anything; the default limit applies');
    const all = parseJson((await request(f, '/flowrecords?limit=100')).body) as { flowRecords: unknown[]; truncated: boolean };
    assert.deepEqual([all.flowRecords.length, all.truncated], [33, false]);
    const some = parseJson((await request(f, '/flowrecords?limit=10&proto=udp')).body) as { flowRecords: unknown[]; truncated: boolean };
    assert.deepEqual([some.flowRecords.length, some.truncated], [10, true]);
  });

  test('bad parameters: 400 naming the parameter, counted, and the server keeps serving', async () => {
    const before = f.server.stats.badRequests;
    const cases: [string, string][] = [
      ['srcip=10.0.0', 'srcip'], ['dstip=not-an-ip', 'dstip'], ['srcport=70000', 'srcport'], ['dstport=-1', 'dstport'], ['srcport=8o', 'srcport'],
      ['proto=foo', 'proto'], ['proto=256', 'proto'], ['limit=0', 'limit'], ['limit=10001', 'limit'], ['srcIP=10.0.0.1', 'srcIP'],
      ['srcip=10.0.0.1&srcip=10.0.0.2', 'srcip'],
    ];
    for (const [q, parameter] of cases) {
      const r = await request(f, `/flowrecords?${q}`);
      assert.equal(r.status, 400, q);
      const err = JSON.parse(r.body) as { error: string; code: string; parameter: string };
      assert.deepEqual([err.code, err.parameter], ['BAD_PARAMETER', parameter], q);
      assert.match(err.error, new RegExp(`^query parameter ${parameter}=`), q);
    }
    assert.equal(f.server.stats.badRequests - before, cases.length);
    assert.equal((await request(f, '/healthz')).status, 200);
  });

  test('/recordmetrics: every key, in antctl order, exact integers', async () => {
    const r = await request(f, '/recordmetrics');
    assert.equal(r.status, 200);
    assert.equal(r.body.trim(), '{"numRecordsExported":12,"numRecordsReceived":18446744073709551615,"numRecordsDropped":1,"numFlows":33,"numConnToCollector":2,'
      + '"withClickHouseExporter":true,"withS3Exporter":false,"withLogExporter":false,"withIPFIXExporter":true}');
  });

  test('/metrics: Prometheus text of the given registry, with the API request counter', async () => {
    const r = await request(f, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.match(r.body, /^flowvis_test_gauge 7$/m);
    assert.match(r.body, /^flowvis_aggregator_api_requests_total\{endpoint="\/flowrecords",code="400"\} \d+$/m);
  });

  test('unknown path 404, other methods 405, malformed HTTP 400', async () => {
    const nf = await request(f, '/flowrecord');
    assert.deepEqual([nf.status, JSON.parse(nf.body).code], [404, 'NOT_FOUND']);
    const post = await request(f, '/flowrecords', { method: 'POST' });
    assert.deepEqual([post.status, post.headers.allow], [405, 'GET, HEAD']);
    const head = await request(f, '/recordmetrics', { method: 'HEAD' });
    assert.deepEqual([head.status, head.body], [200, '']);
    const raw = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: f.server.port, ca: f.pki.ca.cert, servername: 'localhost' }, () => s.write('GARBAGE\r\n\r\n'));
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.on('end', () => resolve(text));
      s.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 Bad Request/);
  });

  test('the client: typed errors for 401 and 400, records and metrics with exact integers', async () => {
    const client = new ApiClient({ server: f.server.url, token: f.token, ca: f.pki.ca.cert });
    const one = await client.flowRecords({ srcip: '10.0.1.2', dstip: '10.0.1.3', proto: 'tcp', srcport: 50000, dstport: 8080 });
    assert.equal(one.flowRecords[0].octetTotalCount, BIG_OCTETS);
    assert.equal((await client.recordMetrics()).numRecordsReceived, 2n ** 64n - 1n);
    await assert.rejects(client.flowRecords({ srcport: 'x' }), (e: unknown) => e instanceof ApiError && e.code === 'BAD_REQUEST' && e.context.parameter === 'srcport' && e.context.status === 400);
    const intruder = new ApiClient({ server: f.server.url, token: 'wrong-token-wrong-token', ca: f.pki.ca.cert });
    await assert.rejects(intruder.recordMetrics(), (e: unknown) => e instanceof ApiError && e.code === 'UNAUTHORIZED');
    const untrusting = new ApiClient({ server: f.server.url, token: f.token, ca: generatePki().ca.cert });
    await assert.rejects(untrusting.recordMetrics(), (e: unknown) => e instanceof ApiError && e.code === 'TLS_VERIFY');
    const insecure = new ApiClient({ server: f.server.url, token: f.token, insecureSkipTlsVerify: true });
    assert.equal((await insecure.recordMetrics()).numFlows, 33);
  });

  test('setCertificate: new handshakes get the rotated certificate', async () => {
    const rotated = issueServerCertificate(f.pki.ca);
    f.server.setCertificate(rotated.cert, rotated.key);
    const serial = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: f.server.port, ca: f.pki.ca.cert }, () => {
        resolve(s.getPeerX509Certificate()?.serialNumber ?? '');
        s.end();
      });
      s.on('error', reject);
    });
    assert.equal(serial, new X509Certificate(rotated.cert).serialNumber);
  });
});

describe('API server TLS settings', () => {
  function handshake(port: number, ca: string, opts: tls.ConnectionOptions): Promise<{ version: string | null; cipher: string }> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca, ...opts }, () => {
        resolve({ version: s.getProtocol(), cipher: s.getCipher().name });
        s.end();
      });
      s.on('error', reject);
    });
  }

  test('tlsMinVersion VersionTLS13: a TLS 1.2 client is refused, TLS 1.3 is served', async () => {
    const f = await startApiFixture({ tlsMinVersion: 'VersionTLS13' });
    try {
      await assert.rejects(handshake(f.server.port, f.pki.ca.cert, { maxVersion: 'TLSv1.2' }), /protocol version|unsupported protocol|wrong version/i);
      assert.equal(f.server.stats.tlsErrors, 1);
      assert.equal((await handshake(f.server.port, f.pki.ca.cert, {})).version, 'TLSv1.3');
    } finally {
      await f.close();
    }
  });

  test('tlsCipherSuites: only the listed TLS 1.2 suites are negotiated', async () => {
    const f = await startApiFixture({ tlsCipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'] });
    try {
      const ok = await handshake(f.server.port, f.pki.ca.cert, { maxVersion: 'TLSv1.2' });
      assert.deepEqual(ok, { version: 'TLSv1.2', cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
      await assert.rejects(handshake(f.server.port, f.pki.ca.cert, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), /handshake failure|no shared cipher/i);
      assert.equal((await handshake(f.server.port, f.pki.ca.cert, {})).version, 'TLSv1.3', 'TLS 1.3 suites are not configurable');
    } finally {
      await f.close();
    }
  });

  test('tlsCipherSuites without a suite for the ECDSA key: a warning at start', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => { lines.push(chunk.toString()); done(); } }));
    const f = await startApiFixture({ tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'], log });
    try {
      assert.equal(lines.length, 1);
      assert.match(JSON.parse(lines[0]).msg, /no suite for the server's ec key: only TLS 1\.3 clients can connect/);
    } finally {
      await f.close();
    }
  });
});

test('a failing metrics provider gives a 500, counted, and the server keeps serving', async () => {
  const f = await startApiFixture({ recordMetrics: () => { throw new Error('counters unavailable'); } });
  try {
    const r = await request(f, '/recordmetrics');
    assert.deepEqual([r.status, JSON.parse(r.body)], [500, { error: 'internal error: counters unavailable', code: 'INTERNAL' }]);
    assert.equal(f.server.stats.serverErrors, 1);
    assert.equal((await request(f, '/flowrecords?limit=1')).status, 200);
  } finally {
    await f.close();
  }
});
