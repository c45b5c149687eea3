import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIPv4, formatIPv4Number, formatIPv6 } from './ip-address.ts';
import { parseIPInto } from './object-view.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

describe('IP address formatting', () => {
  it('formats IPv4 from bytes and numbers', () => {
    assert.equal(formatIPv4(Buffer.from([0, 10, 244, 1, 255]), 1), '10.244.1.255');
    assert.equal(formatIPv4Number(0xc0a80001), '192.168.0.1');
  });

  it('formats IPv6 per RFC 5952', () => {
    const cases: Array<[string, string]> = [
      ['00000000000000000000000000000000', '::'],
      ['00000000000000000000000000000001', '::1'],
      ['20010db8000000000000000000000001', '2001:db8::1'],
      ['20010db8000000010000000000000001', '2001:db8:0:1::1'], // single zero group is not compressed
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // leftmost of equal runs
      ['20010db8000000000000000100000000', '2001:db8::1:0:0'],
      ['fd000244000200000000000000000010', 'fd00:244:2::10'],
      ['00000000000000000000ffff0a000001', '::ffff:10.0.0.1'],
      ['fe800000000000000000000000000000', 'fe80::'],
      ['20010db8abcd12340000000000000000', '2001:db8:abcd:1234::'],
    ];
    for (const [bytes, text] of cases) assert.equal(formatIPv6(hex(bytes), 0), text, bytes);
  });

  it('agrees with the WHATWG URL serializer on 5,000 zero-heavy random addresses', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.alloc(16);
      for (let g = 0; g < 8; g++) {
        if (rnd() < 0.5) continue; // zero group
        b.writeUInt16BE(Math.floor(rnd() * 0x10000), g * 2);
      }
      if (b.readUInt32BE(8) === 0 && b.readUInt16BE(12) === 0xffff && b.readUInt32BE(0) === 0 && b.readUInt32BE(4) === 0) continue;
      const text = formatIPv6(b, 0);
      assert.equal(text, new URL(`http://[${text}]/`).hostname.slice(1, -1), b.toString('hex'));
      const back = new Uint8Array(16);
      assert.equal(parseIPInto(text, back), 16);
      assert.deepEqual(Buffer.from(back), b);
    }
  });

  it('parses text addresses into bytes', () => {
    const out = new Uint8Array(20);
    assert.equal(parseIPInto('10.1.2.3', out, 2), 4);
    assert.deepEqual([...out.subarray(2, 6)], [10, 1, 2, 3]);
    assert.equal(parseIPInto('::ffff:10.0.0.1', out), 16);
    assert.equal(Buffer.from(out.subarray(0, 16)).toString('hex'), '00000000000000000000ffff0a000001');
    assert.equal(parseIPInto('not an ip', out), 0);
  });
});
