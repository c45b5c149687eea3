import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { buildTemplate, MessageWriter, type FieldValue } from '../ipfix/index.ts';
import { CollectingProcess, normalizeAddress, type CollectedMessage } from './collecting-process.ts';
import { ExportingProcess } from './exporting-process.ts';
import { SequenceTracker } from './sequence-tracker.ts';
import { until, within } from './testing/peers.ts';
import { ManualTimers } from './timers.ts';

const tmpl = buildTemplate(400, ['sourceIPv4Address', 'destinationTransportPort', 'packetDeltaCount', 'sourcePodName']);
const row = (i: number): FieldValue[] => [`10.1.${(i >> 8) & 255}.${i & 255}`, 443, BigInt(i), `p${i}`];

/** Messages built by hand, so a test controls which reach the collector. */
function encode(domain: number, batches: number[][], withTemplate = true): Buffer[] {
  const w = new MessageWriter({ observationDomainId: domain, clock: () => 1_700_000_000 });
  const out: Buffer[] = [];
  if (withTemplate) {
    w.addTemplate(tmpl);
    w.flush();
  }
  for (const batch of batches) {
    for (const i of batch) w.addRecord(tmpl, row(i));
    w.flush();
  }
  out.push(...w.drain());
  return out;
}

async function collect(cp: CollectingProcess, records: number, ms = 5000): Promise<CollectedMessage[]> {
  const got: CollectedMessage[] = [];
  let n = 0;
  const it = cp.batches();
  await within((async () => {
    while (n < records) {
      const r = await it.next();
      if (r.done) break;
      for (const m of r.value) { got.push(m); n += m.records.length; }
    }
  })(), ms, `${records} records`);
  await it.return();
  return got;
}

function udpClient(family: 4 | 6 = 4): Promise<dgram.Socket> {
  const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  return new Promise((resolve) => s.bind(0, family === 6 ? '::1' : '127.0.0.1', () => resolve(s)));
}

async function sendAll(s: dgram.Socket, port: number, host: string, msgs: Buffer[]): Promise<void> {
  for (const m of msgs) await new Promise<void>((resolve, reject) => s.send(m, port, host, (e) => (e ? reject(e) : resolve())));
}

