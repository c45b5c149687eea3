/**
 * ctnetlink message parser: fills a reused `NetlinkEntryView` from one IPCTNL_MSG_CT_NEW/DELETE
 * message without allocating per attribute.
 *
 *   nlmsghdr (16, host order) | nfgenmsg { u8 family; u8 version; be16 res_id } | attributes:
 *   CTA_TUPLE_ORIG / CTA_TUPLE_REPLY (nested)
 *     CTA_TUPLE_IP (nested)     CTA_IP_V4_SRC/DST (4 bytes) | CTA_IP_V6_SRC/DST (16 bytes)
 *     CTA_TUPLE_PROTO (nested)  CTA_PROTO_NUM u8 | CTA_PROTO_SRC/DST_PORT be16 |
 *                               CTA_PROTO_ICMP(V6)_ID be16 | _TYPE u8 | _CODE u8
 *     CTA_TUPLE_ZONE be16
 *   CTA_STATUS be32 | CTA_TIMEOUT be32 | CTA_MARK be32 | CTA_ID be32 | CTA_USE be32 | CTA_ZONE be16
 *   CTA_COUNTERS_ORIG / _REPLY (nested)  CTA_COUNTERS_PACKETS/BYTES be64 | CTA_COUNTERS32_* be32
 *   CTA_TIMESTAMP (nested)               CTA_TIMESTAMP_START/STOP be64 (ns since the epoch)
 *   CTA_PROTOINFO (nested) CTA_PROTOINFO_TCP (nested) CTA_PROTOINFO_TCP_STATE u8
 *   CTA_LABELS 16 bytes
 * nlattr len/type are host order (little endian); payload integers are big endian.
 * Unknown attributes are skipped. Every length is checked before it is read: a malformed message
 * raises a ConntrackError carrying the byte offset, never a RangeError.
 */
import { ConntrackError } from '../errors.ts';
import {
  AF_INET,
  AF_INET6,
  CT_LABELS_LEN,
  CTA_COUNTERS32_BYTES,
  CTA_COUNTERS32_PACKETS,
  CTA_COUNTERS_BYTES,
  CTA_COUNTERS_ORIG,
  CTA_COUNTERS_PACKETS,
  CTA_COUNTERS_REPLY,
  CTA_ID,
  CTA_IP_V4_DST,
  CTA_IP_V4_SRC,
  CTA_IP_V6_DST,
  CTA_IP_V6_SRC,
  CTA_LABELS,
  CTA_MARK,
  CTA_PROTO_DST_PORT,
  CTA_PROTO_ICMP_CODE,
  CTA_PROTO_ICMP_ID,
  CTA_PROTO_ICMP_TYPE,
  CTA_PROTO_ICMPV6_CODE,
  CTA_PROTO_ICMPV6_ID,
  CTA_PROTO_ICMPV6_TYPE,
  CTA_PROTO_NUM,
  CTA_PROTO_SRC_PORT,
  CTA_PROTOINFO,
  CTA_PROTOINFO_TCP,
  CTA_PROTOINFO_TCP_STATE,
  CTA_STATUS,
  CTA_TIMEOUT,
  CTA_TIMESTAMP,
  CTA_TIMESTAMP_START,
  CTA_TIMESTAMP_STOP,
  CTA_TUPLE_IP,
  CTA_TUPLE_ORIG,
  CTA_TUPLE_PROTO,
  CTA_TUPLE_REPLY,
  CTA_ZONE,
  NFGENMSG_LEN,
  NLA_TYPE_MASK,
  NLMSG_HDRLEN,
} from './constants.ts';
import {
  AddressSlot,
  type ConntrackEntry,
  type ConntrackEntryView,
  type ConntrackTuple,
  type IpFamily,
  tcpStateName,
  type TcpStateName,
} from './entry.ts';
import { formatIPv4, formatIPv6 } from './ip-address.ts';

const EMPTY = Buffer.alloc(0);
const EMPTY_DV = new DataView(new ArrayBuffer(0));

/** Which tuple a nested tuple attribute fills. */
const DIR_ORIG = 0;
const DIR_REPLY = 1;

