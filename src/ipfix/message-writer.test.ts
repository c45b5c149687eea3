import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageWriter } from './message-writer.ts';
import { SessionDecoder } from './session-decoder.ts';
import { buildTemplate } from './template.ts';
import { agentTemplate } from './antrea-templates.ts';
import { IpfixError } from '../errors.ts';

const small = buildTemplate(256, ['sourceIPv4Address', 'destinationIPv4Address', 'octetDeltaCount', 'sourcePodName']);
const other = buildTemplate(257, ['sourceTransportPort', 'destinationTransportPort']);

test('message header: version 10, length, export time, sequence number, observation domain', () => {
  const w = new MessageWriter({ observationDomainId: 0xdeadbeef, clock: () => 1700000123 });
  w.addTemplate(small);
  w.addRecord(small, ['10.0.0.1', '10.0.0.2', 5n, 'a']);
  w.flush();
  const [m] = w.drain();
  assert.equal(m.readUInt16BE(0), 10);
  assert.equal(m.readUInt16BE(2), m.length);
  assert.equal(m.readUInt32BE(4), 1700000123);
  assert.equal(m.readUInt32BE(8), 0);
  assert.equal(m.readUInt32BE(12), 0xdeadbeef);
  // Template set then data set.
  assert.equal(m.readUInt16BE(16), 2);
  const tsLen = m.readUInt16BE(18);
  assert.equal(m.readUInt16BE(16 + tsLen), 256);
});

test('sequence number = data records sent before the message in this domain; templates do not count', () => {
  const w = new MessageWriter({ observationDomainId: 1, maxMessageSize: 512 });
  w.addTemplate(small);
  for (let i = 0; i < 100; i++) w.addRecord(small, ['10.0.0.1', '10.0.0.2', BigInt(i), 'pod-' + i]);
  w.flush();
  w.addTemplate(other);
  w.flush();
  const msgs = w.drain();
  assert.ok(msgs.length > 3);
  const d = new SessionDecoder({ transport: 'tcp' });
  let expected = 0;
  for (const m of msgs) {
    assert.ok(m.length <= 512);
    assert.equal(m.readUInt32BE(8), expected);
    const r = d.decodeMessage(m);
    assert.deepEqual(r.errors, []);
    expected += r.records.length;
  }
  assert.equal(expected, 100);
  assert.equal(w.sequenceNumber, 100);
  assert.equal(w.recordCount, 100);
});

test('many records and several sets per message, never exceeding the maximum, never splitting a record', () => {
  const w = new MessageWriter({ observationDomainId: 1, maxMessageSize: 1400 });
  w.addTemplate(small);
  w.addTemplate(other);
  const sent: unknown[][] = [];
  for (let i = 0; i < 500; i++) {
    const v = i % 3 === 0 ? [i, 80] : ['10.0.0.' + (i % 250), '10.1.0.1', BigInt(i), 'x'.repeat(i % 40)];
    sent.push(v);
    w.addRecord(i % 3 === 0 ? other : small, v as never);
  }
  w.flush();
  const msgs = w.drain();
  const d = new SessionDecoder({ transport: 'tcp' });
  const got: unknown[][] = [];
  let multiSet = 0;
  for (const m of msgs) {
    assert.ok(m.length <= 1400, `message of ${m.length}`);
    const r = d.decodeMessage(m);
    assert.deepEqual(r.errors, []);
    if (r.dataSetCount > 1) multiSet++;
    for (const rec of r.records) got.push(rec.values);
  }
  assert.deepEqual(got, sent);
  assert.ok(multiSet > 0);
  assert.ok(msgs.length < 100, 'records are packed');
});

test('a record larger than the maximum message size is a typed error and leaves the writer usable', () => {
  const w = new MessageWriter({ observationDomainId: 1, maxMessageSize: 512 });
  w.addRecord(small, ['10.0.0.1', '10.0.0.2', 1n, 'ok']);
  assert.throws(() => w.addRecord(small, ['10.0.0.1', '10.0.0.2', 1n, 'y'.repeat(600)]), (e: unknown) => e instanceof IpfixError && e.code === 'RECORD_TOO_LARGE');
  w.addRecord(small, ['10.0.0.3', '10.0.0.4', 2n, 'ok2']);
  w.flush();
  const d = new SessionDecoder({ transport: 'tcp' });
  d.templates.set(1, small);
  const values = w.drain().flatMap((m) => d.decodeMessage(m).records.map((r) => r.values[0]));
  assert.deepEqual(values, ['10.0.0.1', '10.0.0.3']);
});

test('maximum message size is validated', () => {
  assert.throws(() => new MessageWriter({ observationDomainId: 1, maxMessageSize: 100 }), (e: unknown) => e instanceof IpfixError && e.code === 'BAD_MESSAGE_SIZE');
  assert.throws(() => new MessageWriter({ observationDomainId: 1, maxMessageSize: 70000 }), (e: unknown) => e instanceof IpfixError);
});

test('template withdrawal messages: one template and all templates of a domain', () => {
  const t = agentTemplate(4);
  const w = new MessageWriter({ observationDomainId: 5 });
  w.addTemplate(t);
  w.addTemplate(other);
  w.flush();
  w.withdrawTemplate(257);
  w.flush();
  w.withdrawTemplate(2);
  w.flush();
  const [defs, one, all] = w.drain();
  const d = new SessionDecoder({ transport: 'tcp' });
  assert.equal(d.decodeMessage(defs).templates.length, 2);
  assert.equal(d.templates.size, 2);
  assert.deepEqual(d.decodeMessage(one).withdrawals, [257]);
  assert.equal(d.templates.get(5, 257), undefined);
  assert.ok(d.templates.get(5, 256));
  assert.deepEqual(d.decodeMessage(all).withdrawals, [2]);
  assert.equal(d.templates.size, 0);
});

test('options templates are written in set 3 with their scope count and decoded', () => {
  const opt = buildTemplate(300, ['observationDomainId', 'exportedMessageTotalCount', 'exportedFlowRecordTotalCount'], { scopeFieldCount: 1 });
  const w = new MessageWriter({ observationDomainId: 5 });
  w.addTemplate(opt);
  w.addRecord(opt, [5, 10n, 99n]);
  w.flush();
  const m = w.drain()[0];
  assert.equal(m.readUInt16BE(16), 3);
  const r = new SessionDecoder({ transport: 'tcp' }).decodeMessage(m);
  assert.deepEqual(r.errors, []);
  assert.equal(r.templates[0].scopeFieldCount, 1);
  assert.equal(r.records[0].template.isOptionsTemplate, true);
  assert.deepEqual(r.records[0].values, [5, 10n, 99n]);
});