describe('CollectingProcess over TCP', () => {
  it('receives from many exporters at once, each record with its session', async () => {
    const cp = new CollectingProcess({ transport: 'tcp', address: '127.0.0.1', port: 0 });
    const { port } = await cp.start();
    const exporters = Array.from({ length: 5 }, (_, k) => new ExportingProcess({
      host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 1000 + k, templates: [tmpl],
    }));
    try {
      for (const ex of exporters) ex.start();
      await within(Promise.all(exporters.map((ex) => once(ex, 'connect'))), 5000, 'connects');
      exporters.forEach((ex, k) => { for (let i = 0; i < 100; i++) ex.addRecord(tmpl, row(k * 100 + i)); ex.flush(); });
      const msgs = await collect(cp, 500);
      const byDomain = new Map<number, bigint[]>();
      const ports = new Set<number>();
      for (const m of msgs) {
        assert.equal(m.session.exporterAddress, '127.0.0.1');
        assert.equal(m.session.transport, 'tcp');
        ports.add(m.session.exporterPort);
        for (const r of m.records) {
          assert.equal(r.template.id, 400);
          const list = byDomain.get(m.header.observationDomainId) ?? [];
          list.push(r.values[2] as bigint);
          byDomain.set(m.header.observationDomainId, list);
        }
      }
      assert.equal(ports.size, 5);
      for (let k = 0; k < 5; k++) assert.deepEqual(byDomain.get(1000 + k), Array.from({ length: 100 }, (_, i) => BigInt(k * 100 + i)));
      assert.equal(cp.stats.sessionsCurrent, 5);
      assert.equal(cp.stats.sessionsTotal, 5);
      assert.equal(cp.stats.records, 500);
      assert.equal(cp.stats.recordsLost, 0);
      assert.equal(cp.sessions().length, 5);
      await Promise.all(exporters.map((ex) => ex.close()));
      await until(() => cp.stats.sessionsCurrent === 0, 5000, 'sessions closed');
    } finally {
      await Promise.all(exporters.map((ex) => ex.close()));
      await cp.close();
    }
  });

  it('closes a connection whose framing is lost, counts it, and keeps serving others', async () => {
    const cp = new CollectingProcess({ transport: 'tcp', address: '127.0.0.1', port: 0 });
    const { port } = await cp.start();
    try {
      const bad = net.connect(port, '127.0.0.1');
      await once(bad, 'connect');
      const [good] = encode(1, [[1, 2, 3]]).map((b) => b);
      bad.write(Buffer.concat([good, Buffer.from([0x00, 0x09, 0x00, 0x20, 1, 2, 3, 4])]));
      await within(once(bad, 'close'), 5000, 'connection closed by the collector');
      assert.equal(cp.stats.framingErrors, 1);
      assert.equal(cp.stats.decodeErrors.get('BAD_VERSION'), 1);
      const ok = net.connect(port, '127.0.0.1');
      await once(ok, 'connect');
      ok.end(Buffer.concat(encode(2, [[7, 8]])));
      const msgs = await collect(cp, 2);
      assert.deepEqual(msgs.filter((m) => m.header.observationDomainId === 2).flatMap((m) => m.records.map((r) => r.values[2])), [7n, 8n]);
      await within(once(ok, 'close'), 5000, 'clean close');
    } finally {
      await cp.close();
    }
  });

  it('counts records lost according to sequence numbers, data sets of unknown templates and truncated streams', async () => {
    const cp = new CollectingProcess({ transport: 'tcp', address: '127.0.0.1', port: 0 });
    const { port } = await cp.start();
    try {
      const msgs = encode(9, [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10]]);
      const c = net.connect(port, '127.0.0.1');
      await once(c, 'connect');
      // Message 2 (records 4, 5) never arrives; the unknown-template message comes from another domain.
      const unknown = encode(10, [[11]], false);
      c.end(Buffer.concat([msgs[0], msgs[1], msgs[3], msgs[4], unknown[0], msgs[4].subarray(0, 10)]));
      await within(once(c, 'close'), 5000, 'close');
      assert.equal(cp.stats.recordsLost, 2);
      assert.equal(cp.stats.unknownTemplateSets, 1);
      assert.equal(cp.stats.decodeErrors.get('STREAM_TRUNCATED'), 1);
      assert.equal(cp.stats.records, 3 + 4 + 1);
    } finally {
      await cp.close();
    }
  });

  it('pauses reading when the consumer falls behind, and loses nothing', async () => {
    const cp = new CollectingProcess({ transport: 'tcp', address: '127.0.0.1', port: 0, maxQueuedRecords: 500 });
    const { port } = await cp.start();
    const ex = new ExportingProcess({ host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 4, templates: [tmpl], maxQueuedRecords: 1_000_000 });
    const pad = 'x'.repeat(200);
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      // ~25 MB: more than the kernel's socket buffers on both sides hold.
      const total = 120_000;
      for (let i = 0; i < total; i++) ex.addRecord(tmpl, ['10.0.0.1', 443, BigInt(i), pad]);
      ex.flush();
      // Nobody consumes: the collector pauses the connection and the exporter's queue fills.
      await until(() => cp.stats.backpressurePauses > 0, 5000, 'pause');
      await until(() => ex.queueDepth > 0, 5000, 'exporter blocked');
      const queued = cp.queueDepth.records;
      assert.ok(queued < 500 + 10_000, `collector queue bounded, holds ${queued}`);
      let seen = 0;
      let next = 0n;
      let ordered = true;
      await within((async () => {
        for await (const batch of cp.batches()) {
          for (const m of batch) for (const r of m.records) { ordered &&= r.values[2] === next; next++; seen++; }
          if (seen >= total) break;
        }
      })(), 30_000, 'drain');
      assert.equal(seen, total);
      assert.ok(ordered, 'records arrive in order');
      assert.equal(cp.stats.recordsLost, 0);
      assert.equal(ex.stats.recordsDropped, 0);
    } finally {
      await ex.close();
      await cp.close();
    }
  });

  it('shares each turn of the event loop between busy connections (maxBytesPerTurn), losing nothing', async () => {
    const budget = 8192;
    let turnBytes = 0;
    let maxTurnBytes = 0;
    let turnScheduled = false;
    const next = new Map<number, bigint>();
    let seen = 0;
    let ordered = true;
    const cp = new CollectingProcess({
      transport: 'tcp', address: '127.0.0.1', port: 0, maxBytesPerTurn: budget,
      onMessage: (m) => {
        turnBytes += m.header.length;
        maxTurnBytes = Math.max(maxTurnBytes, turnBytes);
        if (!turnScheduled) {
          turnScheduled = true;
          setImmediate(() => { turnScheduled = false; turnBytes = 0; });
        }
        for (const r of m.records) {
          const expected = next.get(m.session.id) ?? 0n;
          ordered &&= r.values[2] === expected;
          next.set(m.session.id, expected + 1n);
          seen++;
        }
      },
    });
    const { port } = await cp.start();
    const exporters = [1, 2, 3].map((d) => new ExportingProcess({
      host: '127.0.0.1', port, transport: 'tcp', observationDomainId: d, templates: [tmpl], maxQueuedRecords: 1_000_000, maxMessageSize: 1400,
    }));
    const pad = 'y'.repeat(100);
    const perExporter = 30_000; // ~4 MB each: many turns' worth
    try {
      for (const ex of exporters) ex.start();
      await within(Promise.all(exporters.map((ex) => once(ex, 'connect'))), 5000, 'connect');
      for (const ex of exporters) {
        for (let i = 0; i < perExporter; i++) ex.addRecord(tmpl, ['10.0.0.1', 443, BigInt(i), pad]);
        ex.flush();
      }
      await until(() => seen === 3 * perExporter, 20_000, 'every record');
      assert.ok(ordered, 'records of each connection in order');
      // A stream is paused once the turn's share is read; what it had buffered already (a socket
      // read or two) still arrives. Without the budget one turn here reads megabytes.
      assert.ok(maxTurnBytes <= budget + exporters.length * 3 * 65536, `${maxTurnBytes} octets in one turn`);
    } finally {
      await Promise.all(exporters.map((ex) => ex.close()));
      await cp.close();
    }
  });

  it('listens on IPv6 and reports IPv4 exporters of a dual-stack socket as IPv4', async () => {
    const cp = new CollectingProcess({ transport: 'tcp', port: 0 });
    const { port, address } = await cp.start();
    assert.equal(address, '::');
    try {
      for (const host of ['::1', '127.0.0.1']) {
        const c = net.connect(port, host);
        await once(c, 'connect');
        c.end(Buffer.concat(encode(1, [[1]])));
      }
      const msgs = await collect(cp, 2);
      assert.deepEqual(msgs.filter((m) => m.records.length > 0).map((m) => m.session.exporterAddress).sort(), ['127.0.0.1', '::1']);
    } finally {
      await cp.close();
    }
    assert.equal(normalizeAddress('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(normalizeAddress('fd00::1'), 'fd00::1');
  });

  it('refuses connections beyond the session limit', async () => {
    const cp = new CollectingProcess({ transport: 'tcp', address: '127.0.0.1', port: 0, maxSessions: 1 });
    const { port } = await cp.start();
    try {
      const a = net.connect(port, '127.0.0.1');
      await once(a, 'connect');
      await until(() => cp.stats.sessionsCurrent === 1, 5000, 'first session');
      const b = net.connect(port, '127.0.0.1');
      b.on('error', () => {});
      await within(once(b, 'close'), 5000, 'second refused');
      assert.equal(cp.stats.rejectedConnections, 1);
      a.destroy();
    } finally {
      await cp.close();
    }
  });

  it('delivers through a callback when one is given', async () => {
    const got: CollectedMessage[] = [];
    const cp = new CollectingProcess({ transport: 'tcp', address: '127.0.0.1', port: 0, onMessage: (m) => got.push(m) });
    const { port } = await cp.start();
    try {
      const c = net.connect(port, '127.0.0.1');
      await once(c, 'connect');
      c.end(Buffer.concat(encode(3, [[1, 2], [3]])));
      await until(() => got.reduce((n, m) => n + m.records.length, 0) === 3, 5000, 'records');
      assert.equal(cp.queueDepth.messages, 0);
    } finally {
      await cp.close();
    }
  });
});

