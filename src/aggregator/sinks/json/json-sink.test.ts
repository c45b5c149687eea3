import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { describe, it } from 'node:test';
import type { FlowCollectorConfig } from '../../../config/aggregator-types.ts';
import { aggregatorElementNames } from '../../../ipfix/index.ts';
import { ManualTimers } from '../../../transport/index.ts';
import { until } from '../../../transport/testing/peers.ts';
import { generatePki } from '../../certs/pki.ts';
import type { AggregatedFlow } from '../../core/index.ts';
import { BIG, sampleFlow } from '../testing/aggregated-flows.ts';
import { goJsonString, jsonRecordLine, rfc3339Seconds } from './json-record.ts';
import { jsonSinkFromConfig, JsonSink } from './json-sink.ts';

const T0 = 1_700_000_000_000;
const STAMP = '2023-11-14T22:13:20Z';

/** The line go-ipfix writes, spelled out from the spec: sorted keys, bare integers, quoted strings. */
function expectedLine(flow: AggregatedFlow, stamp = STAMP): string {
  const f = flow as unknown as Record<string, string | number | bigint>;
  const names = [...aggregatorElementNames(flow.family)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const body = names.map((n) => {
    const v = f[n];
    return `"${n}":${typeof v === 'string' ? JSON.stringify(v) : v.toString()}`;
  });
  return `{"@timestamp":"${stamp}","ipfix":{${body.join(',')}}}\n`;
}

/** A TCP (or TLS) server that keeps everything each connection sends. */
class LineServer {
  readonly received: string[] = [];
  readonly sockets: net.Socket[] = [];
  private constructor(readonly server: net.Server) {}

  static async listen(port = 0, secure?: tls.TlsOptions): Promise<LineServer> {
    const server = secure ? tls.createServer(secure) : net.createServer();
    const s = new LineServer(server);
    server.on(secure ? 'secureConnection' : 'connection', (sock: net.Socket) => {
      s.sockets.push(sock);
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          s.received.push(buf.slice(0, nl + 1));
          buf = buf.slice(nl + 1);
        }
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => resolve());
    });
    return s;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('JSON record lines', () => {
  it('are go-ipfix lines: sorted keys, exact 64-bit integers, strings and IPs quoted', () => {
    for (const family of [4, 6] as const) {
      const flow = sampleFlow(family, 7);
      const line = jsonRecordLine(flow, rfc3339Seconds(T0));
      assert.equal(line, expectedLine(flow));
      const keys = [...line.slice(line.indexOf('"ipfix":{')).matchAll(/[{,]"([A-Za-z0-9]+)":/g)].map((m) => m[1]);
      assert.equal(keys.length, 69);
      assert.deepEqual(keys, [...keys].sort());
      assert.ok(line.includes(`"octetTotalCount":${flow.octetTotalCount}`), 'bare integer');
      assert.ok(flow.octetTotalCount >= BIG(0) && BIG(0) > BigInt(Number.MAX_SAFE_INTEGER), 'above 2^53');
      assert.ok(!/e\+|\d\.\d/.test(line.replace(/"[^"]*"/g, '')), 'no floats anywhere');
      assert.ok(line.includes(family === 4 ? '"sourceIPv4Address":"10.10.0.7"' : '"sourceIPv6Address":"fd00:10:244::8"'));
    }
  });

  it('escape strings as Go does (HTML-safe)', () => {
    assert.equal(goJsonString('a<b>&"c"\u2028'), '"a\\u003cb\\u003e\\u0026\\"c\\"\\u2028"');
    assert.equal(goJsonString('plain'), '"plain"');
    const line = jsonRecordLine(sampleFlow(4, 0, { httpVals: '{"0":"GET /?a=1&b=<x>"}' }), STAMP);
    assert.ok(line.includes('"httpVals":"{\\"0\\":\\"GET /?a=1\\u0026b=\\u003cx\\u003e\\"}"'));
  });

  it('format the timestamp as RFC 3339 seconds in UTC', () => {
    assert.equal(rfc3339Seconds(T0), STAMP);
    assert.equal(rfc3339Seconds(T0 + 999), STAMP);
  });
});

describe('JsonSink', () => {
  it('writes exact lines to a TCP collector, the flows of one batch together', async () => {
    const server = await LineServer.listen();
    const timers = new ManualTimers(T0);
    const sink = new JsonSink({ host: '127.0.0.1', port: server.port, transport: 'tcp', timers });
    try {
      const flows = Array.from({ length: 30 }, (_, i) => sampleFlow(i % 3 === 0 ? 6 : 4, i));
      for (const f of flows) sink.offer(f);
      await until(() => server.received.length === 30, 5000, 'lines');
      assert.deepEqual(server.received, flows.map((f) => expectedLine(f)));
      for (const l of server.received) JSON.parse(l);
      await sink.flush();
      assert.deepEqual(sink.stats(), { queued: 0, sent: 30, dropped: 0, failures: 0 });
      assert.equal(sink.connects, 1);
    } finally {
      await sink.close();
      await server.close();
    }
  });

  it('sends whole lines in datagrams no larger than the limit over UDP', async () => {
    const sock = dgram.createSocket('udp4');
    const datagrams: Buffer[] = [];
    sock.on('message', (m) => datagrams.push(m));
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
    const timers = new ManualTimers(T0);
    const sink = new JsonSink({ host: '127.0.0.1', port: sock.address().port, transport: 'udp', maxDatagramSize: 8000, timers });
    try {
      const flows = Array.from({ length: 20 }, (_, i) => sampleFlow(i < 10 ? 4 : 6, i));
      for (const f of flows) sink.offer(f);
      const lines = (): string[] => datagrams.flatMap((d) => d.toString('utf8').split(/(?<=\n)/));
      await until(() => lines().length === 20, 5000, 'lines');
      assert.deepEqual(lines(), flows.map((f) => expectedLine(f)));
      for (const d of datagrams) {
        assert.ok(d.length <= 8000, `datagram of ${d.length} octets`);
        assert.equal(d.at(-1), 0x0a, 'a datagram ends with a whole line');
      }
      assert.ok(datagrams.length < 20, `${datagrams.length} datagrams for 20 lines`);
      await sink.flush();
      await until(() => sink.stats().sent === 20, 5000, 'send callbacks');
    } finally {
      await sink.close();
      sock.close();
    }
  });

  it('holds flows while the collector is down (bounded, oldest dropped) and reconnects with backoff', async () => {
    const probe = await LineServer.listen();
    const port = probe.port;
    await probe.close();
    const timers = new ManualTimers(T0);
    const sink = new JsonSink({ host: '127.0.0.1', port, transport: 'tcp', timers, maxQueue: 3, backoff: { initialMs: 1000, maxMs: 4000 } });
    let server: LineServer | undefined;
    try {
      await until(() => sink.state === 'backoff', 5000, 'first failure');
      assert.deepEqual(timers.pendingDelays, [1000]);
      timers.advance(1000);
      await until(() => sink.stats().failures === 2, 5000, 'second failure');
      assert.deepEqual(timers.pendingDelays, [2000], 'backoff doubles');
      const flows = Array.from({ length: 5 }, (_, i) => sampleFlow(4, i));
      for (const f of flows) sink.offer(f);
      assert.deepEqual({ ...sink.stats(), lastError: undefined }, { queued: 3, sent: 0, dropped: 2, failures: 2, lastError: undefined });
      assert.match(sink.stats().lastError ?? '', /ECONNREFUSED/);
      server = await LineServer.listen(port);
      timers.advance(2000);
      await until(() => server!.received.length === 3, 5000, 'queued lines after reconnect');
      const stamp = rfc3339Seconds(timers.now());
      assert.deepEqual(server.received, flows.slice(2).map((f) => expectedLine(f, stamp)), 'the newest three, in order');
      server.sockets[0].destroy();
      await until(() => sink.state === 'backoff', 5000, 'lost connection noticed');
      assert.deepEqual(timers.pendingDelays, [1000], 'backoff restarts after a successful connection');
    } finally {
      await sink.close();
      await server?.close();
    }
  });

  it('speaks mutual TLS when flowCollector.tls is enabled (PEM files from the config)', async () => {
    const pki = generatePki();
    const dir = await mkdtemp(join(tmpdir(), 'flowvis-json-tls-'));
    const server = await LineServer.listen(0, {
      cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true,
    });
    let sink: JsonSink | undefined;
    try {
      await writeFile(join(dir, 'ca.crt'), pki.ca.cert);
      await writeFile(join(dir, 'tls.crt'), pki.client.cert);
      await writeFile(join(dir, 'tls.key'), pki.client.key);
      const config: FlowCollectorConfig = {
        enable: true, address: `127.0.0.1:${server.port}:tcp`,
        collector: { host: '127.0.0.1', port: server.port, proto: 'tcp', hostKind: 'ipv4', isServiceRef: false },
        recordFormat: 'JSON', templateRefreshTimeout: 600_000, maxIPFIXMsgSize: 0,
        tls: {
          enable: true, caFile: join(dir, 'ca.crt'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'),
          minVersion: 'VersionTLS13', insecureSkipVerify: false,
        },
      };
      sink = jsonSinkFromConfig(config, { clusterUUID: '0b7d9c2e-55b6-4a0c-9a64-6b8c3f0e1a2d', timers: new ManualTimers(T0) });
      const flow = sampleFlow(6, 3);
      sink.offer(flow);
      await until(() => server.received.length === 1, 5000, 'line over TLS');
      assert.equal(server.received[0], expectedLine(flow));
      assert.equal((server.sockets[0] as tls.TLSSocket).getProtocol(), 'TLSv1.3');
    } finally {
      await sink?.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
