import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionDecoder } from './session-decoder.ts';
import { Bytes, message, templateRecord } from './testing/message-builder.ts';
import { PEN_ANTREA, PEN_ANTREA_LEGACY } from './constants.ts';

// Template 256: sourceTransportPort(7, 2), protocolIdentifier(4, 1), sourcePodName(Antrea 101, variable).
const T256 = templateRecord(256, [[7, 2], [4, 1], [101, 65535, PEN_ANTREA]]);
const rec = (port: number, proto: number, name: string): number[] => [port >> 8, port & 255, proto, name.length, ...Buffer.from(name)];

/** The message with octets appended inside its announced length. */
function withTail(msg: Buffer, tail: number[]): Buffer {
  const m = Buffer.concat([msg, Buffer.from(tail)]);
  m.writeUInt16BE(m.length, 2);
  return m;
}

function codes(d: SessionDecoder, msg: Buffer): string[] {
  return d.decodeMessage(msg).errors.map((e) => e.code);
}

test('several sets per message and several templates per set', () => {
  const two = new Bytes().raw(T256.build()).raw(templateRecord(257, [[11, 2]]).build());
  const msg = message([
    { id: 2, body: two },
    { id: 256, body: [...rec(80, 6, 'a'), ...rec(443, 17, 'bb')] },
    { id: 257, body: [0, 53, 0, 54] },
    { id: 256, body: rec(22, 6, '') },
  ]);
  const r = new SessionDecoder({ transport: 'tcp' }).decodeMessage(msg);
  assert.deepEqual(r.errors, []);
  assert.equal(r.templates.length, 2);
  assert.deepEqual(r.records.map((x) => x.values), [[80, 6, 'a'], [443, 17, 'bb'], [53], [54], [22, 6, '']]);
  assert.equal(r.dataSetCount, 3);
  assert.equal(r.records[0].header.observationDomainId, 1);
});

test('set padding after records and after templates is skipped', () => {
  const msg = message([
    { id: 2, body: new Bytes().raw(T256.build()).raw([0, 0, 0]) },
    { id: 256, body: [...rec(80, 6, 'a'), 0, 0, 0] },
  ]);
  const r = new SessionDecoder({ transport: 'tcp' }).decodeMessage(msg);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 1);
});

test('unknown information elements are kept as raw octets with their enterprise number and id', () => {
  const t = templateRecord(260, [[7, 2], [999, 3, 12345], [32000, 65535]]);
  const msg = message([{ id: 2, body: t }, { id: 260, body: [0, 80, 1, 2, 3, 2, 9, 9] }]);
  const r = new SessionDecoder({ transport: 'tcp' }).decodeMessage(msg);
  assert.deepEqual(r.errors, []);
  const f = r.templates[0].fields[1];
  assert.equal(f.known, false);
  assert.equal(f.ie.enterpriseNumber, 12345);
  assert.equal(f.ie.id, 999);
  assert.equal(f.ie.name, 'unknown_12345_999');
  assert.deepEqual([...(r.records[0].values[1] as Uint8Array)], [1, 2, 3]);
  assert.deepEqual([...(r.records[0].values[2] as Uint8Array)], [9, 9]);
});

test('PEN 56505 (the public documentation number) decodes as Antrea', () => {
  const t = templateRecord(256, [[101, 65535, PEN_ANTREA_LEGACY]]);
  const r = new SessionDecoder({ transport: 'tcp' }).decodeMessage(message([{ id: 2, body: t }, { id: 256, body: [3, 0x61, 0x62, 0x63] }]));
  assert.equal(r.templates[0].fields[0].ie.name, 'sourcePodName');
  assert.equal(r.records[0].values[0], 'abc');
});

test('reduced-size fields in a received template (e.g. pmacctd tcpControlBits in 1 octet)', () => {
  const t = templateRecord(256, [[6, 1], [1, 4], [2, 2]]);
  const r = new SessionDecoder({ transport: 'udp' }).decodeMessage(message([{ id: 2, body: t }, { id: 256, body: [0x12, 0, 1, 0, 0, 0, 7] }]));
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.records[0].values, [0x12, 65536n, 7n]);
});

