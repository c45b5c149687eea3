/**
 * Per-template record encoders and decoders, compiled once per template into straight-line code.
 *
 * Record layout (RFC 7011 §3.4.3 / §7): the fields of the template in order; a fixed-length field
 * takes its template length; a variable-length field (template length 65535) is
 *     length < 255:  | len (1) | value (len) |
 *     otherwise:     | 255 (1) | len (2, big endian) | value (len) |
 * Integers may be sent in fewer octets than their type (reduced-size encoding, §6.2), float64 as
 * float32. Decoding checks bounds once per run of fixed-length fields and for every variable-length
 * field, so no input can read outside the record's set.
 */
import { IpfixError } from '../errors.ts';
import { VARIABLE_LENGTH } from './constants.ts';
import type { FieldValue } from './data-types.ts';
import { formatIPv4, formatIPv6, formatMac, writeIPv4, writeIPv6, writeMac } from './addresses.ts';
import type { TemplateField } from './template.ts';

/** Reads one record at `cursor.p` (never past `end`), advances `cursor.p`, returns the values in template order. */
export type RecordDecoder = (b: Buffer, cursor: { p: number }, end: number) => FieldValue[];
/** Writes one record at `p`, returns the offset after it; throws BufferFull when `b` has no room. */
export type RecordEncoder = (values: readonly (FieldValue | undefined)[], b: Buffer, p: number) => number;

/** Thrown by encoders when the output buffer lacks room; the caller flushes or grows and retries. */
export class BufferFull extends Error {
  constructor() {
    super('IPFIX output buffer full');
  }
}
const FULL = new BufferFull();

const NTP_UNIX_OFFSET = 2208988800n;
const TWO32 = 4294967296;

// ---------------------------------------------------------------------------------------------
// Runtime helpers the compiled code calls.

/**
 * Counter values below 65536 (zero deltas, most packet counts) are shared instead of allocated:
 * made on first use, 1.5 MB when all are.
 */
const SMALL_BIGINT_LIMIT = 65536;
const smallBigints: (bigint | undefined)[] = new Array<bigint | undefined>(SMALL_BIGINT_LIMIT).fill(undefined);

function smallBigint(v: number): bigint {
  const cached = smallBigints[v];
  if (cached !== undefined) return cached;
  const made = BigInt(v);
  smallBigints[v] = made;
  return made;
}

function u64(b: Buffer, p: number): bigint {
  const hi = b[p] * 16777216 + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
  // As a signed 32-bit integer: V8 makes a bigint from an int32 about twice as fast as from a double.
  const lo = (b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7];
  if (hi === 0 && lo >= 0) return lo < SMALL_BIGINT_LIMIT ? smallBigint(lo) : BigInt(lo);
  const ulo = lo >>> 0;
  return hi < 0x200000 ? BigInt(hi * TWO32 + ulo) : (BigInt(hi) << 32n) | BigInt(ulo);
}

/** Unsigned big-endian integer of n ≤ 8 octets as bigint. */
function ubig(b: Buffer, p: number, n: number): bigint {
  if (n <= 6) {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[p + i];
    return BigInt(v);
  }
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[p + i]);
  return v;
}

/** Unsigned big-endian integer of n ≤ 4 octets as number. */
function unum(b: Buffer, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + b[p + i];
  return v;
}

/** NTP timestamp (RFC 7011 §6.1.9/§6.1.10) as nanoseconds since the Unix epoch. */
function ntp(b: Buffer, p: number, micro: boolean): bigint {
  const sec = BigInt(b.readUInt32BE(p));
  const frac = b.readUInt32BE(p + 4);
  if (micro) {
    // The 11 low bits carry no information for microseconds (RFC 7011 §6.1.9): round to whole µs.
    const us = (BigInt((frac & ~0x7ff) >>> 0) * 1_000_000n + 2147483648n) / 4294967296n;
    return (sec - NTP_UNIX_OFFSET) * 1_000_000_000n + us * 1000n;
  }
  return (sec - NTP_UNIX_OFFSET) * 1_000_000_000n + (BigInt(frac) * 1_000_000_000n) / 4294967296n;
}