/** A conntrack entry backed by the bytes of the message it was parsed from. */
export class NetlinkEntryView implements ConntrackEntryView {
  /** The datagram holding the current message; addresses and labels are read from it lazily. */
  buffer: Buffer = EMPTY;
  family: IpFamily = 'ipv4';
  /** 4 for IPv4, 16 for IPv6. */
  addressLength: 4 | 16 = 4;
  protocol = 0;
  origSrcPort = 0;
  origDstPort = 0;
  replySrcPort = 0;
  replyDstPort = 0;
  origIcmpId = 0;
  origIcmpType = 0;
  origIcmpCode = 0;
  replyIcmpId = 0;
  replyIcmpType = 0;
  replyIcmpCode = 0;
  // 64-bit counters and timestamps are kept as their two 32-bit halves, so that parsing creates
  // no bigint: consumers read them as numbers (the agent's hot path) or as exact bigints.
  opHi = 0; opLo = 0; obHi = 0; obLo = 0; rpHi = 0; rpLo = 0; rbHi = 0; rbLo = 0;
  stHi = 0; stLo = 0; spHi = 0; spLo = 0;
  tcpStateCode = -1;
  tcpState: TcpStateName | '' = '';
  status = 0;
  mark = 0;
  zone = 0;
  id = 0;
  timeout = 0;
  /** Byte offsets of the four addresses inside `buffer` (-1 when absent). */
  origSrcOffset = -1;
  origDstOffset = -1;
  replySrcOffset = -1;
  replyDstOffset = -1;
  /** Byte offset of the 16 label bytes inside `buffer` (-1 when absent). */
  labelsOffset = -1;

  get origPackets(): bigint { return u64(this.opHi, this.opLo); }
  get origBytes(): bigint { return u64(this.obHi, this.obLo); }
  get replyPackets(): bigint { return u64(this.rpHi, this.rpLo); }
  get replyBytes(): bigint { return u64(this.rbHi, this.rbLo); }
  get startTime(): bigint { return u64(this.stHi, this.stLo); }
  get stopTime(): bigint { return u64(this.spHi, this.spLo); }
  get origPacketsNumber(): number { return this.opHi * TWO32 + this.opLo; }
  get origBytesNumber(): number { return this.obHi * TWO32 + this.obLo; }
  get replyPacketsNumber(): number { return this.rpHi * TWO32 + this.rpLo; }
  get replyBytesNumber(): number { return this.rbHi * TWO32 + this.rbLo; }
  get startTimeMs(): number { return nsToMs(this.stHi, this.stLo); }
  get stopTimeMs(): number { return nsToMs(this.spHi, this.spLo); }

  /** Clears every field before a new message is parsed into the view. */
  reset(buffer: Buffer): void {
    this.buffer = buffer;
    this.family = 'ipv4';
    this.addressLength = 4;
    this.protocol = 0;
    this.origSrcPort = 0;
    this.origDstPort = 0;
    this.replySrcPort = 0;
    this.replyDstPort = 0;
    this.origIcmpId = 0;
    this.origIcmpType = 0;
    this.origIcmpCode = 0;
    this.replyIcmpId = 0;
    this.replyIcmpType = 0;
    this.replyIcmpCode = 0;
    this.opHi = 0; this.opLo = 0; this.obHi = 0; this.obLo = 0;
    this.rpHi = 0; this.rpLo = 0; this.rbHi = 0; this.rbLo = 0;
    this.stHi = 0; this.stLo = 0; this.spHi = 0; this.spLo = 0;
    this.tcpStateCode = -1;
    this.tcpState = '';
    this.status = 0;
    this.mark = 0;
    this.zone = 0;
    this.id = 0;
    this.timeout = 0;
    this.origSrcOffset = -1;
    this.origDstOffset = -1;
    this.replySrcOffset = -1;
    this.replyDstOffset = -1;
    this.labelsOffset = -1;
  }

  private offsetOf(slot: AddressSlot): number {
    switch (slot) {
      case AddressSlot.OrigSrc:
        return this.origSrcOffset;
      case AddressSlot.OrigDst:
        return this.origDstOffset;
      case AddressSlot.ReplySrc:
        return this.replySrcOffset;
      default:
        return this.replyDstOffset;
    }
  }

  address(slot: AddressSlot): string {
    const off = this.offsetOf(slot);
    if (off < 0) return '';
    return this.addressLength === 4 ? formatIPv4(this.buffer, off) : formatIPv6(this.buffer, off);
  }

  ipv4(slot: AddressSlot): number {
    const off = this.offsetOf(slot);
    if (off < 0 || this.addressLength !== 4) return 0;
    const b = this.buffer;
    return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
  }

