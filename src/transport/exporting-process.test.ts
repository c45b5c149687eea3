import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { IpfixError, TransportError } from '../errors.ts';
import { agentTemplate, buildTemplate, type FieldValue } from '../ipfix/index.ts';
import { ExportingProcess } from './exporting-process.ts';
import { udpMessageSizeForMtu } from './message-size.ts';
import { freePort, TcpSink, UdpSink, until, within } from './testing/peers.ts';
import { ManualTimers } from './timers.ts';

const small = buildTemplate(300, ['sourceIPv4Address', 'destinationIPv4Address', 'octetDeltaCount', 'sourcePodName']);
const row = (i: number): FieldValue[] => [`10.0.0.${i % 250}`, '10.0.1.1', BigInt(i) * 1_000_000_007n, `pod-${i}`];
const octets = (r: { values: FieldValue[] }): bigint => r.values[2] as bigint;

describe('ExportingProcess over TCP', () => {
  it('sends templates first, packs records into messages and flushes on the interval', async () => {
    const sink = await TcpSink.listen();
    const timers = new ManualTimers();
    const ex = new ExportingProcess({ host: '127.0.0.1', port: sink.port, transport: 'tcp', observationDomainId: 42, templates: [small], timers, flushIntervalMs: 500 });
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      for (let i = 0; i < 10; i++) ex.addRecord(small, row(i));
      await until(() => sink.messages.length >= 1, 5000, 'template message');
      assert.equal(sink.messages[0].templates.length, 1, 'first message carries the template');
      assert.equal(sink.messages[0].records.length, 0);
      assert.equal(sink.recordCount, 0, 'nothing sent before the flush interval');
      assert.deepEqual(timers.pendingDelays, [500]);
      timers.advance(500);
      await until(() => sink.recordCount === 10, 5000, 'records');
      const data = sink.messages[1];
      assert.equal(data.header?.observationDomainId, 42);
      assert.equal(data.header?.sequenceNumber, 0);
      assert.deepEqual(data.records.map(octets), Array.from({ length: 10 }, (_, i) => BigInt(i) * 1_000_000_007n));
      assert.equal(data.records[3].values[3], 'pod-3');
      assert.equal(ex.stats.recordsSent, 10);
      assert.equal(ex.stats.messagesSent, 2);
      assert.equal(ex.stats.reconnections, 1);
    } finally {
      await ex.close();
      await sink.close();
    }
  });

  it('finishes a message when the next record would exceed the maximum size', async () => {
    const sink = await TcpSink.listen();
    const timers = new ManualTimers();
    const ex = new ExportingProcess({ host: '127.0.0.1', port: sink.port, transport: 'tcp', observationDomainId: 1, timers, maxMessageSize: 600 });
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      for (let i = 0; i < 100; i++) ex.addRecord(small, row(i));
      await ex.close();
      await until(() => sink.recordCount === 100, 5000, 'records');
      const msgs = sink.messages;
      assert.ok(msgs.length >= 4, `${msgs.length} messages`);
      for (const m of msgs) assert.ok(m.header!.length <= 600, `message of ${m.header!.length} octets`);
      // Sequence numbers count the data records sent before each message.
      let seq = 0;
      for (const m of msgs) {
        assert.equal(m.header!.sequenceNumber, seq);
        seq += m.records.length;
      }
      assert.deepEqual(msgs.flatMap((m) => m.records.map(octets)), Array.from({ length: 100 }, (_, i) => BigInt(i) * 1_000_000_007n));
    } finally {
      await ex.close();
      await sink.close();
    }
  });

  it('reconnects with exponential backoff up to the cap, counts connects, re-sends templates, delivers queued records', async () => {
    const port = await freePort();
    const timers = new ManualTimers();
    const ex = new ExportingProcess({
      host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 7, templates: [small], timers,
      backoff: { initialMs: 1000, maxMs: 3000 },
    });
    let sink: TcpSink | undefined;
    try {
      ex.start();
      const delays: number[] = [];
      for (let attempt = 0; attempt < 4; attempt++) {
        await within(once(ex, 'connectFailed'), 5000, 'refused connect');
        delays.push(timers.pendingDelays[0]);
        timers.advance(delays[delays.length - 1]);
      }
      assert.deepEqual(delays, [1000, 2000, 3000, 3000]);
      assert.equal(ex.stats.connectFailures, 4);
      assert.equal(ex.stats.reconnections, 0);
      for (let i = 0; i < 3; i++) ex.addRecord(small, row(i));
      assert.equal(ex.queueDepth, 3);

      await within(once(ex, 'connectFailed'), 5000, 'fifth refused connect');
      sink = await TcpSink.listen('127.0.0.1', port);
      timers.advance(timers.pendingDelays[0]);
      await within(once(ex, 'connect'), 5000, 'connect');
      assert.equal(ex.stats.reconnections, 1);
      assert.equal(ex.queueDepth, 0);
      ex.flush();
      await until(() => sink!.recordCount === 3, 5000, 'queued records');
      assert.equal(sink.messages[0].templates.length, 1);

      // The collector drops the connection: the next attempt waits the initial delay again.
      sink.connections[0].socket.destroy();
      await within(once(ex, 'disconnect'), 5000, 'disconnect');
      assert.deepEqual(timers.pendingDelays, [1000]);
      ex.addRecord(small, row(3));
      timers.advance(1000);
      await within(once(ex, 'connect'), 5000, 'reconnect');
      assert.equal(ex.stats.reconnections, 2);
      assert.equal(ex.stats.disconnections, 1);
      ex.flush();
      await until(() => sink!.connections.length === 2 && sink!.connections[1].messages.reduce((n, m) => n + m.records.length, 0) === 1, 5000, 'record on the new connection');
      const second = sink.connections[1].messages;
      assert.equal(second[0].templates.length, 1, 'templates again before any data on the new connection');
      assert.equal(second[1].header!.sequenceNumber, 0, 'a new session numbers from 0');
    } finally {
      await ex.close();
      await sink?.close();
    }
  });

  it('bounds the queue while disconnected: drops the oldest records and counts them', async () => {
    const port = await freePort();
    const timers = new ManualTimers();
    const ex = new ExportingProcess({ host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 7, timers, maxQueuedRecords: 5 });
    let sink: TcpSink | undefined;
    try {
      ex.start();
      await within(once(ex, 'connectFailed'), 5000, 'refused connect');
      for (let i = 0; i < 8; i++) ex.addRecord(small, row(i));
      assert.equal(ex.queueDepth, 5);
      assert.equal(ex.stats.recordsDropped, 3);
      sink = await TcpSink.listen('127.0.0.1', port);
      timers.advance(timers.pendingDelays[0]);
      await within(once(ex, 'connect'), 5000, 'connect');
      await ex.close();
      await until(() => sink!.recordCount === 5, 5000, 'records');
      assert.deepEqual(sink.messages.flatMap((m) => m.records.map(octets)), [3, 4, 5, 6, 7].map((i) => BigInt(i) * 1_000_000_007n));
    } finally {
      await ex.close();
      await sink?.close();
    }
  });

  it('drops (and counts) queued records of a template withdrawn while disconnected', async () => {
    const port = await freePort();
    const timers = new ManualTimers();
    const other = buildTemplate(302, ['destinationIPv4Address']);
    const ex = new ExportingProcess({ host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 7, timers });
    try {
      ex.start();
      await within(once(ex, 'connectFailed'), 5000, 'refused connect');
      ex.addRecord(small, row(1));
      ex.addRecord(other, ['10.0.0.1']);
      ex.addRecord(small, row(2));
      ex.withdrawTemplate(300);
      assert.equal(ex.queueDepth, 1);
      assert.equal(ex.stats.recordsDropped, 2);
    } finally {
      await ex.close();
    }
    assert.equal(ex.stats.recordsDropped, 3, 'closing while disconnected drops (and counts) the rest');
  });

  it('respects backpressure: records wait while the peer does not read, and all arrive once it does', async () => {
    const sink = await TcpSink.listen();
    const template = agentTemplate(4);
    const values: FieldValue[] = [
      1700000000, 1700000005, 1, 40000, 80, 6, 10n, 15000n, 10n, 15000n, '10.244.1.10', '10.244.2.10',
      8n, 7200n, 8n, 7200n, 'frontend-7d9f8c6b5-x2x9z', 'shop', 'node-1', 'backend-0', 'shop', 'node-2',
      0, '', '', '', 0, '', 0, '', '', 0, '', 0, 'ESTABLISHED', 2, '', '', '', '', '', '0.0.0.0',
    ];
    const ex = new ExportingProcess({ host: '127.0.0.1', port: sink.port, transport: 'tcp', observationDomainId: 9, maxBufferedBytes: 64 * 1024, maxQueuedRecords: 1_000_000 });
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      await until(() => sink.connections.length === 1, 5000, 'accept');
      const peer = sink.connections[0].socket;
      peer.pause();
      const total = 60_000;
      for (let i = 0; i < total; i++) ex.addRecord(template, values);
      assert.ok(ex.queueDepth > 0, 'records queue once the socket buffer is full');
      assert.equal(ex.stats.recordsDropped, 0);
      peer.resume();
      await ex.close(20_000);
      await until(() => sink.recordCount === total, 10_000, 'all records');
      assert.equal(ex.stats.recordsSent, total);
    } finally {
      await ex.close();
      await sink.close();
    }
  });

  it('connects to an IPv6 peer', async () => {
    const sink = await TcpSink.listen('::1');
    const ex = new ExportingProcess({ host: '::1', port: sink.port, transport: 'tcp', observationDomainId: 3 });
    try {
      ex.start();
      const info = (await within(once(ex, 'connect'), 5000, 'connect'))[0] as { localAddress: string; maxMessageSize: number };
      assert.equal(info.localAddress, '::1');
      assert.equal(info.maxMessageSize, 65535);
      ex.addRecord(small, row(1));
      await ex.close();
      await until(() => sink.recordCount === 1, 5000, 'record');
    } finally {
      await ex.close();
      await sink.close();
    }
  });

  it('rejects records that do not fit their template with a typed error, and keeps going', async () => {
    const sink = await TcpSink.listen();
    const ex = new ExportingProcess({ host: '127.0.0.1', port: sink.port, transport: 'tcp', observationDomainId: 3 });
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      assert.throws(() => ex.addRecord(small, ['not-an-ip', '10.0.0.1', 1n, 'x']), IpfixError);
      assert.equal(ex.stats.recordsInvalid, 1);
      ex.addRecord(small, row(5));
      await ex.close();
      await until(() => sink.recordCount === 1, 5000, 'record');
      assert.throws(() => ex.addRecord(small, row(6)), TransportError);
    } finally {
      await ex.close();
      await sink.close();
    }
  });

  it('announces templates added later, withdraws templates, refuses silent redefinitions', async () => {
    const sink = await TcpSink.listen();
    const timers = new ManualTimers();
    const ex = new ExportingProcess({ host: '127.0.0.1', port: sink.port, transport: 'tcp', observationDomainId: 8, timers, flushIntervalMs: 200 });
    const other = buildTemplate(301, ['destinationIPv4Address', 'packetDeltaCount']);
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      ex.addTemplate(other);
      assert.deepEqual(timers.pendingDelays, [200], 'a pending template is flushed on the interval too');
      timers.advance(200);
      await until(() => sink.messages.some((m) => m.templates.some((t) => t.id === 301)), 5000, 'template 301');
      ex.addRecord(other, ['10.0.0.9', 5n]);
      ex.withdrawTemplate(301);
      ex.flush();
      await until(() => sink.messages.some((m) => m.withdrawals.includes(301)), 5000, 'withdrawal');
      assert.equal(sink.recordCount, 1, 'the record preceded the withdrawal');
      ex.addTemplate(small);
      assert.throws(() => ex.addTemplate(buildTemplate(300, ['sourceIPv4Address'])), { code: 'TEMPLATE_REDEFINED' });
    } finally {
      await ex.close();
      await sink.close();
    }
  });

  it('validates its options', () => {
    const base = { host: '127.0.0.1', port: 4739, transport: 'tcp' as const, observationDomainId: 1 };
    assert.throws(() => new ExportingProcess({ ...base, port: 0 }), { code: 'BAD_PORT' });
    assert.throws(() => new ExportingProcess({ ...base, transport: 'sctp' as 'tcp' }), { code: 'BAD_TRANSPORT' });
    assert.throws(() => new ExportingProcess({ ...base, maxMessageSize: 511 }), { code: 'BAD_MESSAGE_SIZE' });
    assert.throws(() => new ExportingProcess({ ...base, maxMessageSize: 65536 }), { code: 'BAD_MESSAGE_SIZE' });
    assert.throws(() => new ExportingProcess({ ...base, tls: { minVersion: 'TLSv1.1' as 'TLSv1.2' } }), { code: 'BAD_TLS_VERSION' });
  });
});

