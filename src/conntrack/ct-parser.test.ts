import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConntrackError } from '../errors.ts';
import { dataViewOf, NetlinkEntryView, parseConntrackMessage } from './ct-parser.ts';
import { AddressSlot, type ConntrackEntry, isDying } from './entry.ts';
import { nlmsgLength } from './netlink-socket.ts';

// --- a small ctnetlink message builder, independent of the code under test ---------------------

function attr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  payload.copy(out, 4);
  return out;
}
const nest = (type: number, ...children: Buffer[]): Buffer => attr(type | 0x8000, Buffer.concat(children));
const u8 = (type: number, v: number): Buffer => attr(type, Buffer.from([v]));
const be16 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return attr(type, b);
};
const be32 = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return attr(type, b);
};
const be64 = (type: number, v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return attr(type, b);
};
const ip4 = (type: number, s: string): Buffer => attr(type, Buffer.from(s.split('.').map(Number)));
const ip6 = (type: number, hex: string): Buffer => attr(type, Buffer.from(hex, 'hex'));

function message(family: number, attrs: Buffer[], type = 0x100): Buffer {
  const body = Buffer.concat(attrs);
  const out = Buffer.alloc(20 + body.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(0x2, 6);
  out.writeUInt32LE(7, 8);
  out[16] = family;
  body.copy(out, 20);
  return out;
}

function v4Tuple(type: number, src: string, dst: string, proto: number, sport: number, dport: number): Buffer {
  return nest(
    type,
    nest(1, ip4(1, src), ip4(2, dst)),
    nest(2, u8(1, proto), be16(2, sport), be16(3, dport)),
  );
}

function parse(msg: Buffer): NetlinkEntryView {
  const view = new NetlinkEntryView();
  parseConntrackMessage(msg, dataViewOf(msg), 0, msg.length, view);
  return view;
}

function expectError(msg: Buffer, code: string): ConntrackError {
  const view = new NetlinkEntryView();
  try {
    parseConntrackMessage(msg, dataViewOf(msg), 0, msg.length, view);
  } catch (err) {
    assert.ok(err instanceof ConntrackError, `expected ConntrackError, got ${String(err)}`);
    assert.equal(err.code, code);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('parseConntrackMessage', () => {
  it('parses a TCP IPv4 entry with every attribute', () => {
    const labels = Buffer.alloc(16);
    labels[0] = 0x08;
    labels[15] = 0x80;
    const msg = message(2, [
      v4Tuple(1, '10.244.1.10', '10.96.0.10', 6, 40001, 80),
      v4Tuple(2, '10.244.2.10', '10.244.1.10', 6, 8080, 40001),
      be32(3, 0x20e),
      nest(4, nest(1, u8(1, 3), u8(2, 7), u8(3, 7))),
      be32(7, 431999),
      be32(8, 0x2a),
      nest(9, be64(1, 4n), be64(2, 231n)),
      nest(10, be64(1, 3n), be64(2, 0x1_0000_0000_0001n)),
      be32(11, 1),
      be32(12, 3277002956),
      be16(18, 65520),
      nest(20, be64(1, 1795623311795006596n), be64(2, 1795623399000000001n)),
      attr(22, labels),
      attr(99, Buffer.from('unknown attribute is skipped')),
    ]);
    const v = parse(msg);
    assert.equal(v.family, 'ipv4');
    assert.equal(v.protocol, 6);
    assert.equal(v.address(AddressSlot.OrigSrc), '10.244.1.10');
    assert.equal(v.address(AddressSlot.OrigDst), '10.96.0.10');
    assert.equal(v.address(AddressSlot.ReplySrc), '10.244.2.10');
    assert.equal(v.address(AddressSlot.ReplyDst), '10.244.1.10');
    assert.equal(v.ipv4(AddressSlot.OrigSrc), (10 << 24) | (244 << 16) | (1 << 8) | 10);
    assert.equal(v.origSrcPort, 40001);
    assert.equal(v.origDstPort, 80);
    assert.equal(v.replySrcPort, 8080);
    assert.equal(v.replyDstPort, 40001);
    assert.equal(v.tcpStateCode, 3);
    assert.equal(v.tcpState, 'ESTABLISHED');
    assert.equal(v.status, 0x20e);
    assert.equal(isDying(v), true);
    assert.equal(v.timeout, 431999);
    assert.equal(v.mark, 42);
    assert.equal(v.id, 3277002956);
    assert.equal(v.zone, 65520);
    assert.equal(v.origPackets, 4n);
    assert.equal(v.origBytes, 231n);
    assert.equal(v.replyPackets, 3n);
    assert.equal(v.replyBytes, 0x1_0000_0000_0001n);
    assert.equal(v.startTime, 1795623311795006596n);
    assert.equal(v.stopTime, 1795623399000000001n);
    assert.deepEqual(v.labels(), labels);

    const e = v.toEntry();
    assert.deepEqual(e.original, {
      src: '10.244.1.10',
      dst: '10.96.0.10',
      protocol: 6,
      srcPort: 40001,
      dstPort: 80,
      icmpId: 0,
      icmpType: 0,
      icmpCode: 0,
    });
    assert.equal(e.reply.src, '10.244.2.10');
    assert.equal(e.reply.srcPort, 8080);
  });

  it('parses an IPv6 UDP entry with 32-bit counters and no optional attributes', () => {
    const a = '20010db8000000000000000000000001';
    const b = 'fd000244000200000000000000000010';
    const msg = message(10, [
      nest(1, nest(1, ip6(3, a), ip6(4, b)), nest(2, u8(1, 17), be16(2, 5353), be16(3, 53))),
      nest(2, nest(1, ip6(3, b), ip6(4, a)), nest(2, u8(1, 17), be16(2, 53), be16(3, 5353))),
      nest(9, be32(3, 2), be32(4, 100)),
      nest(10, be32(3, 1), be32(4, 50)),
    ]);
    const v = parse(msg);
    assert.equal(v.family, 'ipv6');
    assert.equal(v.address(AddressSlot.OrigSrc), '2001:db8::1');
    assert.equal(v.address(AddressSlot.OrigDst), 'fd00:244:2::10');
    assert.equal(v.ipv4(AddressSlot.OrigSrc), 0);
    const bytes = new Uint8Array(16);
    assert.equal(v.copyAddress(AddressSlot.ReplySrc, bytes), 16);
    assert.deepEqual(Buffer.from(bytes).toString('hex'), b);
    assert.equal(v.origPackets, 2n);
    assert.equal(v.origBytes, 100n);
    assert.equal(v.replyPackets, 1n);
    assert.equal(v.replyBytes, 50n);
    assert.equal(v.tcpState, '');
    assert.equal(v.tcpStateCode, -1);
    assert.equal(v.labels(), null);
    assert.equal(v.startTime, 0n);
    assert.equal(v.zone, 0);
  });

  it('parses ICMP id/type/code of both directions', () => {
    const msg = message(2, [
      nest(1, nest(1, ip4(1, '10.0.0.1'), ip4(2, '10.0.0.2')), nest(2, u8(1, 1), be16(4, 4242), u8(5, 8), u8(6, 0))),
      nest(2, nest(1, ip4(1, '10.0.0.2'), ip4(2, '10.0.0.1')), nest(2, u8(1, 1), be16(4, 4242), u8(5, 0), u8(6, 0))),
    ]);
    const e = parse(msg).toEntry();
    assert.equal(e.original.icmpId, 4242);
    assert.equal(e.original.icmpType, 8);
    assert.equal(e.reply.icmpType, 0);
    assert.equal(e.original.srcPort, 0);
  });

  it('reuses the view: fields of a previous message never leak into the next', () => {
    const view = new NetlinkEntryView();
    const first = message(2, [v4Tuple(1, '1.1.1.1', '2.2.2.2', 6, 1, 2), be32(8, 5), be16(18, 9)]);
    const second = message(2, [v4Tuple(1, '3.3.3.3', '4.4.4.4', 17, 3, 4)]);
    parseConntrackMessage(first, dataViewOf(first), 0, first.length, view);
    parseConntrackMessage(second, dataViewOf(second), 0, second.length, view);
    assert.equal(view.mark, 0);
    assert.equal(view.zone, 0);
    assert.equal(view.address(AddressSlot.OrigSrc), '3.3.3.3');
    assert.equal(view.address(AddressSlot.ReplySrc), '');
  });

  it('maps every kernel TCP state to its upstream name', () => {
    const names = ['NONE', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'SYN_SENT2'];
    names.forEach((name, state) => {
      const v = parse(message(2, [v4Tuple(1, '1.1.1.1', '2.2.2.2', 6, 1, 2), nest(4, nest(1, u8(1, state)))]));
      assert.equal(v.tcpState, name);
    });
    const out = parse(message(2, [v4Tuple(1, '1.1.1.1', '2.2.2.2', 6, 1, 2), nest(4, nest(1, u8(1, 10)))]));
    assert.equal(out.tcpState, '');
  });

  it('rejects malformed messages with typed errors carrying the offset', () => {
    const ok = message(2, [v4Tuple(1, '1.1.1.1', '2.2.2.2', 6, 1, 2)]);
    // attribute length overruns the message
    const overrun = Buffer.from(ok);
    overrun.writeUInt16LE(200, 20);
    const err = expectError(overrun, 'CT_ATTR_TRUNCATED');
    assert.equal(err.context.offset, 20);
    // attribute shorter than its header
    const tiny = Buffer.from(ok);
    tiny.writeUInt16LE(2, 20);
    expectError(tiny, 'CT_ATTR_TRUNCATED');
    // a 2-byte CTA_STATUS
    expectError(message(2, [v4Tuple(1, '1.1.1.1', '2.2.2.2', 6, 1, 2), be16(3, 1)]), 'CT_ATTR_LENGTH');
    // IPv6 address in an IPv4 entry
    expectError(message(2, [nest(1, nest(1, ip6(3, '00'.repeat(16)), ip4(2, '1.1.1.1')))]), 'CT_ADDRESS_FAMILY');
    // no original tuple
    expectError(message(2, [be32(8, 1)]), 'CT_NO_TUPLE');
    // unknown family
    expectError(message(7, []), 'CT_FAMILY');
    // shorter than nlmsghdr + nfgenmsg
    expectError(ok.subarray(0, 18), 'CT_MESSAGE_TRUNCATED');
  });
});

// --- bytes captured from a real dump (see test/e2e/netns/capture-conntrack-fixtures.ts) ---------

const FIXTURES = new URL('./fixtures/', import.meta.url);

function fixtureEntries(): ConntrackEntry[] {
  const entries: ConntrackEntry[] = [];
  const view = new NetlinkEntryView();
  let done = 0;
  for (const line of readFileSync(new URL('node1-dump.hex', FIXTURES), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const buf = Buffer.from(line.trim(), 'hex');
    const dv = dataViewOf(buf);
    for (let off = 0; off < buf.length; ) {
      const len = nlmsgLength(buf, off);
      const type = buf.readUInt16LE(off + 4);
      if (type === 0x100) {
        parseConntrackMessage(buf, dv, off, len, view);
        entries.push(view.toEntry());
      } else if (type === 3) done++;
      off += (len + 3) & ~3;
    }
  }
  assert.equal(done, 1, 'the capture ends with one NLMSG_DONE');
  return entries;
}

/** `conntrack -L -o extended,id` lines: the independent reference for the same table. */
function extendedLines(): Array<{ words: string[]; orig: Record<string, string>; reply: Record<string, string>; extra: Record<string, string>; state: string }> {
  const out = [];
  for (const raw of readFileSync(new URL('node1-extended.txt', FIXTURES), 'utf8').split('\n')) {
    const words = raw.trim().split(/\s+/);
    if (words.length < 6) continue;
    const orig: Record<string, string> = {};
    const reply: Record<string, string> = {};
    const extra: Record<string, string> = {};
    let state = '';
    let target = orig;
    for (const w of words.slice(5)) {
      const eq = w.indexOf('=');
      if (eq < 0) {
        if (!w.startsWith('[') && Object.keys(orig).length === 0) state = w;
        continue;
      }
      const [k, v] = [w.slice(0, eq), w.slice(eq + 1)];
      if (k === 'src' && target === orig && 'src' in orig) target = reply;
      if (!['src', 'dst', 'sport', 'dport', 'type', 'code', 'id', 'packets', 'bytes'].includes(k)) target = extra;
      target[k] = v;
    }
    out.push({ words, orig, reply, extra, state });
  }
  return out;
}

describe('captured dump fixture', () => {
  const entries = fixtureEntries();
  const lines = extendedLines();

  it('holds the same entries as conntrack -L -o extended of the same table', () => {
    assert.equal(entries.length, lines.length);
    for (const line of lines) {
      const e = entries.find((x) => String(x.id) === line.extra.id);
      assert.ok(e, `entry id ${line.extra.id} present`);
      assert.equal(e.original.src, line.orig.src);
      assert.equal(e.original.dst, line.orig.dst);
      assert.equal(e.reply.src, line.reply.src);
      assert.equal(e.reply.dst, line.reply.dst);
      assert.equal(e.original.protocol, Number(line.words[3]));
      if (line.orig.sport !== undefined) {
        assert.equal(e.original.srcPort, Number(line.orig.sport));
        assert.equal(e.original.dstPort, Number(line.orig.dport));
        assert.equal(e.reply.srcPort, Number(line.reply.sport));
        assert.equal(e.reply.dstPort, Number(line.reply.dport));
      } else {
        assert.equal(e.original.icmpType, Number(line.orig.type));
        assert.equal(e.original.icmpCode, Number(line.orig.code));
        assert.equal(e.original.icmpId, Number(line.orig.id));
        assert.equal(e.reply.icmpType, Number(line.reply.type));
      }
      assert.equal(e.origPackets, BigInt(line.orig.packets));
      assert.equal(e.origBytes, BigInt(line.orig.bytes));
      assert.equal(e.replyPackets, BigInt(line.reply.packets));
      assert.equal(e.replyBytes, BigInt(line.reply.bytes));
      assert.equal(e.mark, Number(line.extra.mark));
      assert.equal(e.zone, Number(line.extra.zone ?? 0));
      assert.equal(e.tcpState, e.original.protocol === 6 ? line.state : '');
      assert.ok(Math.abs(e.timeout - Number(line.words[4])) <= 2, 'timeout within 2 s');
      assert.ok(e.startTime > 1_700_000_000n * 1_000_000_000n, 'start timestamp in ns since the epoch');
      assert.equal(e.stopTime, 0n);
    }
  });

  it('shows the DNAT in the reply tuple, the ct label, the IPv6 and zone entries', () => {
    const dnat = entries.find((e) => e.original.dst === '10.96.0.10');
    assert.ok(dnat);
    assert.equal(dnat.original.dstPort, 80);
    assert.equal(dnat.reply.src, '10.244.2.10');
    assert.equal(dnat.reply.srcPort, 8080);
    const labelled = entries.find((e) => e.original.dstPort === 7000);
    assert.ok(labelled?.labels);
    assert.equal(labelled.labels.length, 16);
    assert.equal(labelled.labels[0], 0x08, 'label bit 3');
    assert.equal(labelled.mark, 0x2a);
    assert.ok(entries.some((e) => e.family === 'ipv6' && e.original.protocol === 58));
    assert.ok(entries.some((e) => e.zone === 7 && e.original.dstPort === 7777));
  });
});