// Names (Pods, namespaces, Nodes, policies) and addresses repeat endlessly in flow records:
// decoding goes through small intern tables, which saves the string construction and shares one
// string per distinct value across records.
const INTERN_SLOTS = 8192;
const INTERN_MAX_LENGTH = 64;
/**
 * Slot i holds the octets of its string at i * INTERN_MAX_LENGTH in the arena, its length (-1: an
 * empty slot) and the string. Octets are compared four at a time through DataViews.
 */
const internArena = new Uint8Array(INTERN_SLOTS * INTERN_MAX_LENGTH);
const internArenaView = new DataView(internArena.buffer);
const internLengths = new Int32Array(INTERN_SLOTS).fill(-1);
const internStrings: string[] = new Array<string>(INTERN_SLOTS).fill('');
/** A DataView of the buffer str() last read (decoding reads one message buffer at a time). */
let viewedBuffer: Buffer | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/** UTF-8 string of b[p, p + n), interned when short. */
function str(b: Buffer, p: number, n: number): string {
  if (n > INTERN_MAX_LENGTH) return b.utf8Slice(p, p + n);
  if (b !== viewedBuffer) {
    viewedBuffer = b;
    view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  // Hash a sample (the first and last four octets, where names differ most, and a middle one);
  // equality is then checked on every octet, so a collision costs a decode, never a wrong string.
  const e = p + n - 1;
  let h: number;
  if (n >= 4) {
    h = Math.imul(view.getInt32(p) ^ n, 0x01000193);
    h = Math.imul(h ^ view.getInt32(e - 3), 0x01000193);
    h = Math.imul(h ^ b[p + (n >> 1)], 0x01000193);
  } else {
    h = Math.imul(n ^ b[p], 0x01000193);
    h = Math.imul(h ^ b[e], 0x01000193);
    h = Math.imul(h ^ b[p + (n >> 1)], 0x01000193);
  }
  const slot = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
  const base = slot * INTERN_MAX_LENGTH;
  if (internLengths[slot] === n) {
    if (n >= 4) {
      // Whole words, then the last four octets (overlapping the words when n is not a multiple of 4).
      let i = 0;
      const last = n - 4;
      while (i < last && internArenaView.getInt32(base + i) === view.getInt32(p + i)) i += 4;
      if (i >= last && internArenaView.getInt32(base + last) === view.getInt32(p + last)) return internStrings[slot];
    } else {
      let i = 0;
      while (i < n && internArena[base + i] === b[p + i]) i++;
      if (i === n) return internStrings[slot];
    }
  }
  const v = b.utf8Slice(p, p + n);
  internArena.set(b.subarray(p, p + n), base);
  internLengths[slot] = n;
  internStrings[slot] = v;
  return v;
}

// IPv4 addresses repeat as much: a direct-mapped cache of their text, by the address's value.
const IPV4_SLOTS = 1 << 14;
const ipv4Keys = new Int32Array(IPV4_SLOTS);
const ipv4Strings: (string | undefined)[] = new Array<string | undefined>(IPV4_SLOTS).fill(undefined);

function ipv4(b: Buffer, p: number): string {
  const key = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  const slot = Math.imul(key, 0x9e3779b1) >>> 18;
  const cached = ipv4Strings[slot];
  if (cached !== undefined && ipv4Keys[slot] === key) return cached;
  const s = formatIPv4(b, p);
  ipv4Keys[slot] = key;
  ipv4Strings[slot] = s;
  return s;
}

function fixedString(b: Buffer, p: number, end: number): string {
  let e = end;
  while (e > p && b[e - 1] === 0) e--;
  return str(b, p, e - p);
}

function octets(b: Buffer, p: number, end: number): Uint8Array {
  return Buffer.from(b.subarray(p, end));
}

function short(p: number, need: number, end: number): never {
  throw new IpfixError('RECORD_TRUNCATED', `record needs ${need} more octets at offset ${p} but the set ends at ${end}`, { offset: p, need, end });
}

function varBeyond(p: number, n: number, end: number): never {
  throw new IpfixError('VARIABLE_LENGTH_BEYOND_SET', `variable-length field of ${n} octets at offset ${p} runs past the set end ${end}`, { offset: p, length: n, end });
}

function badValue(k: number, name: string, value: unknown): never {
  throw new IpfixError('BAD_VALUE', `cannot encode ${typeof value} ${String(value)} as field ${k} (${name})`, { field: k, name });
}

function toNumber(x: unknown, k: number, name: string): number {
  if (x === undefined || x === null) return 0;
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') return Number(x);
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'string' && x.trim() !== '' && !Number.isNaN(Number(x))) return Number(x);
  return badValue(k, name, x);
}

