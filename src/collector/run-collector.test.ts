import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { buildTemplate, MessageWriter, type DataRecord, type FieldValue } from '../ipfix/index.ts';
import { ExportingProcess } from '../transport/index.ts';
import { until, within } from '../transport/testing/peers.ts';
import { recordsBody } from './http-server.ts';
import { formatRecordJson, formatRecordText, formatValueJson, type CollectedRecord } from './record-format.ts';
import { RecordRing } from './record-ring.ts';
import { startCollector } from './run-collector.ts';

const tmpl = buildTemplate(256, [
  'sourceIPv6Address', 'octetTotalCount', 'flowStartMilliseconds', 'sourcePodName', 'sourceMacAddress',
  'flowEndNanoseconds', 'paddingOctets',
]);
const values: FieldValue[] = ['fd00::1', 18446744073709551615n, 1700000000123, 'web "a"\n', 'aa:bb:cc:dd:ee:ff', 1700000000123456789n, new Uint8Array([0, 255, 16])];

function sample(): CollectedRecord {
  const header = { version: 10, length: 100, exportTime: 1700000001, sequenceNumber: 4294967295, observationDomainId: 3000000000 };
  const record: DataRecord = { template: tmpl, values, header };
  return { session: { id: 1, transport: 'tcp', exporterAddress: 'fd00::9', exporterPort: 40000 }, header, record, recordIdx: 2 };
}

describe('record formats', () => {
  it('writes 64-bit integers as exact bare JSON numbers', () => {
    const line = formatRecordJson(sample());
    assert.match(line, /"octetTotalCount":18446744073709551615,/);
    assert.match(line, /"flowEndNanoseconds":1700000000123456789,/);
    assert.match(line, /"sequenceNumber":4294967295,"obsDomainID":3000000000,"templateID":256,"recordIdx":2/);
    const parsed = JSON.parse(line) as { data: Record<string, unknown>; exporterAddress: string };
    assert.equal(parsed.data.sourcePodName, 'web "a"\n');
    assert.equal(parsed.data.paddingOctets, '00ff10');
    assert.equal(parsed.data.sourceIPv6Address, 'fd00::1');
    assert.equal(parsed.exporterAddress, 'fd00::9');
    assert.equal(formatValueJson(Number.NaN), '"NaN"');
    assert.equal(formatValueJson(true), 'true');
  });

  it('prints one text block per record with go-ipfix style lines', () => {
    const text = formatRecordText(sample());
    const lines = text.split('\n');
    assert.equal(lines[0], 'DATA RECORD-2 exporter=[fd00::9]:40000 transport=tcp obsDomainID=3000000000 templateID=256 exportTime=1700000001 sequenceNumber=4294967295');
    assert.equal(lines[1], '    sourceIPv6Address: fd00::1 ');
    assert.equal(lines[2], '    octetTotalCount: 18446744073709551615 ');
    assert.equal(lines[4], '    sourcePodName: web "a"\\n ', 'control characters are escaped');
    assert.equal(lines[5], '    sourceMacAddress: aa:bb:cc:dd:ee:ff ');
    assert.ok(text.endsWith('    paddingOctets: 0x00ff10 \n\n'));
  });

  it('serves records in the go-ipfix collector shape', () => {
    const body = JSON.parse(recordsBody([sample()])) as { flowRecords: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(body.flowRecords[0]), ['exportTime', 'sequenceNumber', 'obsDomainID', 'templateID', 'recordIdx', 'data']);
    assert.match(body.flowRecords[0].data as string, /^ {4}sourceIPv6Address: fd00::1 \n {4}octetTotalCount: 18446744073709551615 \n/);
  });
});

describe('RecordRing', () => {
  it('keeps the newest items, oldest first', () => {
    const r = new RecordRing<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    r.clear();
    assert.deepEqual(r.toArray(), []);
    r.push(9);
    assert.deepEqual(r.toArray(), [9]);
    assert.throws(() => new RecordRing(0), RangeError);
  });
});