describe('ExportingProcess over UDP', () => {
  it('derives the message size from the MTU and re-sends templates every refresh timeout', async () => {
    const sink = await UdpSink.bind();
    const timers = new ManualTimers();
    const ex = new ExportingProcess({
      host: '127.0.0.1', port: sink.port, transport: 'udp', observationDomainId: 5, templates: [small], timers,
      mtu: 1500, templateRefreshTimeoutMs: 600_000, flushIntervalMs: 100,
    });
    try {
      ex.start();
      const info = (await within(once(ex, 'connect'), 5000, 'connect'))[0] as { maxMessageSize: number };
      assert.equal(info.maxMessageSize, 1472);
      for (let i = 0; i < 200; i++) ex.addRecord(small, row(i));
      timers.advance(100);
      await until(() => sink.recordCount === 200, 5000, 'records');
      assert.ok(Math.max(...sink.datagramSizes) <= 1472);
      assert.equal(sink.messages[0].templates.length, 1);
      const templatesBefore = sink.messages.filter((m) => m.templates.length > 0).length;
      timers.advance(600_000);
      await until(() => sink.messages.filter((m) => m.templates.length > 0).length === templatesBefore + 1, 5000, 'template refresh');
      timers.advance(600_000);
      await until(() => sink.messages.filter((m) => m.templates.length > 0).length === templatesBefore + 2, 5000, 'second refresh');
      assert.equal(ex.stats.templatesSent, 3);
    } finally {
      await ex.close();
      await sink.close();
    }
  });

  it('uses the sending interface MTU when none is given (loopback: 65536 − 28)', async () => {
    const sink = await UdpSink.bind();
    const ex = new ExportingProcess({ host: '127.0.0.1', port: sink.port, transport: 'udp', observationDomainId: 5 });
    try {
      ex.start();
      const info = (await within(once(ex, 'connect'), 5000, 'connect'))[0] as { maxMessageSize: number };
      assert.equal(info.maxMessageSize, udpMessageSizeForMtu(65536, 4));
      assert.equal(info.maxMessageSize, 65508);
    } finally {
      await ex.close();
      await sink.close();
    }
  });

  it('computes UDP sizes as go-ipfix does', () => {
    assert.equal(udpMessageSizeForMtu(1500, 4), 1472);
    assert.equal(udpMessageSizeForMtu(1500, 6), 1452);
    assert.equal(udpMessageSizeForMtu(500, 4), 512);
    assert.equal(udpMessageSizeForMtu(0, 6), 512);
    assert.equal(udpMessageSizeForMtu(70000, 4), 65535);
  });

  it('sends to an IPv6 collector', async () => {
    const sink = await UdpSink.bind('::1');
    const ex = new ExportingProcess({ host: '::1', port: sink.port, transport: 'udp', observationDomainId: 5, mtu: 1500 });
    try {
      ex.start();
      const info = (await within(once(ex, 'connect'), 5000, 'connect'))[0] as { maxMessageSize: number };
      assert.equal(info.maxMessageSize, 1452);
      ex.addRecord(small, row(1));
      await ex.close();
      await until(() => sink.recordCount === 1, 5000, 'record');
    } finally {
      await ex.close();
      await sink.close();
    }
  });
});
