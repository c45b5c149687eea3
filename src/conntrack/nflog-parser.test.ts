import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConntrackError } from '../errors.ts';
import { parseNflogMessage } from './nflog-parser.ts';

// --- NFLOG message builder (independent of the code under test) ---------------------------------

function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}
const be32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};

function nflogMessage(group: number, attrs: Buffer[]): Buffer {
  const body = Buffer.concat(attrs);
  const out = Buffer.alloc(20 + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE((4 << 8) | 0, 4);
  out[16] = 2;
  out.writeUInt16BE(group, 18);
  body.copy(out, 20);
  return out;
}

function ipv4Packet(proto: number, src: number[], dst: number[], l4: Buffer, fragOffset = 0): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + l4.length, 2);
  h.writeUInt16BE(fragOffset, 6);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(src).copy(h, 12);
  Buffer.from(dst).copy(h, 16);
  return Buffer.concat([h, l4]);
}

function ipv6Packet(next: number, srcHex: string, dstHex: string, rest: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(rest.length, 4);
  h[6] = next;
  h[7] = 64;
  Buffer.from(srcHex, 'hex').copy(h, 8);
  Buffer.from(dstHex, 'hex').copy(h, 24);
  return Buffer.concat([h, rest]);
}

const ports = (s: number, d: number, extra = 16): Buffer => {
  const b = Buffer.alloc(4 + extra);
  b.writeUInt16BE(s, 0);
  b.writeUInt16BE(d, 2);
  return b;
};

const prefix = (s: string): Buffer => attr(10, Buffer.from(`${s}\0`));
const packetHdr = (hw: number, hook: number): Buffer => attr(1, Buffer.from([hw >> 8, hw & 0xff, hook, 0]));
const timestamp = (sec: bigint, usec: bigint): Buffer => {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(sec, 0);
  b.writeBigUInt64BE(usec, 8);
  return attr(3, b);
};

const parse = (msg: Buffer, now = 42n) => parseNflogMessage(msg, 0, msg.length, now);

describe('parseNflogMessage', () => {
  it('parses a logged IPv4 TCP SYN with prefix, devices, mark and kernel timestamp', () => {
    const msg = nflogMessage(5, [
      packetHdr(0x0800, 2),
      attr(2, be32(7)),
      timestamp(1795623311n, 123456n),
      attr(4, be32(3)),
      attr(5, be32(4)),
      prefix('DROP9999 '),
      attr(9, ipv4Packet(6, [10, 244, 1, 10], [10, 244, 2, 10], ports(40100, 9999, 36))),
    ]);
    const p = parse(msg);
    assert.deepEqual(p, {
      group: 5,
      prefix: 'DROP9999 ',
      family: 'ipv4',
      src: '10.244.1.10',
      dst: '10.244.2.10',
      protocol: 6,
      srcPort: 40100,
      dstPort: 9999,
      icmpType: 0,
      icmpCode: 0,
      ipLength: 60,
      timestamp: 1795623311n * 1_000_000_000n + 123456n * 1000n,
      kernelTimestamp: true,
      indev: 3,
      outdev: 4,
      hook: 2,
      hwProtocol: 0x0800,
      mark: 7,
    });
  });

  it('uses the receive time when the kernel gives no timestamp', () => {
    const p = parse(nflogMessage(1, [attr(9, ipv4Packet(17, [1, 2, 3, 4], [5, 6, 7, 8], ports(53, 5353)))]), 99n);
    assert.equal(p.timestamp, 99n);
    assert.equal(p.kernelTimestamp, false);
    assert.equal(p.prefix, '');
    assert.equal(p.protocol, 17);
    assert.equal(p.hook, -1);
  });

  it('skips IPv6 extension headers to reach the UDP ports', () => {
    const hopByHop = Buffer.alloc(8);
    hopByHop[0] = 17; // next header UDP
    hopByHop[1] = 0; // 8 bytes
    const p = parse(
      nflogMessage(2, [
        attr(9, ipv6Packet(0, 'fd000244000100000000000000000010', 'fd000244000200000000000000000010', Buffer.concat([hopByHop, ports(1234, 53, 4)]))),
      ]),
    );
    assert.equal(p.family, 'ipv6');
    assert.equal(p.src, 'fd00:244:1::10');
    assert.equal(p.dst, 'fd00:244:2::10');
    assert.equal(p.protocol, 17);
    assert.equal(p.srcPort, 1234);
    assert.equal(p.dstPort, 53);
    assert.equal(p.ipLength, 40 + 16);
  });

  it('reads ICMP type/code, and no ports from non-first fragments or cut payloads', () => {
    const icmp = parse(nflogMessage(1, [attr(9, ipv4Packet(1, [1, 1, 1, 1], [2, 2, 2, 2], Buffer.from([8, 0, 0, 0])))]));
    assert.equal(icmp.icmpType, 8);
    assert.equal(icmp.srcPort, 0);
    const frag = parse(nflogMessage(1, [attr(9, ipv4Packet(6, [1, 1, 1, 1], [2, 2, 2, 2], ports(1, 2), 100))]));
    assert.equal(frag.srcPort, 0);
    const header = ipv4Packet(6, [1, 1, 1, 1], [2, 2, 2, 2], ports(1, 2)).subarray(0, 22);
    const cut = parse(nflogMessage(1, [attr(9, header)]));
    assert.equal(cut.protocol, 6);
    assert.equal(cut.srcPort, 0);
  });

  it('rejects malformed messages with typed errors', () => {
    const codeOf = (msg: Buffer): string => {
      try {
        parse(msg);
      } catch (err) {
        assert.ok(err instanceof ConntrackError);
        return err.code;
      }
      return 'no error';
    };
    assert.equal(codeOf(nflogMessage(1, [prefix('x')])), 'NFLOG_NO_PAYLOAD');
    assert.equal(codeOf(nflogMessage(1, [attr(9, Buffer.from([0x45, 0, 0]))])), 'NFLOG_PAYLOAD');
    assert.equal(codeOf(nflogMessage(1, [attr(9, Buffer.alloc(40, 0x20))])), 'NFLOG_PAYLOAD');
    assert.equal(codeOf(nflogMessage(1, [attr(4, Buffer.from([1]))])), 'NFLOG_ATTR_LENGTH');
    const overrun = nflogMessage(1, [prefix('abc')]);
    overrun.writeUInt16LE(100, 20);
    assert.equal(codeOf(overrun), 'NFLOG_ATTR_TRUNCATED');
    assert.equal(codeOf(overrun.subarray(0, 10)), 'NFLOG_TRUNCATED');
  });
});
