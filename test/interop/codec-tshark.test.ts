/**
 * Interop: messages written by our MessageWriter are dissected by tshark (Wireshark 4.0), and
 * tshark sees exactly what we wrote — header, templates (IDs, element IDs, PENs 56506 and 29305,
 * lengths), and every field of every record (position, octets and, where tshark knows the
 * element, its displayed value).
 *
 * The messages go into a pcap file (Ethernet/IPv4/UDP to port 4739) that tshark reads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { MessageWriter, SessionDecoder, type FieldValue } from '../../src/ipfix/index.ts';
import { writePcap } from './peers/pcap.ts';
import { haveCommand } from './peers/process.ts';
import {
  EXPORT_TIME, LONG_UTF8, mixedTemplate, nanosTemplate, OBSERVATION_DOMAIN, sampleMessages, type Written,
} from './peers/sample-messages.ts';
import { TempDir } from './peers/tempdir.ts';
import { tsharkDecode, type TsharkMessage } from './peers/tshark.ts';
import { compareMessage, compareRecord, compareTemplate, tsharkContents } from './peers/tshark-compare.ts';

describe('tshark decodes the messages we encode', { timeout: 60_000 }, () => {
  const dir = new TempDir();
  let messages: Buffer[] = [];
  let written: Written[][] = [];
  let decoded: TsharkMessage[] = [];
  let skip: string | false = false;

  before(async () => {
    if (!(await haveCommand('tshark'))) { skip = 'tshark is not installed (scripts/install-deps.sh installs it)'; return; }
    ({ messages, written } = sampleMessages());
    const pcap = dir.file('ours.pcap');
    writeFileSync(pcap, writePcap(messages.map((payload) => ({ srcAddress: '127.0.0.1', dstAddress: '127.0.0.1', srcPort: 47001, dstPort: 4739, payload }))));
    decoded = await tsharkDecode(pcap);
  });
  after(() => dir.remove());

  test('one IPFIX message per datagram, headers as written', (t) => {
    if (skip) return t.skip(skip);
    assert.equal(messages.length, written.length);
    assert.equal(decoded.length, messages.length);
    let recordsBefore = 0;
    decoded.forEach((m, i) => {
      assert.deepEqual(m.problems, [], `message ${i}`);
      assert.equal(m.version, 10);
      assert.equal(m.length, messages[i].length);
      assert.equal(m.exportTime, EXPORT_TIME);
      assert.equal(m.observationDomainId, OBSERVATION_DOMAIN);
      assert.equal(m.sequenceNumber, recordsBefore, `message ${i}: sequence number = data records sent before it`);
      recordsBefore += written[i].filter((x) => x.kind === 'record').length;
    });
  });

  test('templates, withdrawals and every field of every record equal what we wrote', (t) => {
    if (skip) return t.skip(skip);
    const problems: string[] = [];
    decoded.forEach((m, i) => {
      const theirs = tsharkContents(m);
      const ours = written[i];
      const templates = ours.flatMap((x) => (x.kind === 'template' ? [x.template] : []));
      const withdrawals = ours.flatMap((x) => (x.kind === 'withdrawal' ? [x.id] : []));
      const records = ours.flatMap((x) => (x.kind === 'record' ? [x] : []));
      assert.equal(theirs.templates.length, templates.length, `message ${i} templates`);
      templates.forEach((tpl, k) => problems.push(...compareTemplate(tpl, theirs.templates[k]).map((s) => `message ${i}: ${s}`)));
      assert.deepEqual(theirs.withdrawals, withdrawals, `message ${i} withdrawals`);
      assert.equal(theirs.records.length, records.length, `message ${i} records`);
      records.forEach((r, k) => {
        const where = `message ${i} record ${k}`;
        assert.equal(theirs.records[k].setId, r.template.id, where);
        problems.push(...compareRecord(r.template, r.values, theirs.records[k].flow, where));
      });
    });
    assert.deepEqual(problems, []);
  });

  test('Antrea elements show with PEN 56506 and reverse elements with PEN 29305', (t) => {
    if (skip) return t.skip(skip);
    const agent = decoded[0].sets[0].templates[0];
    assert.equal(agent.id, 256);
    assert.equal(agent.fields.length, 42);
    const reverse = agent.fields.filter((f) => f.enterpriseNumber === 29305);
    assert.deepEqual(reverse.map((f) => [f.id, f.length]), [[86, 8], [85, 8], [2, 8], [1, 8]]);
    for (const f of reverse) assert.match(f.label, /\[Reverse\]$/);
    const antrea = agent.fields.filter((f) => f.enterpriseNumber === 56506);
    assert.equal(antrea.length, 26);
    assert.deepEqual(antrea.slice(0, 3).map((f) => [f.id, f.length]), [[101, 65535], [100, 65535], [104, 65535]]);
    for (const f of antrea) assert.equal(f.penLabel, 'PEN: Project Antrea (56506)');
    // In the first record: sourcePodName (Antrea 101) as its UTF-8 octets, reversePacketTotalCount as a reverse counter.
    const flow = decoded[0].sets[1].flows[0];
    const podName = flow.find((f) => f.label.startsWith('Enterprise Private entry: (Project Antrea) Type 101:'));
    assert.equal(podName && Buffer.from(podName.hex, 'hex').toString(), 'frontend-7d9f8c6b5-x2x9q');
    const reversePackets = flow.find((f) => f.label.includes('(Reverse Type 86 '));
    assert.equal(reversePackets?.show, '1100000');
  });

  test('one message holds two templates in one template set, an options template set and four data sets', (t) => {
    if (skip) return t.skip(skip);
    const m = decoded.find((x) => x.sets[0]?.templates[0]?.id === mixedTemplate.id);
    assert.ok(m);
    assert.deepEqual(m.sets.map((s) => s.setId), [2, 3, 300, 301, 300, 400]);
    assert.deepEqual(m.sets[0].templates.map((x) => x.id), [300, 301]);
    assert.deepEqual(m.sets[1].templates.map((x) => [x.id, x.options, x.scopeFieldCount]), [[400, true, 1]]);
    assert.deepEqual(m.sets.map((s) => s.flows.length), [0, 0, 1, 2, 1, 1]);
    // The 310-octet string went out with the 3-octet length prefix: its value starts 3 octets after the previous field.
    const flow = m.sets[2].flows[0];
    const descr = flow.find((f) => f.name === 'cflow.if_descr');
    assert.equal(descr?.size, 310);
    assert.equal(Buffer.from(descr!.hex, 'hex').toString('utf8'), LONG_UTF8);
  });

  test('the comparison is not vacuous: a changed value, string or counter is reported', (t) => {
    if (skip) return t.skip(skip);
    const a4 = written[0].flatMap((x) => (x.kind === 'record' ? [x] : []))[0];
    const values = [...a4.values];
    values[a4.template.indexOf('destinationTransportPort')] = 8081;
    values[a4.template.indexOf('sourcePodName')] = 'frontend-7d9f8c6b5-x2x9Q';
    values[a4.template.indexOf('reverseOctetDeltaCount')] = 4_000_002n;
    values[a4.template.indexOf('flowEndSeconds')] = EXPORT_TIME - 6;
    const problems = compareRecord(a4.template, values, tsharkContents(decoded[0]).records[0].flow, 'changed');
    const fields = [...new Set(problems.map((p) => /\((\w+) = /.exec(p)?.[1]))];
    assert.deepEqual(fields, ['flowEndSeconds', 'destinationTransportPort', 'reverseOctetDeltaCount', 'sourcePodName']);
  });

  test('our own decoder agrees with tshark on the same messages', (t) => {
    if (skip) return t.skip(skip);
    // Read as an IPFIX file (RFC 5655), where a template withdrawal applies (over UDP it is ignored).
    const session = new SessionDecoder({ transport: 'file' });
    const problems = messages.flatMap((msg, i) => compareMessage(session.decodeMessage(msg), decoded[i], `message ${i}`));
    assert.deepEqual(problems, []);
  });

  test('dateTimeNanoseconds: tshark reads what we wrote, and so do we, to the nanosecond', (t) => {
    if (skip) return t.skip(skip);
    // Not in the messages above so that a precision problem here does not hide other mismatches.
    return nanosecondRoundTrip(dir);
  });
});

async function nanosecondRoundTrip(dir: TempDir): Promise<void> {
  const w = new MessageWriter({ observationDomainId: 1, clock: () => EXPORT_TIME });
  const values: FieldValue[][] = [
    [1_763_000_000_123_456_789n, 1_763_000_000_999_999_999n],
    [1_763_000_000_000_000_001n, 1_763_000_000_500_000_000n],
  ];
  w.addTemplate(nanosTemplate);
  for (const v of values) w.addRecord(nanosTemplate, v);
  w.flush();
  const [msg] = w.drain();
  const pcap = dir.file('nanos.pcap');
  writeFileSync(pcap, writePcap([{ srcAddress: '127.0.0.1', dstAddress: '127.0.0.1', srcPort: 47002, dstPort: 4739, payload: msg }]));
  const [m] = await tsharkDecode(pcap);
  const { records } = tsharkContents(m);
  // tshark: within its own 1 ns conversion error (see compareRecord).
  assert.deepEqual(values.flatMap((v, i) => compareRecord(nanosTemplate, v, records[i].flow, `record ${i}`)), []);
  // Our decoder reading the octets tshark accepted: exact. An NTP fraction has 0.23 ns resolution,
  // so an encoder that rounds the fraction up lets any truncating decoder read the exact nanosecond.
  const ours = new SessionDecoder({ transport: 'udp' }).decodeMessage(msg).records.map((r) => r.values);
  assert.deepEqual(ours, values);
}
