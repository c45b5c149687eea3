/**
 * Fuzzing of the netlink parsers (ctnetlink dump messages, NFLOG packets) and of the conntrack XML
 * parser with deterministic mutations of real and built messages: the parsers may only fail with
 * a ConntrackError, and must finish quickly.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConntrackError } from '../errors.ts';
import { dataViewOf, NetlinkEntryView, parseConntrackMessage } from './ct-parser.ts';
import { nlmsgLength } from './netlink-socket.ts';
import { parseNflogMessage } from './nflog-parser.ts';
import { ConntrackXmlStream } from './xml-parser.ts';
import { mulberry32 } from '../testing/random.ts';

function mutate(seed: Buffer, rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  let b = Buffer.from(seed);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    switch (int(7)) {
      case 0: // bit flips
        for (let i = 0, n = 1 + int(4); i < n && b.length > 0; i++) b[int(b.length)] ^= 1 << int(8);
        break;
      case 1: // interesting byte values
        if (b.length > 0) b[int(b.length)] = [0, 0xff, 0x7f, 0x80, 1, 4][int(6)];
        break;
      case 2: // corrupt a (likely) length field on a 4-byte boundary
        if (b.length >= 4) b.writeUInt16LE(int(0x10000), int(b.length >> 2) << 2);
        break;
      case 3: // truncate
        b = b.subarray(0, int(b.length + 1));
        break;
      case 4: // insert random bytes
        {
          const at = int(b.length + 1);
          const ins = Buffer.from(Array.from({ length: 1 + int(12) }, () => int(256)));
          b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        }
        break;
      case 5: // rewrite the nlmsghdr length
        if (b.length >= 4) b.writeUInt32LE(int(b.length + 64), 0);
        break;
      default: // duplicate a slice (nested attribute confusion)
        {
          const from = int(b.length + 1);
          const to = Math.min(b.length, from + int(32));
          b = Buffer.concat([b, b.subarray(from, to)]);
        }
        break;
    }
  }
  return b;
}

const view = new NetlinkEntryView();

/** Frames a datagram and parses every message the way the sources do. Returns parsed count. */
function parseDatagram(buf: Buffer): number {
  const dv = dataViewOf(buf);
  let parsed = 0;
  for (let off = 0; off < buf.length; ) {
    const len = nlmsgLength(buf, off);
    const type = buf.readUInt16LE(off + 4);
    if (type === 0x100 || type === 0x102) {
      parseConntrackMessage(buf, dv, off, len, view);
      view.toEntry();
      parsed++;
    } else if (type === 0x400) {
      parseNflogMessage(buf, off, len, 0n);
      parsed++;
    }
    off += (len + 3) & ~3;
  }
  return parsed;
}

function run(seeds: Buffer[], iterations: number, seed: number): { ok: number; rejected: number } {
  const rnd = mulberry32(seed);
  let ok = 0;
  let rejected = 0;
  for (let i = 0; i < iterations; i++) {
    const input = mutate(seeds[i % seeds.length], rnd);
    try {
      parseDatagram(input);
      ok++;
    } catch (err) {
      if (!(err instanceof ConntrackError)) {
        assert.fail(`iteration ${i}: non-typed error ${String(err)} for input ${input.toString('hex')}`);
      }
      rejected++;
    }
  }
  return { ok, rejected };
}

function ctSeeds(): Buffer[] {
  const seeds: Buffer[] = [];
  const text = readFileSync(new URL('./fixtures/node1-dump.hex', import.meta.url), 'utf8');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const buf = Buffer.from(line.trim(), 'hex');
    seeds.push(buf);
    for (let off = 0; off < buf.length; ) {
      const len = nlmsgLength(buf, off);
      seeds.push(buf.subarray(off, off + len));
      off += (len + 3) & ~3;
    }
  }
  return seeds;
}

function nflogSeed(payload: Buffer, prefix: string): Buffer {
  const attr = (type: number, p: Buffer): Buffer => {
    const out = Buffer.alloc((4 + p.length + 3) & ~3);
    out.writeUInt16LE(4 + p.length, 0);
    out.writeUInt16LE(type, 2);
    p.copy(out, 4);
    return out;
  };
  const ts = Buffer.alloc(16);
  ts.writeBigUInt64BE(1795623311n, 0);
  const body = Buffer.concat([
    attr(1, Buffer.from([0x08, 0x00, 2, 0])),
    attr(3, ts),
    attr(4, Buffer.from([0, 0, 0, 3])),
    attr(10, Buffer.from(`${prefix}\0`)),
    attr(9, payload),
  ]);
  const msg = Buffer.alloc(20 + body.length);
  msg.writeUInt32LE(msg.length, 0);
  msg.writeUInt16LE(0x400, 4);
  msg[16] = 2;
  msg.writeUInt16BE(5, 18);
  body.copy(msg, 20);
  return msg;
}

function nflogSeeds(): Buffer[] {
  const v4 = Buffer.alloc(40);
  v4[0] = 0x45;
  v4.writeUInt16BE(60, 2);
  v4[9] = 6;
  v4.set([10, 244, 1, 10, 10, 244, 2, 10], 12);
  v4.writeUInt16BE(40100, 20);
  v4.writeUInt16BE(9999, 22);
  const v6 = Buffer.alloc(56);
  v6[0] = 0x60;
  v6.writeUInt16BE(16, 4);
  v6[6] = 0; // hop-by-hop, then UDP
  v6[8] = 0xfd;
  v6[24] = 0xfd;
  v6[40] = 17;
  v6.writeUInt16BE(53, 48);
  return [nflogSeed(v4, 'DROP9999 '), nflogSeed(v6, 'v6 ')];
}

describe('parser fuzzing', () => {
  it('ctnetlink: 24,000 mutated dump datagrams and messages give only typed errors', () => {
    const started = Date.now();
    const { ok, rejected } = run(ctSeeds(), 24_000, 0xc0ffee);
    assert.ok(ok > 1000, `some mutations still parse (${ok})`);
    assert.ok(rejected > 1000, `many mutations are rejected (${rejected})`);
    assert.ok(Date.now() - started < 20_000, 'no pathological slowness');
  });

  it('NFLOG: 8,000 mutated packet messages give only typed errors', () => {
    const { ok, rejected } = run(nflogSeeds(), 8_000, 0xbeef);
    assert.ok(ok > 500 && rejected > 500, `ok ${ok} rejected ${rejected}`);
  });

  it('conntrack XML: 3,000 mutated documents give only typed errors', () => {
    const xml = readFileSync(new URL('./fixtures/node1-xml.xml', import.meta.url));
    const rnd = mulberry32(7);
    let flows = 0;
    let malformed = 0;
    for (let i = 0; i < 3000; i++) {
      const input = mutate(xml, rnd).toString('latin1');
      const stream = new ConntrackXmlStream(
        () => flows++,
        (err) => {
          assert.ok(err instanceof ConntrackError);
          malformed++;
        },
        () => 1795623400,
      );
      // feed in two chunks to exercise the splitter
      const cut = Math.floor(rnd() * input.length);
      stream.push(input.slice(0, cut));
      stream.push(input.slice(cut));
      stream.end();
    }
    assert.ok(flows > 1000 && malformed > 0, `flows ${flows} malformed ${malformed}`);
  });
});
