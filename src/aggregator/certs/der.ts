/**
 * Minimal DER (ITU-T X.690) writer and reader: just what X.509 certificates need.
 *
 *   TLV    := tag(1 byte) length value
 *   length := 0x00..0x7f                      short form, the length itself
 *           | 0x80+n, n big-endian bytes      long form (n = 1..4 here), minimal
 *   INTEGER: two's complement, big-endian, minimal (a leading 0x00 only before a byte >= 0x80)
 *   OBJECT IDENTIFIER: 40*arc1+arc2, then each arc in base 128, high bit set on all but the last byte
 *   BIT STRING: one byte of unused trailing bits, then the bits
 *   UTCTime "YYMMDDHHMMSSZ" for 1950..2049, else GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 5280 §4.1.2.5)
 */
import { TransportError } from '../../errors.ts';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

// ---- writer ----

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(value.length), value]);
}

export function sequence(...items: readonly Uint8Array[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(items));
}

/** A SET OF in DER order (elements sorted by their encodings). */
export function setOf(...items: readonly Uint8Array[]): Buffer {
  const sorted = [...items].sort((a, b) => Buffer.compare(a, b));
  return tlv(TAG.SET, Buffer.concat(sorted));
}

/** A non-negative INTEGER from its big-endian magnitude. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.subarray(i);
  const body = trimmed.length === 0 ? Buffer.from([0]) : (trimmed[0] & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : Buffer.from(trimmed);
  return tlv(TAG.INTEGER, body);
}

export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`smallInteger: ${n}`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return unsignedInteger(b);
}

export function boolean(v: boolean): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.from([v ? 0xff : 0x00]));
}

export function objectIdentifier(dotted: string): Buffer {
  const arcs = dotted.split('.').map((s) => Number(s));
  if (arcs.length < 2 || arcs.some((a) => !Number.isInteger(a) || a < 0)) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [];
  const push = (v: number): void => {
    const groups: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) groups.unshift((x & 0x7f) | 0x80);
    out.push(...groups);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (const a of arcs.slice(2)) push(a);
  return tlv(TAG.OID, Buffer.from(out));
}

export function bitString(bits: Uint8Array, unusedBits = 0): Buffer {
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bits]));
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

export function utf8String(s: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
}

const two = (n: number): string => String(n).padStart(2, '0');

/** UTCTime for 1950..2049, GeneralizedTime otherwise; whole seconds (RFC 5280 §4.1.2.5). */
export function time(ms: number): Buffer {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const y = d.getUTCFullYear();
  const rest = two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes()) + two(d.getUTCSeconds()) + 'Z';
  if (y >= 1950 && y < 2050) return tlv(TAG.UTC_TIME, Buffer.from(two(y % 100) + rest, 'ascii'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(String(y).padStart(4, '0') + rest, 'ascii'));
}

/** [n] EXPLICIT: a constructed context-specific tag around a complete encoding. */
export function explicit(n: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | n, inner);
}

/** [n] IMPLICIT on a primitive type: the value bytes under a context-specific tag. */
export function implicitPrimitive(n: number, value: Uint8Array): Buffer {
  return tlv(0x80 | n, value);
}

// ---- reader ----

/** One TLV inside `buf`: the value is buf[start, end). */
export interface DerNode {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly offset: number;
  readonly start: number;
  readonly end: number;
  readonly buf: Buffer;
}

function malformed(what: string, offset: number): TransportError {
  return new TransportError('BAD_CERTIFICATE', `malformed DER: ${what} at offset ${offset}`, { offset });
}

export function readNode(buf: Buffer, offset: number, limit = buf.length): DerNode {
  if (offset + 2 > limit) throw malformed('truncated header', offset);
  const tag = buf[offset];
  let len = buf[offset + 1];
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw malformed('bad length', offset);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  if (start + len > limit) throw malformed(`value of ${len} bytes runs past the end`, offset);
  return { tag, offset, start, end: start + len, buf };
}

export function value(node: DerNode): Buffer {
  return node.buf.subarray(node.start, node.end);
}

/** The whole encoding (tag, length and value) of a node. */
export function encoding(node: DerNode): Buffer {
  return node.buf.subarray(node.offset, node.end);
}

export function childrenOf(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  for (let p = node.start; p < node.end;) {
    const child = readNode(node.buf, p, node.end);
    out.push(child);
    p = child.end;
  }
  return out;
}

export function expectTag(node: DerNode, tag: number, what: string): DerNode {
  if (node.tag !== tag) throw malformed(`${what}: tag 0x${node.tag.toString(16)}, expected 0x${tag.toString(16)}`, node.offset);
  return node;
}

export function readObjectIdentifier(node: DerNode): string {
  const v = value(expectTag(node, TAG.OID, 'OBJECT IDENTIFIER'));
  const arcs: number[] = [];
  let acc = 0;
  for (const byte of v) {
    acc = acc * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(acc < 80 ? Math.floor(acc / 40) : 2, acc < 80 ? acc % 40 : acc - 80);
      else arcs.push(acc);
      acc = 0;
    }
  }
  return arcs.join('.');
}

/** UTCTime or GeneralizedTime "…Z" → ms since the epoch. */
export function readTime(node: DerNode): number {
  const s = value(node).toString('ascii');
  let full: string;
  if (node.tag === TAG.UTC_TIME && /^\d{12}Z$/.test(s)) {
    const yy = Number(s.slice(0, 2));
    full = String(yy >= 50 ? 1900 + yy : 2000 + yy) + s.slice(2);
  } else if (node.tag === TAG.GENERALIZED_TIME && /^\d{14}Z$/.test(s)) {
    full = s;
  } else {
    throw malformed(`bad time "${s}"`, node.offset);
  }
  const n = (a: number, b: number): number => Number(full.slice(a, b));
  return Date.UTC(n(0, 4), n(4, 6) - 1, n(6, 8), n(8, 10), n(10, 12), n(12, 14));
}
