import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTemplate, type FieldSpec } from './template.ts';
import { MessageWriter } from './message-writer.ts';
import { SessionDecoder } from './session-decoder.ts';
import { agentTemplate } from './antrea-templates.ts';
import type { FieldValue } from './data-types.ts';
import { IpfixError } from '../errors.ts';

function roundTrip(specs: FieldSpec[], values: (FieldValue | undefined)[]): FieldValue[] {
  const t = buildTemplate(300, specs);
  const w = new MessageWriter({ observationDomainId: 7, clock: () => 1700000000 });
  w.addTemplate(t);
  w.addRecord(t, values);
  w.flush();
  const [msg] = w.drain();
  const r = new SessionDecoder({ transport: 'tcp' }).decodeMessage(msg);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 1);
  return r.records[0].values;
}

test('every abstract data type round-trips at its natural length', () => {
  const specs = [
    'protocolIdentifier', 'sourceTransportPort', 'ingressInterface', 'octetDeltaCount',
    'mplsTopLabelTTL', 'samplingProbability', 'sourceMacAddress', 'sourceIPv4Address', 'sourceIPv6Address',
    'flowStartSeconds', 'flowStartMilliseconds', 'flowStartMicroseconds', 'flowStartNanoseconds',
    'interfaceName', 'paddingOctets', 'dataRecordsReliability', 'ingressNetworkPolicyRulePriority',
  ];
  const values: FieldValue[] = [
    17, 65535, 4294967295, 18446744073709551615n,
    255, 0.125, 'aa:bb:cc:00:11:ff', '192.168.255.1', '2001:db8::ff00:42:8329',
    1700000000, 1700000000123, 1700000000123456000n, 1700000000123456789n,
    'eth0 ☃ ünïcode', new Uint8Array([1, 2, 3]), true, -12345,
  ];
  const out = roundTrip(specs, values);
  assert.deepEqual(out.slice(0, 11), values.slice(0, 11));
  assert.equal(out[11], 1700000000123456000n);
  // NTP fractions (2^-32 s) are rounded up on encode, so truncating decoders get the nanosecond back.
  assert.equal(out[12], 1700000000123456789n);
  for (const ns of [1n, 999_999_999n, 500_000_000n, 123_456_789n]) {
    assert.equal(roundTrip(['flowStartNanoseconds'], [1700000000_000000000n + ns])[0], 1700000000_000000000n + ns);
  }
  assert.equal(out[13], values[13]);
  assert.deepEqual([...(out[14] as Uint8Array)], [1, 2, 3]);
  assert.equal(out[15], true);
  assert.equal(out[16], -12345);
  assert.equal(roundTrip(['dataRecordsReliability'], [false])[0], false);
});

test('64-bit counters keep every bit (bigint), numbers accepted on encode', () => {
  const vals = [0n, 1n, 4294967295n, 4294967296n, 9007199254740993n, 18446744073709551615n];
  for (const v of vals) assert.equal(roundTrip(['octetTotalCount'], [v])[0], v);
  assert.equal(roundTrip(['octetTotalCount'], [12345])[0], 12345n);
  assert.equal(roundTrip(['octetTotalCount'], [undefined])[0], 0n);
});

test('reduced-size encoding (RFC 7011 §6.2) of unsigned, signed and float values', () => {
  const out = roundTrip(
    [
      { name: 'octetDeltaCount', length: 4 }, { name: 'octetTotalCount', length: 2 }, { name: 'packetDeltaCount', length: 7 },
      { name: 'ingressInterface', length: 2 }, { name: 'tcpControlBits', length: 1 }, { name: 'ingressNetworkPolicyRulePriority', length: 2 },
      { name: 'ingressNetworkPolicyRulePriority', length: 1 }, { name: 'samplingProbability', length: 4 }, { name: 'sourceTransportPort', length: 1 },
    ],
    [4000000000n, 65535n, 72057594037927935n, 513, 0x12, -300, -5, 0.5, 200],
  );
  assert.deepEqual(out, [4000000000n, 65535n, 72057594037927935n, 513, 0x12, -300, -5, 0.5, 200]);
});

