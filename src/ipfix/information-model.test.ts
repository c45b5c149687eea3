import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { defaultModel, NON_REVERSIBLE, reverseName } from './information-model.ts';
import { PEN_ANTREA, PEN_ANTREA_LEGACY, PEN_REVERSE, VARIABLE_LENGTH } from './constants.ts';
import { agentElementNames, aggregatorElementNames, fnv1_32 } from './antrea-templates.ts';

const csvRows = (file: string): string[][] =>
  readFileSync(new URL(`../../data/${file}`, import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));

test('the generated model is up to date with the registry CSVs', () => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen-information-model.ts', '--check'], { cwd: new URL('../..', import.meta.url) });
});

test('every IANA element is in the model with its type and length', () => {
  const rows = csvRows('iana-information-elements.csv');
  assert.ok(rows.length > 490);
  for (const [id, name, type, len] of rows) {
    const ie = defaultModel.get(0, Number(id));
    assert.ok(ie, `IANA ${id}`);
    assert.equal(ie.name, name);
    assert.equal(ie.dataType, type);
    assert.equal(ie.length, Number(len));
    assert.equal(defaultModel.byElementName(name), ie);
  }
});

test('every reversible IANA element has an RFC 5103 reverse element under PEN 29305', () => {
  let reversible = 0;
  for (const [id, name] of csvRows('iana-information-elements.csv')) {
    const rev = defaultModel.get(PEN_REVERSE, Number(id));
    if (NON_REVERSIBLE.has(name)) {
      assert.equal(rev, undefined, `${name} is not reversible`);
      continue;
    }
    reversible++;
    assert.ok(rev, `reverse of ${name}`);
    assert.equal(rev.name, reverseName(name));
    assert.equal(rev.dataType, defaultModel.get(0, Number(id))!.dataType);
  }
  assert.equal(defaultModel.byElementName('reverseOctetDeltaCount').id, 1);
  assert.equal(defaultModel.byElementName('reverseOctetDeltaCount').enterpriseNumber, PEN_REVERSE);
  assert.ok(reversible > 450);
  for (const name of ['templateId', 'observationDomainId', 'biflowDirection', 'paddingOctets', 'flowKeyIndicator']) {
    assert.equal(defaultModel.byElementName(reverseName(name)), undefined, name);
  }
});

test('Antrea elements are under PEN 56506 and PEN 56505 is read as Antrea', () => {
  const rows = csvRows('antrea-information-elements.csv');
  assert.equal(rows.length, 73);
  for (const r of rows) {
    const ie = defaultModel.get(PEN_ANTREA, Number(r[0]));
    assert.ok(ie);
    assert.equal(ie.name, r[1]);
    assert.equal(ie.enterpriseNumber, PEN_ANTREA);
    assert.equal(defaultModel.get(PEN_ANTREA_LEGACY, Number(r[0])), ie);
  }
  assert.equal(defaultModel.byElementName('sourcePodName').length, VARIABLE_LENGTH);
  assert.equal(defaultModel.byElementName('sourcePodUUID').length, 16);
  assert.equal(defaultModel.byElementName('flowType').dataType, 'unsigned8');
  assert.equal(defaultModel.byElementName('egressIP').dataType, 'string');
});

test('Antrea templates: 42 agent elements, 69 aggregator elements, in upstream order', () => {
  const v4 = agentElementNames(4);
  assert.equal(v4.length, 42);
  assert.equal(v4[0], 'flowStartSeconds');
  assert.equal(v4[10], 'sourceIPv4Address');
  assert.equal(v4[12], 'reversePacketTotalCount');
  assert.equal(v4[16], 'sourcePodName');
  assert.equal(v4[41], 'destinationClusterIPv4');
  assert.equal(agentElementNames(6)[11], 'destinationIPv6Address');
  const agg = aggregatorElementNames(4);
  assert.equal(agg.length, 69);
  assert.equal(agg[42], 'octetDeltaCountFromSourceNode');
  assert.equal(agg[60], 'throughput');
  assert.equal(agg[68], 'clusterId');
  for (const n of agg) assert.ok(defaultModel.byElementName(n), n);
});

test('FNV-1 (not 1a) 32-bit observation domain IDs', () => {
  assert.equal(fnv1_32(''), 0x811c9dc5);
  assert.equal(fnv1_32('a'), 0x050c5d7e);
  assert.equal(fnv1_32('foobar'), 0x31f0b262);
  assert.equal(fnv1_32(new Uint8Array([0x61])), 0x050c5d7e);
});
