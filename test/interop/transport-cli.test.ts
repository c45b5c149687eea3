/**
 * `flowvis collector` as a process: JSON lines with exact 64-bit integers, text blocks, the HTTP API
 * (GET /records, POST /reset, GET /metrics), mutual TLS from certificate files, clear errors for bad
 * options, and a clean exit on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { buildTemplate } from '../../src/ipfix/index.ts';
import { ExportingProcess, ManualTimers } from '../../src/transport/index.ts';
import { until, within } from '../../src/transport/testing/peers.ts';
import { createTestPki, type TestPki } from './helpers-transport/certs.ts';

const CLI = fileURLToPath(new URL('../../src/cli/collector.ts', import.meta.url));
const tmpl = buildTemplate(256, ['sourceIPv4Address', 'destinationIPv4Address', 'octetTotalCount', 'sourcePodName']);

class CollectorCli {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (c: Buffer) => { this.stdout += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { this.stderr += c.toString(); });
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  static start(args: string[]): CollectorCli {
    return new CollectorCli(spawn(process.execPath, ['--import', 'tsx', CLI, '--address', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** The port of the log line `msg` (the collector and the HTTP API log where they listen). */
  async port(msg: string): Promise<number> {
    let port = 0;
    await until(() => {
      for (const line of this.stderr.split('\n')) {
        if (line.includes(`"msg":"${msg}"`)) port = (JSON.parse(line) as { port: number }).port;
      }
      return port > 0 || this.child.exitCode !== null;
    }, 20_000, msg);
    assert.ok(port > 0, `no "${msg}" in:\n${this.stderr}`);
    return port;
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

async function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const cli = CollectorCli.start(args);
  const code = await within(cli.exited, 20_000, 'collector exit');
  return { code, stderr: cli.stderr };
}