test('data sets for unknown templates are counted, not decoded', () => {
  const d = new SessionDecoder({ transport: 'tcp' });
  const r = d.decodeMessage(message([{ id: 300, body: [1, 2, 3, 4] }, { id: 301, body: [1] }]));
  assert.equal(r.unknownTemplateSets, 2);
  assert.equal(r.records.length, 0);
  assert.deepEqual(r.errors, []);
});

test('templates are scoped per observation domain', () => {
  const d = new SessionDecoder({ transport: 'tcp' });
  d.decodeMessage(message([{ id: 2, body: T256 }], { domain: 1 }));
  const r = d.decodeMessage(message([{ id: 256, body: rec(80, 6, 'a') }], { domain: 2 }));
  assert.equal(r.unknownTemplateSets, 1);
});

test('UDP templates expire after their lifetime; TCP templates do not', () => {
  let now = 0;
  const udp = new SessionDecoder({ transport: 'udp', templateLifetimeMs: 1000, now: () => now });
  const tcp = new SessionDecoder({ transport: 'tcp', now: () => now });
  for (const d of [udp, tcp]) d.decodeMessage(message([{ id: 2, body: T256 }]));
  now = 999;
  assert.equal(udp.decodeMessage(message([{ id: 256, body: rec(1, 6, '') }])).records.length, 1);
  now = 1000;
  assert.equal(udp.decodeMessage(message([{ id: 256, body: rec(1, 6, '') }])).unknownTemplateSets, 1);
  assert.equal(tcp.decodeMessage(message([{ id: 256, body: rec(1, 6, '') }])).records.length, 1);
  // A re-sent template restarts its lifetime.
  udp.decodeMessage(message([{ id: 2, body: T256 }]));
  now = 1900;
  assert.equal(udp.decodeMessage(message([{ id: 256, body: rec(1, 6, '') }])).records.length, 1);
});

test('UDP: data sets for unknown templates can be held until the template arrives', () => {
  let now = 0;
  const d = new SessionDecoder({ transport: 'udp', holdUnknownMs: 500, now: () => now });
  const early = d.decodeMessage(message([{ id: 256, body: rec(80, 6, 'early') }], { sequence: 0 }));
  assert.equal(early.unknownTemplateSets, 1);
  assert.equal(d.heldSetCount, 1);
  now = 100;
  const r = d.decodeMessage(message([{ id: 2, body: T256 }, { id: 256, body: rec(81, 6, 'late') }], { sequence: 1 }));
  assert.deepEqual(r.records.map((x) => x.values[2]), ['early', 'late']);
  assert.equal(r.records[0].header.sequenceNumber, 0);
  assert.equal(d.heldDecoded, 1);
  // Held sets expire.
  d.decodeMessage(message([{ id: 400, body: [1] }]));
  now = 700;
  assert.equal(d.expireHeld(), 1);
  assert.equal(d.heldSetCount, 0);
});

test('template withdrawal over UDP is ignored with an error (RFC 7011 §8.4)', () => {
  const d = new SessionDecoder({ transport: 'udp' });
  d.decodeMessage(message([{ id: 2, body: T256 }]));
  assert.deepEqual(codes(d, message([{ id: 2, body: [1, 0, 0, 0] }])), ['WITHDRAWAL_OVER_UDP']);
  assert.ok(d.templates.get(1, 256));
});

test('a redefined template replaces the old one; a broken redefinition deletes it', () => {
  const d = new SessionDecoder({ transport: 'udp' });
  d.decodeMessage(message([{ id: 2, body: T256 }]));
  d.decodeMessage(message([{ id: 2, body: templateRecord(256, [[7, 2]]) }]));
  assert.deepEqual(d.decodeMessage(message([{ id: 256, body: [0, 9] }])).records[0].values, [9]);
  assert.deepEqual(codes(d, message([{ id: 2, body: templateRecord(256, [[8, 3]]) }])), ['BAD_FIELD_LENGTH']);
  assert.equal(d.templates.get(1, 256), undefined);
});