function toBigInt(x: unknown, k: number, name: string): bigint {
  if (typeof x === 'bigint') return x;
  if (x === undefined || x === null) return 0n;
  if (typeof x === 'number' && Number.isInteger(x)) return BigInt(x);
  if (typeof x === 'string' && /^-?\d+$/.test(x.trim())) return BigInt(x.trim());
  return badValue(k, name, x);
}

function w64(b: Buffer, p: number, x: unknown, k: number, name: string): void {
  // Number() of a bigint is exact up to 2^53 - 1 and ≥ 2^53 (or negative) beyond, so one
  // conversion tells whether the fast path applies.
  const n = typeof x === 'bigint' || typeof x === 'number' ? Number(x) : NaN;
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER)) {
    b.writeBigUInt64BE(BigInt.asUintN(64, typeof x === 'bigint' ? x : toBigInt(x, k, name)), p);
    return;
  }
  const hi = Math.floor(n / TWO32);
  const lo = n >>> 0;
  b[p] = hi >>> 24; b[p + 1] = hi >>> 16; b[p + 2] = hi >>> 8; b[p + 3] = hi;
  b[p + 4] = lo >>> 24; b[p + 5] = lo >>> 16; b[p + 6] = lo >>> 8; b[p + 7] = lo;
}

function wbig(b: Buffer, p: number, n: number, x: unknown, k: number, name: string): void {
  let v = BigInt.asUintN(n * 8, toBigInt(x, k, name));
  for (let i = n - 1; i >= 0; i--) {
    b[p + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function wnum(b: Buffer, p: number, n: number, v: number): void {
  for (let i = n - 1; i >= 0; i--) {
    b[p + i] = v & 0xff;
    v = Math.floor(v / 256);
  }
}

function wntp(b: Buffer, p: number, x: unknown, k: number, name: string): void {
  const ns = toBigInt(x, k, name);
  const sec = ns / 1_000_000_000n + NTP_UNIX_OFFSET;
  // Rounded up: a decoder that truncates (as RFC 7011 readers do) then gets the nanosecond back.
  const frac = ((ns % 1_000_000_000n) * 4294967296n + 999_999_999n) / 1_000_000_000n;
  b.writeUInt32BE(Number(BigInt.asUintN(32, sec)), p);
  b.writeUInt32BE(Number(frac), p + 4);
}

function waddr(b: Buffer, p: number, x: unknown, size: 4 | 6 | 16, k: number, name: string): void {
  if (x === undefined || x === null || x === '') {
    b.fill(0, p, p + size);
    return;
  }
  if (typeof x === 'string') {
    const ok = size === 4 ? writeIPv4(x, b, p) : size === 16 ? writeIPv6(x, b, p) : writeMac(x, b, p);
    if (ok) return;
  } else if (x instanceof Uint8Array && x.length === size) {
    b.set(x, p);
    return;
  }
  badValue(k, name, x);
}

function toText(x: unknown): string {
  return typeof x === 'string' ? x : x === undefined || x === null ? '' : String(x);
}

function toOctets(x: unknown, k: number, name: string): Uint8Array {
  if (x instanceof Uint8Array) return x;
  if (x === undefined || x === null) return EMPTY;
  if (typeof x === 'string') return Buffer.from(x, 'utf8');
  return badValue(k, name, x);
}
const EMPTY = new Uint8Array(0);

// Encoded names are cached too: the UTF-8 octets of each short string sit in an append-only
// arena (cleared when full), found by a Map lookup that reuses the string's cached hash, and are
// copied four octets at a time.
const ENCODED_ARENA_BYTES = 1 << 20;
const encodedArena = new Uint8Array(ENCODED_ARENA_BYTES);
const encodedArenaView = new DataView(encodedArena.buffer);
let encodedArenaUsed = 0;
/** String → offset in the arena × 256 + octet count (at most 3 × INTERN_MAX_LENGTH < 256). */
const encodedStrings = new Map<string, number>();
/** A DataView of the buffer wvarString() last wrote. */
let writtenBuffer: Buffer | undefined;
let writeView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

/**
 * Writes a variable-length string with its length prefix; returns the new offset. `rest` is the
 * minimum size of the fields after this one, so that the whole record is known to fit.
 */
function wvarString(b: Buffer, p: number, s: string, rest: number): number {
  if (s.length === 0) {
    b[p] = 0;
    return p + 1;
  }
  if (s.length <= 84) {
    // At most 252 UTF-8 octets: a one-octet length always suffices.
    if (p + 1 + 3 * s.length + rest > b.length) throw FULL;
    if (s.length <= INTERN_MAX_LENGTH) {
      const cached = encodedStrings.get(s);
      if (cached !== undefined) {
        const n = cached & 0xff;
        const from = (cached - n) / 256;
        if (b !== writtenBuffer) {
          writtenBuffer = b;
          writeView = new DataView(b.buffer, b.byteOffset, b.byteLength);
        }
        b[p] = n;
        const to = p + 1;
        let i = 0;
        for (; i + 4 <= n; i += 4) writeView.setInt32(to + i, encodedArenaView.getInt32(from + i));
        for (; i < n; i++) b[to + i] = encodedArena[from + i];
        return to + n;
      }
      const n = b.utf8Write(s, p + 1);
      b[p] = n;
      if (encodedArenaUsed + n > ENCODED_ARENA_BYTES) {
        encodedStrings.clear();
        encodedArenaUsed = 0;
      }
      encodedArena.set(b.subarray(p + 1, p + 1 + n), encodedArenaUsed);
      encodedStrings.set(s, encodedArenaUsed * 256 + n);
      encodedArenaUsed += n;
      return p + 1 + n;
    }
    const n = b.utf8Write(s, p + 1);
    b[p] = n;
    return p + 1 + n;
  }
  const n = Buffer.byteLength(s, 'utf8');
  if (n > 65535) throw new IpfixError('VALUE_TOO_LONG', `string of ${n} octets exceeds the 65535-octet field limit`, { length: n });
  const head = n < 255 ? 1 : 3;
  if (p + head + n + rest > b.length) throw FULL;
  if (head === 1) b[p] = n;
  else { b[p] = 255; b[p + 1] = n >>> 8; b[p + 2] = n; }
  b.utf8Write(s, p + head, n);
  return p + head + n;
}

function wvarOctets(b: Buffer, p: number, v: Uint8Array, rest: number): number {
  const n = v.length;
  if (n > 65535) throw new IpfixError('VALUE_TOO_LONG', `octet array of ${n} octets exceeds the 65535-octet field limit`, { length: n });
  const head = n < 255 ? 1 : 3;
  if (p + head + n + rest > b.length) throw FULL;
  if (head === 1) b[p] = n;
  else { b[p] = 255; b[p + 1] = n >>> 8; b[p + 2] = n; }
  b.set(v, p + head);
  return p + head + n;
}

function wfixedString(b: Buffer, p: number, len: number, s: string): void {
  const n = b.utf8Write(s, p, len);
  b.fill(0, p + n, p + len);
}

function wfixedOctets(b: Buffer, p: number, len: number, v: Uint8Array): void {
  const n = Math.min(len, v.length);
  b.set(n === v.length ? v : v.subarray(0, n), p);
  b.fill(0, p + n, p + len);
}

const helpers = {
  u64, ubig, unum, ntp, str, ipv4, fixedString, octets, short, varBeyond, formatIPv4, formatIPv6, formatMac,
  toNumber, toBigInt, w64, wbig, wnum, wntp, waddr, toText, toOctets, wvarString, wvarOctets,
  wfixedString, wfixedOctets, FULL,
};
const helperNames = Object.keys(helpers);
const helperValues = Object.values(helpers);

// ---------------------------------------------------------------------------------------------
// Decoder generation.

function be(P: string, n: number): string {
  switch (n) {
    case 1: return `b[${P}]`;
    case 2: return `(b[${P}] << 8 | b[${P} + 1])`;
    case 3: return `(b[${P}] << 16 | b[${P} + 1] << 8 | b[${P} + 2])`;
    case 4: return `(b[${P}] * 16777216 + (b[${P} + 1] << 16 | b[${P} + 2] << 8 | b[${P} + 3]))`;
    default: return `unum(b, ${P}, ${n})`;
  }
}

function fixedDecodeExpr(f: TemplateField, P: string): string {
  const L = f.length;
  if (!f.known) return `octets(b, ${P}, ${P} + ${L})`;
  switch (f.ie.dataType) {
    case 'unsigned8': case 'unsigned16': case 'unsigned32': case 'dateTimeSeconds':
      return be(P, L);
    case 'unsigned64':
      return L === 8 ? `u64(b, ${P})` : `ubig(b, ${P}, ${L})`;
    case 'signed8': case 'signed16': case 'signed32':
      return L === 4 ? `(b[${P}] << 24 | b[${P} + 1] << 16 | b[${P} + 2] << 8 | b[${P} + 3])` : `(${be(P, L)} << ${32 - 8 * L} >> ${32 - 8 * L})`;
    case 'signed64':
      return L === 8 ? `b.readBigInt64BE(${P})` : `BigInt.asIntN(${8 * L}, ubig(b, ${P}, ${L}))`;
    case 'float32':
      return `b.readFloatBE(${P})`;
    case 'float64':
      return L === 8 ? `b.readDoubleBE(${P})` : `b.readFloatBE(${P})`;
    case 'boolean':
      return `(b[${P}] === 1)`;
    case 'macAddress':
      return `formatMac(b, ${P})`;
    case 'ipv4Address':
      return `ipv4(b, ${P})`;
    case 'ipv6Address':
      return `formatIPv6(b, ${P})`;
    case 'dateTimeMilliseconds':
      return `(${be(P, 4)} * 4294967296 + ${be(`${P} + 4`, 4)})`;
    case 'dateTimeMicroseconds':
      return `ntp(b, ${P}, true)`;
    case 'dateTimeNanoseconds':
      return `ntp(b, ${P}, false)`;
    case 'string':
      return `fixedString(b, ${P}, ${P} + ${L})`;
    default:
      return `octets(b, ${P}, ${P} + ${L})`;
  }
}

export function compileDecoder(fields: readonly TemplateField[]): RecordDecoder {
  const out: string[] = ['let p = c.p, n = 0;'];
  let i = 0;
  while (i < fields.length) {
    let seg = 0;
    let j = i;
    while (j < fields.length && fields[j].length !== VARIABLE_LENGTH) seg += fields[j++].length;
    if (seg > 0) {
      out.push(`if (p + ${seg} > end) short(p, ${seg}, end);`);
      let off = 0;
      for (let k = i; k < j; k++) {
        out.push(`const v${k} = ${fixedDecodeExpr(fields[k], off === 0 ? 'p' : `(p + ${off})`)};`);
        off += fields[k].length;
      }
      out.push(`p += ${seg};`);
    }
    if (j < fields.length) {
      const f = fields[j];
      out.push(
        'if (p >= end) short(p, 1, end);',
        'n = b[p++];',
        'if (n === 255) { if (p + 2 > end) short(p, 2, end); n = b[p] << 8 | b[p + 1]; p += 2; }',
        'if (p + n > end) varBeyond(p, n, end);',
        f.known && f.ie.dataType === 'string'
          ? `const v${j} = n === 0 ? '' : str(b, p, n);`
          : `const v${j} = octets(b, p, p + n);`,
        'p += n;',
      );
    }
    i = j + 1;
  }
  out.push(`c.p = p;`, `return [${fields.map((_, k) => `v${k}`).join(', ')}];`);
  const body = `return function decodeRecord(b, c, end) {\n${out.join('\n')}\n};`;
  return new Function(...helperNames, body)(...helperValues) as RecordDecoder;
}

// ---------------------------------------------------------------------------------------------
// Encoder generation.

function encodeStatement(f: TemplateField, k: number, rest: number): string {
  const L = f.length;
  const x = `v[${k}]`;
  const nm = JSON.stringify(f.ie.name);
  const num = `(typeof ${x} === 'number' ? ${x} : toNumber(${x}, ${k}, ${nm}))`;
  if (L === VARIABLE_LENGTH) {
    return f.known && f.ie.dataType === 'string'
      ? `p = wvarString(b, p, toText(${x}), ${rest});`
      : `p = wvarOctets(b, p, toOctets(${x}, ${k}, ${nm}), ${rest});`;
  }
  const type = f.known ? f.ie.dataType : 'octetArray';
  let s: string;
  switch (type) {
    case 'unsigned8': case 'unsigned16': case 'unsigned32': case 'dateTimeSeconds':
    case 'signed8': case 'signed16': case 'signed32':
      switch (L) {
        case 1: s = `b[p] = ${num};`; break;
        case 2: s = `x = ${num}; b[p] = x >>> 8; b[p + 1] = x;`; break;
        case 4: s = `x = ${num}; b[p] = x >>> 24; b[p + 1] = x >>> 16; b[p + 2] = x >>> 8; b[p + 3] = x;`; break;
        default: s = `wnum(b, p, ${L}, ${num} >>> 0);`;
      }
      break;
    case 'unsigned64':
      s = L === 8 ? `w64(b, p, ${x}, ${k}, ${nm});` : `wbig(b, p, ${L}, ${x}, ${k}, ${nm});`;
      break;
    case 'signed64':
      s = `wbig(b, p, ${L}, ${x}, ${k}, ${nm});`;
      break;
    case 'dateTimeMilliseconds':
      s = `w64(b, p, ${x}, ${k}, ${nm});`;
      break;
    case 'float32':
      s = `b.writeFloatBE(${num}, p);`;
      break;
    case 'float64':
      s = L === 8 ? `b.writeDoubleBE(${num}, p);` : `b.writeFloatBE(${num}, p);`;
      break;
    case 'boolean':
      s = `b[p] = ${x} ? 1 : 2;`;
      break;
    case 'macAddress':
      s = `waddr(b, p, ${x}, 6, ${k}, ${nm});`;
      break;
    case 'ipv4Address':
      s = `waddr(b, p, ${x}, 4, ${k}, ${nm});`;
      break;
    case 'ipv6Address':
      s = `waddr(b, p, ${x}, 16, ${k}, ${nm});`;
      break;
    case 'dateTimeMicroseconds': case 'dateTimeNanoseconds':
      s = `wntp(b, p, ${x}, ${k}, ${nm});`;
      break;
    case 'string':
      s = `wfixedString(b, p, ${L}, toText(${x}));`;
      break;
    default:
      s = `wfixedOctets(b, p, ${L}, toOctets(${x}, ${k}, ${nm}));`;
  }
  return `${s} p += ${L};`;
}

export function compileEncoder(fields: readonly TemplateField[]): RecordEncoder {
  // rest[k]: minimum octets of the fields after k (one length octet per variable-length field).
  const rest = new Array<number>(fields.length + 1).fill(0);
  for (let k = fields.length - 1; k >= 0; k--) {
    rest[k] = rest[k + 1] + (fields[k].length === VARIABLE_LENGTH ? 1 : fields[k].length);
  }
  const out: string[] = [
    `if (p + ${rest[0]} > b.length) throw FULL;`,
    'let x = 0;',
    ...fields.map((f, k) => encodeStatement(f, k, rest[k + 1])),
    'return p;',
  ];
  const body = `return function encodeRecord(v, b, p) {\n${out.join('\n')}\n};`;
  return new Function(...helperNames, body)(...helperValues) as RecordEncoder;
}