describe('flowvis collector (CLI)', () => {
  let pki: TestPki;
  const running: CollectorCli[] = [];
  before(async () => { pki = await createTestPki(); });
  after(async () => {
    for (const c of running) await c.stop();
    await pki?.cleanup();
  });

  it('prints JSON lines with exact 64-bit integers, serves the HTTP API and exits cleanly on SIGTERM', async () => {
    const cli = CollectorCli.start(['--proto', 'tcp', '--output', 'json', '--http-port', '0', '--http-address', '127.0.0.1', '--ring-size', '2']);
    running.push(cli);
    const port = await cli.port('IPFIX collector listening');
    const httpPort = await cli.port('collector HTTP API listening');
    const ex = new ExportingProcess({ host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 4000000000 });
    ex.start();
    await within(once(ex, 'connect'), 5000, 'connect');
    ex.addRecord(tmpl, ['10.0.0.1', '10.0.0.2', 18446744073709551615n, 'a']);
    ex.addRecord(tmpl, ['10.0.0.1', '10.0.0.3', 9007199254740993n, 'b']);
    ex.addRecord(tmpl, ['10.0.0.1', '10.0.0.4', 3n, 'c']);
    await ex.close();
    await until(() => cli.stdout.split('\n').length === 4, 10_000, 'three lines');
    const lines = cli.stdout.trim().split('\n');
    assert.match(lines[0], /"octetTotalCount":18446744073709551615,/);
    assert.match(lines[1], /"octetTotalCount":9007199254740993,/);
    assert.match(lines[0], /"obsDomainID":4000000000,"templateID":256/);

    const base = `http://127.0.0.1:${httpPort}`;
    const recs = await (await fetch(`${base}/records`)).json() as { flowRecords: { data: string; recordIdx: number }[] };
    assert.deepEqual(recs.flowRecords.map((r) => r.recordIdx), [1, 2]);
    assert.match(recs.flowRecords[0].data, /octetTotalCount: 9007199254740993 \n/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^flowvis_collector_records_total 3$/m);
    assert.equal((await fetch(`${base}/reset`, { method: 'POST' })).status, 200);
    assert.equal(((await (await fetch(`${base}/records`)).json()) as { flowRecords: unknown[] }).flowRecords.length, 0);

    assert.equal(await cli.stop(), 0);
    assert.match(cli.stderr, /stopping IPFIX collector/);
  });

  it('prints text blocks of UDP records', async () => {
    const cli = CollectorCli.start(['--proto', 'udp']);
    running.push(cli);
    const port = await cli.port('IPFIX collector listening');
    const ex = new ExportingProcess({ host: '127.0.0.1', port, transport: 'udp', observationDomainId: 8 });
    ex.start();
    await within(once(ex, 'connect'), 5000, 'connect');
    ex.addRecord(tmpl, ['192.168.1.1', '192.168.1.2', 42n, 'pod-x']);
    await ex.close();
    await until(() => cli.stdout.endsWith('\n\n'), 10_000, 'a block');
    assert.match(cli.stdout, /^DATA RECORD-0 exporter=127\.0\.0\.1:\d+ transport=udp obsDomainID=8 templateID=256 exportTime=\d+ sequenceNumber=0\n {4}sourceIPv4Address: 192\.168\.1\.1 \n {4}destinationIPv4Address: 192\.168\.1\.2 \n {4}octetTotalCount: 42 \n {4}sourcePodName: pod-x \n\n$/);
    assert.equal(await cli.stop(), 0);
  });

  it('serves mutual TLS from certificate files and counts rejected clients', async () => {
    const cli = CollectorCli.start(['--proto', 'tls', '--cert', pki.server.certPath, '--key', pki.server.keyPath, '--ca', pki.ca.certPath, '--require-client-cert', '--output', 'json', '--http-port', '0', '--http-address', '127.0.0.1']);
    running.push(cli);
    const port = await cli.port('IPFIX collector listening');
    const httpPort = await cli.port('collector HTTP API listening');
    const good = new ExportingProcess({ host: '127.0.0.1', port, transport: 'tls', observationDomainId: 1, tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key } });
    good.start();
    await within(once(good, 'connect'), 5000, 'TLS connect');
    good.addRecord(tmpl, ['10.1.1.1', '10.1.1.2', 7n, 'tls']);
    await good.close();
    await until(() => cli.stdout.includes('"sourcePodName":"tls"'), 10_000, 'record over TLS');
    const bad = new ExportingProcess({ host: '127.0.0.1', port, transport: 'tls', observationDomainId: 2, timers: new ManualTimers(), tls: { ca: pki.ca.cert } });
    bad.start();
    await until(() => cli.stderr.includes('TLS handshake failed'), 10_000, 'rejection logged');
    await bad.close();
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    assert.match(metrics, /^flowvis_collector_tls_handshake_failures_total 1$/m);
    assert.match(metrics, /^flowvis_collector_rejected_connections_total 1$/m);
    assert.equal(await cli.stop(), 0);
  });

  it('rejects bad options with clear messages', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--proto', 'tls'], /--proto tls needs --cert and --key/],
      [['--proto', 'sctp'], /argument 'sctp' is invalid. Allowed choices are tcp, udp, tls/],
      [['--port', '70000'], /--port must be in 0\.\.65535, got 70000/],
      [['--output', 'xml'], /Allowed choices are text, json/],
      [['--cert', '/nonexistent.pem'], /--cert is only used with --proto tls/],
      [['--proto', 'tls', '--cert', '/nonexistent/server.crt', '--key', '/nonexistent/server.key'], /--cert \/nonexistent\/server\.crt: ENOENT/],
      [['--proto', 'tls', '--cert', 'a', '--key', 'b', '--require-client-cert'], /--require-client-cert needs --ca/],
      [['--address', 'not-an-ip'], /"not-an-ip" is not an IPv4 or IPv6 address/],
    ];
    await Promise.all(cases.map(async ([args, message]) => {
      const r = await runCli(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }));
  });

  it('says so when the port is taken', async () => {
    const first = CollectorCli.start(['--proto', 'tcp']);
    running.push(first);
    const port = await first.port('IPFIX collector listening');
    const busy = await runCli(['--port', String(port)]);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /cannot listen on 127\.0\.0\.1 port \d+ \(tcp\): listen EADDRINUSE/);
    assert.equal(await first.stop(), 0);
  });
});
