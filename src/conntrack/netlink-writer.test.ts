import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDumpRequest } from './netlink-source.ts';
import { nfnlMessage, nlattrBe16, nlattrNested, nlattrString } from './netlink-writer.ts';

describe('netlink request encoding', () => {
  it('encodes a ctnetlink dump request (all families, no zone)', () => {
    const req = buildDumpRequest(0x01020304, 'all');
    assert.equal(req.toString('hex'), '14000000' + '0101' + '0103' + '04030201' + '00000000' + '00000000');
  });

  it('adds CTA_ZONE (be16) and the family when asked', () => {
    const req = buildDumpRequest(1, 'ipv6', 65520);
    assert.equal(req.length, 28);
    assert.equal(req.readUInt32LE(0), 28);
    assert.equal(req[16], 10);
    assert.equal(req.subarray(20).toString('hex'), '06001200fff00000');
  });

  it('pads attributes to 4 bytes and marks nested ones', () => {
    const s = nlattrString(10, 'ab');
    assert.equal(s.toString('hex'), '07000a0061620000');
    const n = nlattrNested(1, [nlattrBe16(2, 1)]);
    assert.equal(n.toString('hex'), '0c000180' + '060002000001' + '0000');
    const m = nfnlMessage({ type: 0x401, flags: 5, seq: 9, family: 0, resId: 5 }, [s]);
    assert.equal(m.readUInt16BE(18), 5);
    assert.equal(m.length, 28);
  });
});