  copyAddress(slot: AddressSlot, target: Uint8Array, offset = 0): number {
    const off = this.offsetOf(slot);
    if (off < 0) return 0;
    target.set(this.buffer.subarray(off, off + this.addressLength), offset);
    return this.addressLength;
  }

  labels(): Buffer | null {
    if (this.labelsOffset < 0) return null;
    return Buffer.from(this.buffer.subarray(this.labelsOffset, this.labelsOffset + CT_LABELS_LEN));
  }

  private tuple(dir: number): ConntrackTuple {
    const orig = dir === DIR_ORIG;
    return {
      src: this.address(orig ? AddressSlot.OrigSrc : AddressSlot.ReplySrc),
      dst: this.address(orig ? AddressSlot.OrigDst : AddressSlot.ReplyDst),
      protocol: this.protocol,
      srcPort: orig ? this.origSrcPort : this.replySrcPort,
      dstPort: orig ? this.origDstPort : this.replyDstPort,
      icmpId: orig ? this.origIcmpId : this.replyIcmpId,
      icmpType: orig ? this.origIcmpType : this.replyIcmpType,
      icmpCode: orig ? this.origIcmpCode : this.replyIcmpCode,
    };
  }

  toEntry(): ConntrackEntry {
    return {
      family: this.family,
      original: this.tuple(DIR_ORIG),
      reply: this.tuple(DIR_REPLY),
      origPackets: this.origPackets,
      origBytes: this.origBytes,
      replyPackets: this.replyPackets,
      replyBytes: this.replyBytes,
      startTime: this.startTime,
      stopTime: this.stopTime,
      tcpState: this.tcpState,
      status: this.status,
      mark: this.mark,
      labels: this.labels(),
      zone: this.zone,
      id: this.id,
      timeout: this.timeout,
    };
  }
}

const TWO32 = 4294967296;