describe('CollectingProcess over UDP', () => {
  it('keeps one session per exporter address:port, counts loss and survives garbage', async () => {
    const cp = new CollectingProcess({ transport: 'udp', address: '127.0.0.1', port: 0 });
    const { port } = await cp.start();
    const a = await udpClient();
    const b = await udpClient();
    try {
      const ma = encode(1, [[1, 2], [3, 4, 5], [6]]);
      const mb = encode(1, [[100]]);
      await sendAll(a, port, '127.0.0.1', [Buffer.from('not ipfix at all'), ma[0], ma[1], ma[3]]);
      await sendAll(b, port, '127.0.0.1', [mb[1]]); // data before its template: unknown in b's session
      await sendAll(b, port, '127.0.0.1', [mb[0], mb[1]]);
      const msgs = await collect(cp, 4);
      assert.deepEqual(msgs.flatMap((m) => m.records.map((r) => r.values[2])), [1n, 2n, 6n, 100n]);
      assert.equal(new Set(msgs.map((m) => m.session.id)).size, 2);
      assert.equal(cp.stats.sessionsCurrent, 2);
      assert.equal(cp.stats.recordsLost, 3);
      assert.equal(cp.stats.unknownTemplateSets, 1);
      assert.equal(cp.stats.decodeErrors.get('BAD_VERSION'), 1);
    } finally {
      a.close();
      b.close();
      await cp.close();
    }
  });

  it('ends a UDP session after the template lifetime without packets (templates go with it)', async () => {
    const timers = new ManualTimers();
    const cp = new CollectingProcess({ transport: 'udp', address: '127.0.0.1', port: 0, timers, templateLifetimeMs: 60_000 });
    const { port } = await cp.start();
    const a = await udpClient();
    const closed: string[] = [];
    cp.on('sessionClose', (_s, reason) => closed.push(reason));
    try {
      const m = encode(1, [[1], [2]]);
      await sendAll(a, port, '127.0.0.1', [m[0], m[1]]);
      await collect(cp, 1);
      timers.advance(30_000);
      assert.equal(cp.stats.sessionsCurrent, 1);
      timers.advance(30_000);
      assert.equal(cp.stats.sessionsCurrent, 0);
      assert.deepEqual(closed, ['idle for the template lifetime']);
      await sendAll(a, port, '127.0.0.1', [m[2]]);
      await until(() => cp.stats.unknownTemplateSets === 1, 5000, 'data without template in a new session');
      assert.equal(cp.stats.sessionsTotal, 2);
    } finally {
      a.close();
      await cp.close();
    }
  });

  it('drops (and counts) UDP messages while the consumer is too far behind', async () => {
    const cp = new CollectingProcess({ transport: 'udp', address: '127.0.0.1', port: 0, maxQueuedRecords: 4 });
    const { port } = await cp.start();
    const a = await udpClient();
    try {
      const m = encode(1, [[1, 2, 3], [4, 5], [6]]);
      await sendAll(a, port, '127.0.0.1', m);
      await until(() => cp.stats.messages === 4, 5000, 'messages');
      assert.equal(cp.stats.recordsDropped, 1);
      assert.equal(cp.stats.messagesDropped, 1);
      const msgs = await collect(cp, 5);
      assert.deepEqual(msgs.flatMap((x) => x.records.map((r) => r.values[2])), [1n, 2n, 3n, 4n, 5n]);
    } finally {
      a.close();
      await cp.close();
    }
  });

  it('receives from IPv6 and IPv4 exporters on one dual-stack socket', async () => {
    const cp = new CollectingProcess({ transport: 'udp', port: 0 });
    const { port } = await cp.start();
    const a = await udpClient(6);
    const b = await udpClient(4);
    try {
      await sendAll(a, port, '::1', encode(1, [[1]]));
      await sendAll(b, port, '127.0.0.1', encode(2, [[2]]));
      const msgs = await collect(cp, 2);
      assert.deepEqual(msgs.filter((m) => m.records.length).map((m) => m.session.exporterAddress).sort(), ['127.0.0.1', '::1']);
    } finally {
      a.close();
      b.close();
      await cp.close();
    }
  });
});