describe('startCollector', () => {
  for (const decodeWorkers of [0, 2]) {
  it(`prints JSON lines, serves /records, /reset and /metrics, and closes cleanly (${decodeWorkers} decode workers)`, async () => {
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => { printed += c.toString(); });
    const running = await startCollector({ transport: 'tcp', address: '127.0.0.1', port: 0, output: 'json', out, httpPort: 0, httpAddress: '127.0.0.1', ringSize: 4, decodeWorkers });
    const ex = new ExportingProcess({ host: '127.0.0.1', port: running.process.address.port, transport: 'tcp', observationDomainId: 77 });
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      for (let i = 0; i < 6; i++) ex.addRecord(tmpl, [values[0], BigInt(i) + 2n ** 63n, ...values.slice(2)]);
      ex.flush();
      await until(() => printed.split('\n').length === 7, 5000, 'six lines');
      const lines = printed.trim().split('\n');
      assert.match(lines[5], /"octetTotalCount":9223372036854775813,/);
      assert.match(lines[0], /"exporterAddress":"127.0.0.1".*"obsDomainID":77,"templateID":256,"recordIdx":0/);

      const base = `http://127.0.0.1:${running.http!.address.port}`;
      const records = await (await fetch(`${base}/records`)).json() as { flowRecords: { recordIdx: number; data: string; obsDomainID: number }[] };
      assert.deepEqual(records.flowRecords.map((r) => r.recordIdx), [2, 3, 4, 5], 'bounded ring, newest last');
      assert.equal(records.flowRecords[3].obsDomainID, 77);
      assert.match(records.flowRecords[3].data, /octetTotalCount: 9223372036854775813 \n/);

      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /^flowvis_collector_records_total 6$/m);
      assert.match(metrics, /^flowvis_collector_sessions 1$/m);
      assert.match(metrics, /# TYPE flowvis_collector_records_lost_total counter/);

      assert.equal((await fetch(`${base}/reset`, { method: 'POST' })).status, 200);
      assert.deepEqual(await (await fetch(`${base}/records`)).json(), { flowRecords: [] });
      assert.equal((await fetch(`${base}/reset`)).status, 405);
      assert.equal((await fetch(`${base}/nothing`)).status, 404);
    } finally {
      await ex.close();
      await running.close();
    }
    await within(running.done, 1000, 'printing loop ends');
  });
  }

  it('prints text blocks', async () => {
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => { printed += c.toString(); });
    const running = await startCollector({ transport: 'udp', address: '127.0.0.1', port: 0, output: 'text', out });
    const ex = new ExportingProcess({ host: '127.0.0.1', port: running.process.address.port, transport: 'udp', observationDomainId: 5 });
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      ex.addRecord(tmpl, values);
      ex.flush();
      await until(() => printed.endsWith('\n\n'), 5000, 'a block');
      assert.match(printed, /^DATA RECORD-0 exporter=127\.0\.0\.1:\d+ transport=udp obsDomainID=5 templateID=256 /);
      assert.match(printed, /\n {4}sourcePodName: web "a"\\n \n/);
    } finally {
      await ex.close();
      await running.close();
    }
  });

  it('with decode workers, spreads UDP exporters over the threads and prints every record once', async () => {
    const out = new PassThrough();
    let printed = '';
    out.on('data', (c: Buffer) => { printed += c.toString(); });
    const running = await startCollector({ transport: 'udp', address: '127.0.0.1', port: 0, output: 'json', out, decodeWorkers: 3, httpPort: 0, httpAddress: '127.0.0.1', ringSize: 10 });
    const port = running.process.address.port;
    const sockets: dgram.Socket[] = [];
    try {
      // Four exporters; each sends its template, then 300 records in messages of 50, one of which
      // (50 records) never leaves: the sequence numbers must tell.
      for (let e = 0; e < 4; e++) {
        const sock = dgram.createSocket('udp4');
        sockets.push(sock);
        const w = new MessageWriter({ observationDomainId: 10 + e, maxMessageSize: 50 * 200 });
        w.addTemplate(tmpl);
        w.flush();
        for (let i = 0; i < 300; i++) {
          w.addRecord(tmpl, [values[0], BigInt(e * 1000 + i), ...values.slice(2)]);
          if (i % 50 === 49) w.flush();
        }
        const messages = w.drain();
        assert.equal(messages.length, 7);
        for (const [k, m] of messages.entries()) {
          if (k === 3) continue;
          await new Promise<void>((resolve, reject) => sock.send(m, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
        }
      }
      await until(() => running.process.stats.records === 4 * 250, 5000, 'all records counted');
      await running.sync();
      const seen = printed.trim().split('\n').map((l) => (JSON.parse(l) as { data: { octetTotalCount: number } }).data.octetTotalCount);
      const expected = [0, 1, 2, 3].flatMap((e) => Array.from({ length: 300 }, (_, i) => e * 1000 + i).filter((_, i) => i < 100 || i >= 150));
      assert.deepEqual([...seen].sort((a, b) => a - b), expected);
      const stats = running.process.stats;
      assert.equal(stats.recordsLost, 4 * 50, 'the missing message of each exporter');
      assert.equal(stats.messages, 4 * 6);
      assert.equal(stats.templates, 4);
      assert.equal(stats.sessionsCurrent, 4);
      const base = `http://127.0.0.1:${running.http!.address.port}`;
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /^flowvis_collector_records_total 1000$/m);
      assert.match(metrics, /^flowvis_collector_records_lost_total 200$/m);
      const recent = await (await fetch(`${base}/records`)).json() as { flowRecords: { data: string }[] };
      assert.equal(recent.flowRecords.length, 10, 'the ring size across all workers');
      assert.match(recent.flowRecords[9].data, /octetTotalCount: 3299 \n/, 'newest last');
    } finally {
      for (const s of sockets) s.close();
      await running.close();
    }
  });

  it('with decode workers, a slow output pauses TCP reading and loses nothing', async () => {
    const out = new PassThrough({ highWaterMark: 4096 });
    const running = await startCollector({ transport: 'tcp', address: '127.0.0.1', port: 0, output: 'text', out, decodeWorkers: 2 });
    const ex = new ExportingProcess({ host: '127.0.0.1', port: running.process.address.port, transport: 'tcp', observationDomainId: 9 });
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      // Nobody reads the output: keep sending until the collector pushes back.
      let sent = 0;
      while (running.process.stats.backpressurePauses === 0) {
        assert.ok(sent < 2_000_000, 'no pause after 2M records');
        for (let i = 0; i < 5000; i++) ex.addRecord(tmpl, [values[0], BigInt(sent++), ...values.slice(2)]);
        ex.flush();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      let blocks = 0;
      out.on('data', (c: Buffer) => { blocks += c.toString().split('DATA RECORD-').length - 1; });
      await until(() => blocks === sent, 30_000, 'every record printed once the output is read');
      assert.equal(running.process.stats.records, sent);
      assert.equal(running.process.stats.recordsLost, 0);
    } finally {
      await ex.close();
      await running.close();
    }
  });
});