test('malformed messages give typed errors with the byte offset and never throw', () => {
  const d = new SessionDecoder({ transport: 'tcp' });
  d.decodeMessage(message([{ id: 2, body: T256 }]));
  const cases: Array<[string, Buffer, string, number?]> = [
    ['wrong version', message([], { version: 9 }), 'BAD_VERSION', 0],
    ['shorter than a header', Buffer.from([0, 10, 0]), 'MESSAGE_TOO_SHORT', 0],
    ['length beyond the buffer', message([], { length: 100 }), 'MESSAGE_TRUNCATED', 2],
    ['length below 16', message([], { length: 8 }), 'BAD_MESSAGE_LENGTH', 2],
    ['set shorter than 4', message([{ id: 256, body: [], lengthOverride: 2 }]), 'SET_TOO_SHORT', 16],
    ['set beyond the message', message([{ id: 256, body: [1, 2], lengthOverride: 40 }]), 'SET_BEYOND_MESSAGE', 16],
    ['dangling octets after the sets', withTail(message([{ id: 256, body: rec(1, 6, '') }]), [0, 1]), 'SET_TOO_SHORT', 24],
    ['reserved set ID', message([{ id: 5, body: [0, 0, 0, 0] }]), 'RESERVED_SET_ID', 16],
    ['template with more fields than the set holds', message([{ id: 2, body: new Bytes().u16(260).u16(5).u16(7).u16(2) }]), 'TEMPLATE_BEYOND_SET'],
    ['template ID below 256', message([{ id: 2, body: templateRecord(100, [[7, 2]]) }]), 'BAD_TEMPLATE_ID', 20],
    ['options template with zero scope fields', message([{ id: 3, body: templateRecord(270, [[7, 2]], 0) }]), 'BAD_SCOPE_COUNT', 20],
    ['template with zero-length fields only', message([{ id: 2, body: templateRecord(261, [[210, 0]]) }]), 'EMPTY_TEMPLATE', 20],
    ['enterprise field cut by the set end', message([{ id: 2, body: new Bytes().u16(262).u16(1).u16(0x8000 | 101).u16(65535).u16(0) }]), 'TEMPLATE_BEYOND_SET'],
    ['variable-length field beyond its set', message([{ id: 256, body: [0, 80, 6, 200, 1, 2] }]), 'VARIABLE_LENGTH_BEYOND_SET', 24],
    ['3-octet length cut by the set end', message([{ id: 256, body: [0, 80, 6, 255, 1] }]), 'RECORD_TRUNCATED'],
    ['data set shorter than one record', message([{ id: 256, body: [0, 80] }]), 'DATA_SET_TOO_SHORT', 20],
    ['withdrawal of an unknown template', message([{ id: 2, body: [1, 44, 0, 0] }]), 'UNKNOWN_TEMPLATE_WITHDRAWN', 20],
    ['non-zero padding in a template set', message([{ id: 2, body: new Bytes().raw(templateRecord(263, [[7, 2]]).build()).raw([1, 2]) }]), 'BAD_PADDING'],
  ];
  for (const [what, msg, code, offset] of cases) {
    const r = d.decodeMessage(msg);
    assert.ok(r.errors.length > 0, what);
    assert.equal(r.errors[0].code, code, what);
    assert.equal(r.errors[0].kind, 'ipfix');
    assert.equal(typeof r.errors[0].context.offset, 'number', what);
    if (offset !== undefined) assert.equal(r.errors[0].context.offset, offset, what);
  }
});

test('records decoded before an error in a set are kept; later sets still decode', () => {
  const d = new SessionDecoder({ transport: 'tcp' });
  d.decodeMessage(message([{ id: 2, body: T256 }]));
  const r = d.decodeMessage(message([
    { id: 256, body: [...rec(80, 6, 'ok'), 0, 81, 6, 50] },
    { id: 256, body: rec(82, 6, 'next') },
  ]));
  assert.deepEqual(r.errors.map((e) => e.code), ['VARIABLE_LENGTH_BEYOND_SET']);
  assert.deepEqual(r.records.map((x) => x.values[0]), [80, 82]);
});

test('trailing octets after the announced length are reported', () => {
  const msg = Buffer.concat([message([{ id: 2, body: T256 }]), Buffer.from([1, 2, 3])]);
  const r = new SessionDecoder({ transport: 'udp' }).decodeMessage(msg);
  assert.deepEqual(r.errors.map((e) => e.code), ['TRAILING_OCTETS']);
  assert.equal(r.templates.length, 1);
});
