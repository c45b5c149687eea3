/**
 * Builders for the netlink messages this folder sends (dump requests, NFLOG configuration).
 *
 *   nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid }   host byte order (little endian here)
 *   nfgenmsg { u8 family; u8 version = 0; be16 res_id }
 *   nlattr   { u16 len (header + payload, without padding); u16 type; payload; pad to 4 bytes }
 *
 * Only little-endian hosts are supported (all platforms the `netlink` package ships binaries for).
 */
import { NFGENMSG_LEN, NFNETLINK_V0, NLA_F_NESTED, NLA_HDRLEN, NLMSG_HDRLEN } from './constants.ts';

const align4 = (n: number): number => (n + 3) & ~3;

/** An attribute with a raw payload, padded to a multiple of 4 bytes. */
export function nlattr(type: number, payload: Uint8Array): Buffer {
  const len = NLA_HDRLEN + payload.length;
  const out = Buffer.alloc(align4(len));
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  out.set(payload, NLA_HDRLEN);
  return out;
}

export function nlattrU8(type: number, value: number): Buffer {
  return nlattr(type, Uint8Array.of(value & 0xff));
}

export function nlattrBe16(type: number, value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value, 0);
  return nlattr(type, b);
}

export function nlattrBe32(type: number, value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0, 0);
  return nlattr(type, b);
}

export function nlattrBe64(type: number, value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(value, 0);
  return nlattr(type, b);
}

/** A NUL-terminated string attribute. */
export function nlattrString(type: number, value: string): Buffer {
  return nlattr(type, Buffer.from(`${value}\0`, 'utf8'));
}

/** A nested attribute (NLA_F_NESTED set) holding already-encoded attributes. */
export function nlattrNested(type: number, children: readonly Uint8Array[]): Buffer {
  return nlattr(type | NLA_F_NESTED, Buffer.concat(children));
}

export interface NfnlHeader {
  /** (subsystem << 8) | message */
  type: number;
  flags: number;
  seq: number;
  pid?: number;
  /** nfgenmsg.nfgen_family */
  family: number;
  /** nfgenmsg.res_id (host value, written big endian) */
  resId?: number;
}

/** A complete nfnetlink message: nlmsghdr + nfgenmsg + attributes. */
export function nfnlMessage(header: NfnlHeader, attrs: readonly Uint8Array[] = []): Buffer {
  const body = Buffer.concat(attrs);
  const len = NLMSG_HDRLEN + NFGENMSG_LEN + body.length;
  const out = Buffer.alloc(len);
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(header.type, 4);
  out.writeUInt16LE(header.flags, 6);
  out.writeUInt32LE(header.seq >>> 0, 8);
  out.writeUInt32LE((header.pid ?? 0) >>> 0, 12);
  out.writeUInt8(header.family, 16);
  out.writeUInt8(NFNETLINK_V0, 17);
  out.writeUInt16BE(header.resId ?? 0, 18);
  out.set(body, NLMSG_HDRLEN + NFGENMSG_LEN);
  return out;
}
