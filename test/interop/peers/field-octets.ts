/**
 * The octets a field value must occupy on the wire (RFC 7011 §6.1), written here independently of
 * the codec so a peer's view of the bytes can be checked against the value we meant:
 *
 *   integers, dateTimeSeconds/Milliseconds   big-endian in the template's length (reduced size allowed)
 *   float32 / float64                        IEEE 754 big-endian (float64 sent in 4 octets = float32)
 *   boolean                                  1 = true, 2 = false
 *   ipv4Address / ipv6Address / macAddress   4 / 16 / 6 octets
 *   string, octetArray (fixed length)        the octets, zero-padded to the length
 *   variable length                          the octets alone (the 1- or 3-octet prefix is not part of the value)
 *
 * NTP time stamps (dateTimeMicroseconds/Nanoseconds) have no single exact encoding of a
 * nanosecond value; they are compared as times, not as octets (fieldOctets returns null).
 */
import type { FieldValue, TemplateField } from '../../../src/ipfix/index.ts';
import { ipv4Bytes, ipv6Bytes } from './pcap.ts';

export const VARIABLE_LENGTH = 65535;

function bigEndian(v: bigint, length: number): Buffer {
  let x = BigInt.asUintN(length * 8, v);
  const out = Buffer.alloc(length);
  for (let i = length - 1; i >= 0; i--) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
}

function toBig(v: FieldValue): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  throw new Error(`not an integer: ${String(v)}`);
}

function padded(b: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  out.set(b.subarray(0, length));
  return out;
}

/** The value octets of field `f` holding `v`, or null for NTP time stamps. */
export function fieldOctets(f: TemplateField, v: FieldValue): Buffer | null {
  const L = f.length;
  const type = f.known ? f.ie.dataType : 'octetArray';
  const raw = (): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v as Uint8Array));
  if (L === VARIABLE_LENGTH) return raw();
  switch (type) {
    case 'unsigned8': case 'unsigned16': case 'unsigned32': case 'unsigned64':
    case 'signed8': case 'signed16': case 'signed32': case 'signed64':
    case 'dateTimeSeconds': case 'dateTimeMilliseconds':
      return bigEndian(toBig(v), L);
    case 'float32': case 'float64': {
      const b = Buffer.alloc(L);
      if (L === 4) b.writeFloatBE(v as number); else b.writeDoubleBE(v as number);
      return b;
    }
    case 'boolean': return Buffer.from([v ? 1 : 2]);
    case 'ipv4Address': return ipv4Bytes(v as string);
    case 'ipv6Address': return ipv6Bytes(v as string);
    case 'macAddress': return Buffer.from((v as string).split(':').map((x) => parseInt(x, 16)));
    case 'dateTimeMicroseconds': case 'dateTimeNanoseconds': return null;
    default: return padded(raw(), L);
  }
}

/** Octets of the variable-length prefix for a value of `n` octets (RFC 7011 §7). */
export function lengthPrefixSize(n: number): number {
  return n < 255 ? 1 : 3;
}