/** The exact unsigned 64-bit value of two 32-bit halves. */
function u64(hi: number, lo: number): bigint {
  return hi < 0x200000 ? BigInt(hi * TWO32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/** Whole milliseconds of a nanosecond timestamp given as two 32-bit halves. */
function nsToMs(hi: number, lo: number): number {
  return Math.floor(hi * 4294.967296 + lo / 1e6);
}

function malformed(code: string, message: string, offset: number, attr?: number): ConntrackError {
  return new ConntrackError(code, message, attr === undefined ? { offset } : { offset, attr });
}

/** Reads the nlattr at `off` (bounded by `end`); returns its total length or throws. */
function attrLength(buf: Buffer, off: number, end: number): number {
  const len = buf[off] | (buf[off + 1] << 8);
  if (len < 4 || off + len > end) {
    throw malformed('CT_ATTR_TRUNCATED', `netlink attribute length ${len} overruns its container`, off);
  }
  return len;
}

function requireLength(have: number, need: number, off: number, type: number): void {
  if (have < need) {
    throw malformed('CT_ATTR_LENGTH', `attribute ${type} has ${have} payload bytes, needs ${need}`, off, type);
  }
}

const be16 = (b: Buffer, o: number): number => (b[o] << 8) | b[o + 1];
const be32 = (b: Buffer, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

function parseTupleIp(buf: Buffer, start: number, end: number, view: NetlinkEntryView, dir: number): void {
  const v6 = view.addressLength === 16;
  let off = start;
  while (end - off >= 4) {
    const len = attrLength(buf, off, end);
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
    const p = off + 4;
    const plen = len - 4;
    switch (type) {
      case CTA_IP_V4_SRC:
      case CTA_IP_V4_DST:
        if (v6) throw malformed('CT_ADDRESS_FAMILY', 'IPv4 address in an IPv6 entry', off, type);
        requireLength(plen, 4, off, type);
        break;
      case CTA_IP_V6_SRC:
      case CTA_IP_V6_DST:
        if (!v6) throw malformed('CT_ADDRESS_FAMILY', 'IPv6 address in an IPv4 entry', off, type);
        requireLength(plen, 16, off, type);
        break;
      default:
        off += (len + 3) & ~3;
        continue;
    }
    const isSrc = type === CTA_IP_V4_SRC || type === CTA_IP_V6_SRC;
    if (dir === DIR_ORIG) {
      if (isSrc) view.origSrcOffset = p;
      else view.origDstOffset = p;
    } else if (isSrc) view.replySrcOffset = p;
    else view.replyDstOffset = p;
    off += (len + 3) & ~3;
  }
}

function parseTupleProto(buf: Buffer, start: number, end: number, view: NetlinkEntryView, dir: number): void {
  const orig = dir === DIR_ORIG;
  let off = start;
  while (end - off >= 4) {
    const len = attrLength(buf, off, end);
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
    const p = off + 4;
    const plen = len - 4;
    switch (type) {
      case CTA_PROTO_NUM:
        requireLength(plen, 1, off, type);
        if (orig) view.protocol = buf[p];
        break;
      case CTA_PROTO_SRC_PORT:
        requireLength(plen, 2, off, type);
        if (orig) view.origSrcPort = be16(buf, p);
        else view.replySrcPort = be16(buf, p);
        break;
      case CTA_PROTO_DST_PORT:
        requireLength(plen, 2, off, type);
        if (orig) view.origDstPort = be16(buf, p);
        else view.replyDstPort = be16(buf, p);
        break;
      case CTA_PROTO_ICMP_ID:
      case CTA_PROTO_ICMPV6_ID:
        requireLength(plen, 2, off, type);
        if (orig) view.origIcmpId = be16(buf, p);
        else view.replyIcmpId = be16(buf, p);
        break;
      case CTA_PROTO_ICMP_TYPE:
      case CTA_PROTO_ICMPV6_TYPE:
        requireLength(plen, 1, off, type);
        if (orig) view.origIcmpType = buf[p];
        else view.replyIcmpType = buf[p];
        break;
      case CTA_PROTO_ICMP_CODE:
      case CTA_PROTO_ICMPV6_CODE:
        requireLength(plen, 1, off, type);
        if (orig) view.origIcmpCode = buf[p];
        else view.replyIcmpCode = buf[p];
        break;
      default:
        break;
    }
    off += (len + 3) & ~3;
  }
}

function parseTuple(buf: Buffer, start: number, end: number, view: NetlinkEntryView, dir: number): void {
  let off = start;
  while (end - off >= 4) {
    const len = attrLength(buf, off, end);
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
    if (type === CTA_TUPLE_IP) parseTupleIp(buf, off + 4, off + len, view, dir);
    else if (type === CTA_TUPLE_PROTO) parseTupleProto(buf, off + 4, off + len, view, dir);
    off += (len + 3) & ~3;
  }
}

function parseCounters(
  buf: Buffer,
  dv: DataView,
  start: number,
  end: number,
  view: NetlinkEntryView,
  dir: number,
): void {
  let off = start;
  while (end - off >= 4) {
    const len = attrLength(buf, off, end);
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
    const p = off + 4;
    const plen = len - 4;
    let hi = -1;
    let lo = 0;
    let isPackets = false;
    switch (type) {
      case CTA_COUNTERS_PACKETS:
      case CTA_COUNTERS_BYTES:
        requireLength(plen, 8, off, type);
        hi = be32(buf, p);
        lo = be32(buf, p + 4);
        isPackets = type === CTA_COUNTERS_PACKETS;
        break;
      case CTA_COUNTERS32_PACKETS:
      case CTA_COUNTERS32_BYTES:
        requireLength(plen, 4, off, type);
        hi = 0;
        lo = be32(buf, p);
        isPackets = type === CTA_COUNTERS32_PACKETS;
        break;
      default:
        break;
    }
    if (hi >= 0) {
      if (dir === DIR_ORIG) {
        if (isPackets) { view.opHi = hi; view.opLo = lo; } else { view.obHi = hi; view.obLo = lo; }
      } else if (isPackets) { view.rpHi = hi; view.rpLo = lo; } else { view.rbHi = hi; view.rbLo = lo; }
    }
    off += (len + 3) & ~3;
  }
}

function parseTimestamp(buf: Buffer, dv: DataView, start: number, end: number, view: NetlinkEntryView): void {
  let off = start;
  while (end - off >= 4) {
    const len = attrLength(buf, off, end);
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
    if (type === CTA_TIMESTAMP_START || type === CTA_TIMESTAMP_STOP) {
      requireLength(len - 4, 8, off, type);
      const hi = be32(buf, off + 4);
      const lo = be32(buf, off + 8);
      if (type === CTA_TIMESTAMP_START) { view.stHi = hi; view.stLo = lo; } else { view.spHi = hi; view.spLo = lo; }
    }
    off += (len + 3) & ~3;
  }
}

function parseProtoinfo(buf: Buffer, start: number, end: number, view: NetlinkEntryView): void {
  let off = start;
  while (end - off >= 4) {
    const len = attrLength(buf, off, end);
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
    if (type === CTA_PROTOINFO_TCP) {
      const tEnd = off + len;
      let t = off + 4;
      while (tEnd - t >= 4) {
        const tlen = attrLength(buf, t, tEnd);
        const ttype = (buf[t + 2] | (buf[t + 3] << 8)) & NLA_TYPE_MASK;
        if (ttype === CTA_PROTOINFO_TCP_STATE) {
          requireLength(tlen - 4, 1, t, ttype);
          view.tcpStateCode = buf[t + 4];
          view.tcpState = tcpStateName(buf[t + 4]);
        }
        t += (tlen + 3) & ~3;
      }
    }
    off += (len + 3) & ~3;
  }
}

/**
 * Parses the conntrack message at `msgOffset` (its nlmsghdr) spanning `msgLength` bytes of `buf`
 * into `view`. `dv` must be a DataView over exactly the bytes of `buf`.
 * @throws ConntrackError on malformed input (the view is then left partially filled).
 */
export function parseConntrackMessage(
  buf: Buffer,
  dv: DataView,
  msgOffset: number,
  msgLength: number,
  view: NetlinkEntryView,
): void {
  const end = msgOffset + msgLength;
  if (msgLength < NLMSG_HDRLEN + NFGENMSG_LEN || end > buf.length) {
    throw malformed('CT_MESSAGE_TRUNCATED', `conntrack message of ${msgLength} bytes is truncated`, msgOffset);
  }
  view.reset(buf);
  const family = buf[msgOffset + NLMSG_HDRLEN];
  if (family === AF_INET) {
    view.family = 'ipv4';
    view.addressLength = 4;
  } else if (family === AF_INET6) {
    view.family = 'ipv6';
    view.addressLength = 16;
  } else {
    throw new ConntrackError('CT_FAMILY', `unsupported conntrack address family ${family}`, {
      offset: msgOffset + NLMSG_HDRLEN,
      family,
    });
  }

  let off = msgOffset + NLMSG_HDRLEN + NFGENMSG_LEN;
  while (end - off >= 4) {
    const len = attrLength(buf, off, end);
    const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
    const p = off + 4;
    const plen = len - 4;
    switch (type) {
      case CTA_TUPLE_ORIG:
        parseTuple(buf, p, off + len, view, DIR_ORIG);
        break;
      case CTA_TUPLE_REPLY:
        parseTuple(buf, p, off + len, view, DIR_REPLY);
        break;
      case CTA_STATUS:
        requireLength(plen, 4, off, type);
        view.status = be32(buf, p);
        break;
      case CTA_TIMEOUT:
        requireLength(plen, 4, off, type);
        view.timeout = be32(buf, p);
        break;
      case CTA_MARK:
        requireLength(plen, 4, off, type);
        view.mark = be32(buf, p);
        break;
      case CTA_ID:
        requireLength(plen, 4, off, type);
        view.id = be32(buf, p);
        break;
      case CTA_ZONE:
        requireLength(plen, 2, off, type);
        view.zone = be16(buf, p);
        break;
      case CTA_COUNTERS_ORIG:
        parseCounters(buf, dv, p, off + len, view, DIR_ORIG);
        break;
      case CTA_COUNTERS_REPLY:
        parseCounters(buf, dv, p, off + len, view, DIR_REPLY);
        break;
      case CTA_TIMESTAMP:
        parseTimestamp(buf, dv, p, off + len, view);
        break;
      case CTA_PROTOINFO:
        parseProtoinfo(buf, p, off + len, view);
        break;
      case CTA_LABELS:
        requireLength(plen, CT_LABELS_LEN, off, type);
        view.labelsOffset = p;
        break;
      default:
        break;
    }
    off += (len + 3) & ~3;
  }

  if (view.origSrcOffset < 0 || view.origDstOffset < 0) {
    throw malformed('CT_NO_TUPLE', 'conntrack message without an original tuple address pair', msgOffset);
  }
}

/** A DataView over exactly the bytes of `buf` (what `parseConntrackMessage` expects). */
export function dataViewOf(buf: Buffer): DataView {
  return buf.length === 0 ? EMPTY_DV : new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}
