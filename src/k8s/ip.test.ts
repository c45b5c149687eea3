import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CidrTable, cidrContains, firstHostAddress, normalizeIP, parseCidr, parseIP } from './ip.ts';

describe('ip', () => {
  test('normalizeIP gives one canonical text per address', () => {
    const cases: [string, string | undefined][] = [
      ['10.0.0.1', '10.0.0.1'],
      ['010.000.0.1', '10.0.0.1'],
      ['255.255.255.255', '255.255.255.255'],
      ['256.0.0.1', undefined],
      ['10.0.0', undefined],
      ['10.0.0.1.', undefined],
      ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
      ['fd00::0001', 'fd00::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['2001:db8::1:0:1:1:1', '2001:db8:0:1:0:1:1:1'],
      ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
      ['::ffff:a01:203', '::ffff:10.1.2.3'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['1:2:3:4:5:6:7:8:9', undefined],
      ['1::2::3', undefined],
      ['fe80::1%eth0', undefined],
      ['g::1', undefined],
      ['', undefined],
    ];
    for (const [input, want] of cases) assert.equal(normalizeIP(input), want, input);
  });

  test('parseCidr clears host bits and rejects bad prefixes', () => {
    assert.equal(parseCidr('10.244.1.7/24')?.text, '10.244.1.0/24');
    assert.equal(parseCidr('0.0.0.0/0')?.text, '0.0.0.0/0');
    assert.equal(parseCidr('10.0.0.1/32')?.text, '10.0.0.1/32');
    assert.equal(parseCidr('fd00:10:244:1::5/64')?.text, 'fd00:10:244:1::/64');
    assert.equal(parseCidr('::/0')?.text, '::/0');
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.equal(parseCidr('fd00::/129'), undefined);
    assert.equal(parseCidr('10.0.0.0'), undefined);
    assert.equal(parseCidr('10.0.0.0/x'), undefined);
  });

  test('cidrContains across families and edges', () => {
    const v4 = parseCidr('192.168.0.0/16')!;
    assert.equal(cidrContains(v4, parseIP('192.168.255.255')!), true);
    assert.equal(cidrContains(v4, parseIP('192.169.0.0')!), false);
    assert.equal(cidrContains(v4, parseIP('fd00::1')!), false);
    assert.equal(cidrContains(parseCidr('0.0.0.0/0')!, parseIP('255.1.2.3')!), true);
    const v6 = parseCidr('fd00:1::/32')!;
    assert.equal(cidrContains(v6, parseIP('fd00:1:ffff::1')!), true);
    assert.equal(cidrContains(v6, parseIP('fd00:2::1')!), false);
    assert.equal(firstHostAddress(parseCidr('10.244.1.0/24')!), '10.244.1.1');
    assert.equal(firstHostAddress(parseCidr('fd00:10:244:1::/64')!), 'fd00:10:244:1::1');
  });

  test('CidrTable returns the longest matching prefix', () => {
    const t = new CidrTable<string>();
    t.set(parseCidr('10.0.0.0/8')!, 'wide');
    t.set(parseCidr('10.244.0.0/16')!, 'mid');
    t.set(parseCidr('10.244.1.0/24')!, 'narrow');
    t.set(parseCidr('fd00::/8')!, 'v6');
    assert.equal(t.lookup(parseIP('10.244.1.9')!), 'narrow');
    assert.equal(t.lookup(parseIP('10.244.2.9')!), 'mid');
    assert.equal(t.lookup(parseIP('10.1.1.1')!), 'wide');
    assert.equal(t.lookup(parseIP('11.1.1.1')!), undefined);
    assert.equal(t.lookup(parseIP('fd12::1')!), 'v6');
    assert.equal(t.size, 4);
    t.clear();
    assert.equal(t.lookup(parseIP('10.244.1.9')!), undefined);
  });
});