describe('SequenceTracker', () => {
  it('counts gaps, tolerates reordering, resynchronises on restarts and unknown counts', () => {
    const t = new SequenceTracker();
    assert.deepEqual(t.observe(1, 100, 10), { lost: 0, outOfOrder: false });
    assert.deepEqual(t.observe(1, 110, 5), { lost: 0, outOfOrder: false });
    assert.deepEqual(t.observe(1, 120, 5), { lost: 5, outOfOrder: false });
    assert.deepEqual(t.observe(1, 115, 5), { lost: 0, outOfOrder: true }, 'late message');
    assert.deepEqual(t.observe(1, 125, 5), { lost: 0, outOfOrder: false }, 'expectation kept after reordering');
    assert.deepEqual(t.observe(2, 0, 1), { lost: 0, outOfOrder: false }, 'domains are independent');
    assert.deepEqual(t.observe(3, 4294967290, 10), { lost: 0, outOfOrder: false });
    assert.deepEqual(t.observe(3, 4, 1), { lost: 0, outOfOrder: false }, 'wraps modulo 2^32');
    assert.deepEqual(t.observe(3, 15, 1), { lost: 10, outOfOrder: false });
    assert.deepEqual(t.observe(1, 130, -1), { lost: 0, outOfOrder: false });
    assert.deepEqual(t.observe(1, 50, 1), { lost: 0, outOfOrder: false }, 'unknown count: resynchronised');
    assert.deepEqual(t.observe(1, 0, 1), { lost: 0, outOfOrder: true });
    assert.deepEqual(t.observe(1, 51, 1), { lost: 0, outOfOrder: false });
  });
});