test('variable-length strings use a 1-octet length below 255 and 255 + 2 octets from 255 on', () => {
  for (const n of [0, 1, 84, 85, 254, 255, 256, 1000, 65000]) {
    const s = 'x'.repeat(n);
    const t = buildTemplate(256, ['sourcePodName', 'flowType']);
    const w = new MessageWriter({ observationDomainId: 1 });
    w.addRecord(t, [s, 3]);
    w.flush();
    const msg = w.drain()[0];
    const prefix = n < 255 ? 1 : 3;
    assert.equal(msg.length, 16 + 4 + prefix + n + 1, `length ${n}`);
    assert.equal(msg[20], n < 255 ? n : 255);
    if (n >= 255) assert.equal(msg.readUInt16BE(21), n);
    const d = new SessionDecoder({ transport: 'tcp' });
    d.templates.set(1, t);
    assert.deepEqual(d.decodeMessage(msg).records[0].values, [s, 3]);
  }
  // Multi-byte characters near the 1-octet limit.
  assert.equal(roundTrip(['sourcePodName'], ['é'.repeat(127)])[0], 'é'.repeat(127));
  assert.equal(roundTrip(['sourcePodName'], ['€'.repeat(90)])[0], '€'.repeat(90));
});

test('fixed-length strings and octet arrays are padded and truncated to the field', () => {
  const out = roundTrip([{ name: 'interfaceName', length: 8 }, 'sourcePodUUID'], ['eth0', new Uint8Array(16).fill(7)]);
  assert.equal(out[0], 'eth0');
  assert.deepEqual([...(out[1] as Uint8Array)], new Array(16).fill(7));
});

test('a string too long for any field is a typed error', () => {
  const t = buildTemplate(256, ['sourcePodName']);
  const w = new MessageWriter({ observationDomainId: 1 });
  assert.throws(() => w.addRecord(t, ['x'.repeat(70000)]), (e: unknown) => e instanceof IpfixError && e.code === 'VALUE_TOO_LONG');
});

test('values of the wrong kind are rejected with a typed error naming the field', () => {
  const t = buildTemplate(256, ['sourceIPv4Address', 'octetDeltaCount']);
  const w = new MessageWriter({ observationDomainId: 1 });
  assert.throws(() => w.addRecord(t, ['not-an-ip', 1n]), (e: unknown) => e instanceof IpfixError && e.code === 'BAD_VALUE' && e.context.name === 'sourceIPv4Address');
  assert.throws(() => w.addRecord(t, ['10.0.0.1', { a: 1 } as unknown as bigint]), (e: unknown) => e instanceof IpfixError && e.code === 'BAD_VALUE');
  // The failed records left nothing behind.
  w.addRecord(t, ['10.0.0.1', 5n]);
  w.flush();
  const d = new SessionDecoder({ transport: 'tcp' });
  d.templates.set(1, t);
  const r = d.decodeMessage(w.drain()[0]);
  assert.deepEqual(r.records.map((x) => x.values), [['10.0.0.1', 5n]]);
});

test('IPv6 text forms are canonicalised (RFC 5952)', () => {
  const cases: Array<[string, string]> = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'], ['::1', '::1'], ['fe80::1:0:0:1', 'fe80::1:0:0:1'], ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'], ['FD00:10:244:1::A', 'fd00:10:244:1::a'],
  ];
  for (const [input, canonical] of cases) assert.equal(roundTrip(['sourceIPv6Address'], [input])[0], canonical);
});

test('templates reject invalid lengths and unknown names with typed errors', () => {
  assert.throws(() => buildTemplate(256, [{ name: 'sourceIPv4Address', length: 3 }]), (e: unknown) => e instanceof IpfixError && e.code === 'BAD_FIELD_LENGTH');
  assert.throws(() => buildTemplate(256, [{ name: 'octetDeltaCount', length: 9 }]), (e: unknown) => e instanceof IpfixError && e.code === 'BAD_FIELD_LENGTH');
  assert.throws(() => buildTemplate(256, [{ name: 'flowType', length: 65535 }]), (e: unknown) => e instanceof IpfixError && e.code === 'BAD_FIELD_LENGTH');
  assert.throws(() => buildTemplate(256, ['noSuchElement']), (e: unknown) => e instanceof IpfixError && e.code === 'UNKNOWN_ELEMENT');
  assert.throws(() => buildTemplate(255, ['flowType']), (e: unknown) => e instanceof IpfixError && e.code === 'BAD_TEMPLATE_ID');
});

