/**
 * Interop: an IPFIX file of our messages (RFC 5655: messages back to back) is read by ipfixDump
 * (libfixbuf 2.4, CERT's IPFIX library) without error, and it lists our templates and records:
 * IANA and reverse (PEN 29305) elements by name, Antrea's (PEN 56506) by PEN and id — and, given
 * Antrea's registry as an element file, every value of every record as we wrote it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { defaultModel, PEN_ANTREA } from '../../src/ipfix/index.ts';
import { elementRegistryXml, ipfixDump, type IpfixDump } from './peers/ipfixdump.ts';
import { compareDumpRecord, compareDumpTemplate } from './peers/ipfixdump-compare.ts';
import { haveCommand } from './peers/process.ts';
import { EXPORT_TIME, OBSERVATION_DOMAIN, sampleMessages, type Written } from './peers/sample-messages.ts';
import { TempDir } from './peers/tempdir.ts';

describe('ipfixDump reads a file of our messages', { timeout: 60_000 }, () => {
  const dir = new TempDir();
  const { messages, written } = sampleMessages();
  const events: Written[] = written.flat();
  const records = events.flatMap((e) => (e.kind === 'record' ? [e] : []));
  let plain: IpfixDump;
  let named: IpfixDump;
  let skip: string | false = false;

  before(async () => {
    if (!(await haveCommand('ipfixDump'))) { skip = 'ipfixDump is not installed (libfixbuf-tools; scripts/install-deps.sh installs it)'; return; }
    const file = dir.file('ours.ipfix');
    writeFileSync(file, Buffer.concat(messages));
    const registry = dir.file('antrea.xml');
    writeFileSync(registry, elementRegistryXml('antrea', [...defaultModel].filter((ie) => ie.enterpriseNumber === PEN_ANTREA)));
    plain = await ipfixDump(file);
    named = await ipfixDump(file, { elementFile: registry, hexdump: 1024 });
  });
  after(() => dir.remove());

  test('without error: every message, template and data record is counted', (t) => {
    if (skip) return t.skip(skip);
    for (const d of [plain, named]) {
      assert.equal(d.stderr, '');
      assert.deepEqual(d.stats, {
        messages: messages.length,
        dataRecords: records.length,
        templateRecords: events.filter((e) => e.kind !== 'record').length,
      });
    }
    let sequence = 0;
    plain.messages.forEach((m, i) => {
      assert.deepEqual(m, { exportTime: new Date(EXPORT_TIME * 1000).toISOString().slice(0, 19).replace('T', ' '), observationDomainId: OBSERVATION_DOMAIN, length: messages[i].length, sequenceNumber: sequence });
      sequence += written[i].filter((e) => e.kind === 'record').length;
    });
  });

  test('IANA values and Antrea elements with their PEN, id and length', (t) => {
    if (skip) return t.skip(skip);
    const agent = plain.templates[0];
    assert.equal(agent.id, 256);
    assert.deepEqual(agent.fields[12], { enterpriseNumber: 29305, id: 86, type: 'uint64', length: 8, scope: false, name: 'reversePacketTotalCount' });
    assert.deepEqual(agent.fields[16], { enterpriseNumber: 56506, id: 101, type: 'octet', length: 65535, scope: false, name: '_alienInformationElement' });
    assert.deepEqual(agent.fields.filter((f) => f.enterpriseNumber === 56506).map((f) => f.id),
      [101, 100, 104, 103, 102, 105, 108, 109, 110, 111, 115, 141, 139, 112, 113, 118, 142, 140, 136, 137, 153, 154, 155, 156, 157, 106]);
    const first = plain.records[0];
    const field = (name: string): string | undefined => first.fields.find((f) => f.name === name)?.text;
    assert.equal(first.templateId, 256);
    assert.equal(field('sourceIPv4Address'), '10.244.1.17');
    assert.equal(field('destinationIPv4Address'), '10.244.2.33');
    assert.equal(field('octetTotalCount'), '6000000123');
    assert.equal(field('reverseOctetTotalCount'), '98765432109');
    assert.equal(field('flowStartSeconds'), new Date((EXPORT_TIME - 125) * 1000).toISOString().slice(0, 19).replace('T', ' '));
    // Antrea's sourcePodName (56506/101): "frontend-7d9f8c6b5-x2x9q", 24 octets.
    const pod = first.fields.find((f) => f.enterpriseNumber === 56506 && f.id === 101);
    assert.equal(pod?.text, 'len: 24');
  });

  test('with Antrea\'s registry as element file: every template and every value as written', (t) => {
    if (skip) return t.skip(skip);
    const templates = events.filter((e) => e.kind !== 'record');
    assert.equal(named.templates.length, templates.length);
    const problems: string[] = [];
    templates.forEach((e, i) => {
      const theirs = named.templates[i];
      if (e.kind === 'withdrawal') problems.push(...(theirs.id === e.id && theirs.fields.length === 0 ? [] : [`withdrawal ${e.id}: ipfixDump shows template ${theirs.id} with ${theirs.fields.length} fields`]));
      else if (e.kind === 'template') problems.push(...compareDumpTemplate(e.template, theirs));
    });
    assert.equal(named.records.length, records.length);
    records.forEach((r, i) => problems.push(...compareDumpRecord(r.template, r.values, named.records[i], `record ${i}`)));
    assert.deepEqual(problems, []);
  });

  test('the comparison is not vacuous: changed values are reported', (t) => {
    if (skip) return t.skip(skip);
    const r = records[0];
    const values = [...r.values];
    values[r.template.indexOf('sourceIPv4Address')] = '10.244.1.18';
    values[r.template.indexOf('destinationPodName')] = 'backend-api-5c8d7b9f4-kq7wZ';
    values[r.template.indexOf('flowStartSeconds')] = EXPORT_TIME - 126;
    const problems = compareDumpRecord(r.template, values, named.records[0], 'changed');
    assert.deepEqual(problems.map((p) => /\((\w+)\)/.exec(p)?.[1]), ['flowStartSeconds', 'sourceIPv4Address', 'destinationPodName']);
  });
});