test('the Antrea agent template round-trips a realistic record', () => {
  const t = agentTemplate(4);
  const values: FieldValue[] = [1700000000, 1700000005, 2, 43210, 80, 6, 10n, 1500n, 10n, 1500n, '10.244.1.10', '10.244.2.10',
    8n, 900n, 8n, 900n, 'frontend-7d9f8c6b5-abcde', 'default', 'node-1', 'backend-0', 'prod', 'node-2', 8080, 'prod/backend:http',
    'allow-web', 'prod', 1, 'ingress-0', 1, 'allow-out', 'default', 1, 'egress-0', 1, 'ESTABLISHED', 2, '', '', '', '', '', '10.96.0.10'];
  const w = new MessageWriter({ observationDomainId: 9 });
  w.addTemplate(t);
  w.addRecord(t, values);
  w.flush();
  const r = new SessionDecoder({ transport: 'tcp' }).decodeMessage(w.drain()[0]);
  assert.deepEqual(r.records[0].values, values);
  assert.equal(r.records[0].template.indexOf('sourcePodName'), 16);
});

test('interned strings, cached addresses and shared counters never return another value', () => {
  // Strings that differ in one octet at every position (and in length) collide in the sampled hash
  // on purpose; each must come back exactly, however often and in whatever order it repeats.
  const strings: string[] = [];
  for (let n = 1; n <= 70; n++) {
    const base = 'a'.repeat(n);
    strings.push(base);
    for (let i = 0; i < n; i++) strings.push(`${base.slice(0, i)}b${base.slice(i + 1)}`);
  }
  strings.push('é', 'éé', 'ab€', 'Ω'.repeat(40));
  // Same length and prefix, different last octets: many of these share a slot of the cache.
  let seed = 7;
  for (let n = 4; n <= 64; n += 3) {
    for (let k = 0; k < 200; k++) {
      let tail = '';
      for (let j = 0; j < 4; j++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        tail += 'abcdefghijklmnop'[seed >>> 28];
      }
      strings.push('p'.repeat(n - 4) + tail);
    }
  }
  const addresses = ['0.0.0.0', '255.255.255.255', '10.0.0.1', '10.0.1.0', '1.0.0.10', '128.0.0.1', '127.255.255.255'];
  const counters = [0n, 1n, 65535n, 65536n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 64n - 1n];
  const t = buildTemplate(300, ['sourcePodName', 'sourceIPv4Address', 'octetDeltaCount']);
  const expected: [string, string, bigint][] = [];
  let x = 12345;
  for (let k = 0; k < 60_000; k++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    expected.push([strings[x % strings.length], addresses[(x >>> 8) % addresses.length], counters[(x >>> 16) % counters.length]]);
  }
  const w = new MessageWriter({ observationDomainId: 3 });
  w.addTemplate(t);
  for (const v of expected) w.addRecord(t, v);
  w.flush();
  const d = new SessionDecoder({ transport: 'tcp' });
  const got = w.drain().flatMap((m) => d.decodeMessage(m).records.map((r) => r.values));
  assert.deepEqual(got, expected);
});

test('the encoder\'s string cache stays exact when it fills up and starts again', () => {
  // ~2.5 MB of distinct names: the cache's arena (1 MB) is cleared twice on the way. Each name is
  // written twice in a row (the second time from the cache), then all of them again, long after
  // the arena was reused.
  const t = buildTemplate(300, ['sourcePodName', 'packetDeltaCount']);
  const names = Array.from({ length: 50_000 }, (_, i) => `pod-${i.toString(36)}-${'x'.repeat(i % 40)}-é${i % 7}`);
  const values: [string, bigint][] = names.flatMap((s, i) => [[s, BigInt(i)], [s, 2n ** 63n + BigInt(i)]] as [string, bigint][]);
  values.push(...names.map((s, i): [string, bigint] => [s, BigInt(i * 3)]));
  const w = new MessageWriter({ observationDomainId: 3 });
  w.addTemplate(t);
  for (const v of values) w.addRecord(t, v);
  w.flush();
  const d = new SessionDecoder({ transport: 'tcp' });
  assert.deepEqual(w.drain().flatMap((m) => d.decodeMessage(m).records.map((r) => r.values)), values);
});
