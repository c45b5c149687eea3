/**
 * nfnetlink_log (NFLOG) packet message parser.
 *
 *   nlmsghdr { type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET }
 *   nfgenmsg { u8 family (NFPROTO_IPV4/IPV6/...); u8 version; be16 res_id = log group }
 *   NFULA_PACKET_HDR  { be16 hw_protocol; u8 hook; u8 pad }
 *   NFULA_MARK be32 | NFULA_IFINDEX_INDEV be32 | NFULA_IFINDEX_OUTDEV be32
 *   NFULA_TIMESTAMP   { be64 sec; be64 usec }   (only when the skb carries a timestamp)
 *   NFULA_PREFIX      NUL-terminated string
 *   NFULA_PAYLOAD     the network-layer packet (up to the configured copy range):
 *     IPv4: ver/ihl u8 | tos | be16 total length | id | frag | ttl | u8 protocol | csum |
 *           src[4] | dst[4] | options (ihl*4 - 20)
 *     IPv6: ver/tc/flow be32 | be16 payload length | u8 next header | hop limit | src[16] | dst[16]
 *           then extension headers (hop-by-hop 0, routing 43, fragment 44, dest-opts 60, AH 51)
 *     TCP/UDP/UDP-Lite/SCTP/DCCP: be16 src port | be16 dst port      ICMP/ICMPv6: u8 type | u8 code
 */
import { ConntrackError } from '../errors.ts';
import {
  IPPROTO_DCCP,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPPROTO_UDPLITE,
  NFGENMSG_LEN,
  NFULA_IFINDEX_INDEV,
  NFULA_IFINDEX_OUTDEV,
  NFULA_MARK,
  NFULA_PACKET_HDR,
  NFULA_PAYLOAD,
  NFULA_PREFIX,
  NFULA_TIMESTAMP,
  NLA_TYPE_MASK,
  NLMSG_HDRLEN,
} from './constants.ts';
import type { IpFamily } from './entry.ts';
import { formatIPv4, formatIPv6 } from './ip-address.ts';

/** One packet logged by an NFLOG rule (`log group N` in nftables). */
export interface NflogPacket {
  /** The NFLOG group it was logged to. */
  group: number;
  /** The rule's log prefix ("" when none). */
  prefix: string;
  family: IpFamily;
  src: string;
  dst: string;
  protocol: number;
  /** 0 when the protocol has no ports or the payload was cut before them. */
  srcPort: number;
  dstPort: number;
  /** ICMP / ICMPv6 type and code (0 otherwise). */
  icmpType: number;
  icmpCode: number;
  /** IPv4 total length, or IPv6 payload length + 40: the packet's size on the wire at layer 3. */
  ipLength: number;
  /** Nanoseconds since the epoch: the kernel's packet timestamp when present, else receive time. */
  timestamp: bigint;
  /** True when `timestamp` came from NFULA_TIMESTAMP. */
  kernelTimestamp: boolean;
  /** Input / output interface index (0 when absent). */
  indev: number;
  outdev: number;
  /** Netfilter hook number (NFULA_PACKET_HDR), -1 when absent. */
  hook: number;
  /** Link-layer protocol from NFULA_PACKET_HDR (e.g. 0x0800), 0 when absent. */
  hwProtocol: number;
  mark: number;
}

function bad(code: string, message: string, offset: number): ConntrackError {
  return new ConntrackError(code, message, { offset });
}

const IPV6_EXT_HOP = 0;
const IPV6_EXT_ROUTING = 43;
const IPV6_EXT_FRAGMENT = 44;
const IPV6_EXT_AH = 51;
const IPV6_EXT_DSTOPTS = 60;

function hasPorts(protocol: number): boolean {
  return (
    protocol === IPPROTO_TCP ||
    protocol === IPPROTO_UDP ||
    protocol === IPPROTO_UDPLITE ||
    protocol === IPPROTO_SCTP ||
    protocol === IPPROTO_DCCP
  );
}

/** Fills the layer 3/4 fields of `out` from the payload bytes [start, end). */
function parsePayload(buf: Buffer, start: number, end: number, out: NflogPacket): void {
  const len = end - start;
  if (len < 1) throw bad('NFLOG_PAYLOAD', 'empty NFLOG payload', start);
  const version = buf[start] >> 4;
  let l4 = -1;
  let fragmented = false;
  if (version === 4) {
    if (len < 20) throw bad('NFLOG_PAYLOAD', `IPv4 header truncated: ${len} bytes`, start);
    const ihl = (buf[start] & 0x0f) * 4;
    if (ihl < 20) throw bad('NFLOG_PAYLOAD', `IPv4 header length ${ihl} < 20`, start);
    out.family = 'ipv4';
    out.ipLength = buf.readUInt16BE(start + 2);
    fragmented = (buf.readUInt16BE(start + 6) & 0x1fff) !== 0;
    out.protocol = buf[start + 9];
    out.src = formatIPv4(buf, start + 12);
    out.dst = formatIPv4(buf, start + 16);
    l4 = start + ihl;
  } else if (version === 6) {
    if (len < 40) throw bad('NFLOG_PAYLOAD', `IPv6 header truncated: ${len} bytes`, start);
    out.family = 'ipv6';
    out.ipLength = buf.readUInt16BE(start + 4) + 40;
    out.src = formatIPv6(buf, start + 8);
    out.dst = formatIPv6(buf, start + 24);
    let next = buf[start + 6];
    let p = start + 40;
    // Walk extension headers while they are within the copied bytes.
    for (let guard = 0; guard < 16; guard++) {
      if (next === IPV6_EXT_HOP || next === IPV6_EXT_ROUTING || next === IPV6_EXT_DSTOPTS) {
        if (end - p < 2) break;
        const nh = buf[p];
        p += (buf[p + 1] + 1) * 8;
        next = nh;
      } else if (next === IPV6_EXT_FRAGMENT) {
        if (end - p < 8) break;
        const nh = buf[p];
        fragmented = (buf.readUInt16BE(p + 2) & 0xfff8) !== 0;
        p += 8;
        next = nh;
      } else if (next === IPV6_EXT_AH) {
        if (end - p < 2) break;
        const nh = buf[p];
        p += (buf[p + 1] + 2) * 4;
        next = nh;
      } else {
        break;
      }
    }
    out.protocol = next;
    l4 = p;
  } else {
    throw bad('NFLOG_PAYLOAD', `NFLOG payload is not IPv4/IPv6 (version ${version})`, start);
  }
  if (fragmented || l4 < 0) return;
  if (hasPorts(out.protocol) && end - l4 >= 4) {
    out.srcPort = buf.readUInt16BE(l4);
    out.dstPort = buf.readUInt16BE(l4 + 2);
  } else if ((out.protocol === IPPROTO_ICMP || out.protocol === IPPROTO_ICMPV6) && end - l4 >= 2) {
    out.icmpType = buf[l4];
    out.icmpCode = buf[l4 + 1];
  }
}

/**
 * Parses the NFLOG packet message at `msgOffset` spanning `msgLength` bytes.
 * @param receiveTimeNs timestamp to use when the message has no NFULA_TIMESTAMP
 * @throws ConntrackError (codes NFLOG_*) on malformed input
 */
export function parseNflogMessage(buf: Buffer, msgOffset: number, msgLength: number, receiveTimeNs: bigint): NflogPacket {
  const end = msgOffset + msgLength;
  if (msgLength < NLMSG_HDRLEN + NFGENMSG_LEN || end > buf.length) {
    throw bad('NFLOG_TRUNCATED', `NFLOG message of ${msgLength} bytes is truncated`, msgOffset);
  }
  const out: NflogPacket = {
    group: buf.readUInt16BE(msgOffset + NLMSG_HDRLEN + 2),
    prefix: '',
    family: 'ipv4',
    src: '',
    dst: '',
    protocol: 0,
    srcPort: 0,
    dstPort: 0,
    icmpType: 0,
    icmpCode: 0,
    ipLength: 0,
    timestamp: receiveTimeNs,
    kernelTimestamp: false,
    indev: 0,
    outdev: 0,
    hook: -1,
    hwProtocol: 0,
    mark: 0,
  };
  let payloadStart = -1;
  let payloadEnd = -1;
  let off = msgOffset + NLMSG_HDRLEN + NFGENMSG_LEN;
  while (end - off >= 4) {
    const len = buf.readUInt16LE(off);
    const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (len < 4 || off + len > end) {
      throw bad('NFLOG_ATTR_TRUNCATED', `NFLOG attribute length ${len} overruns the message`, off);
    }
    const p = off + 4;
    const plen = len - 4;
    const need = (n: number): void => {
      if (plen < n) throw bad('NFLOG_ATTR_LENGTH', `NFLOG attribute ${type} has ${plen} bytes, needs ${n}`, off);
    };
    switch (type) {
      case NFULA_PACKET_HDR:
        need(3);
        out.hwProtocol = buf.readUInt16BE(p);
        out.hook = buf[p + 2];
        break;
      case NFULA_MARK:
        need(4);
        out.mark = buf.readUInt32BE(p);
        break;
      case NFULA_TIMESTAMP: {
        need(16);
        const sec = buf.readBigUInt64BE(p);
        const usec = buf.readBigUInt64BE(p + 8);
        out.timestamp = sec * 1_000_000_000n + usec * 1000n;
        out.kernelTimestamp = true;
        break;
      }
      case NFULA_IFINDEX_INDEV:
        need(4);
        out.indev = buf.readUInt32BE(p);
        break;
      case NFULA_IFINDEX_OUTDEV:
        need(4);
        out.outdev = buf.readUInt32BE(p);
        break;
      case NFULA_PREFIX: {
        let z = p;
        while (z < p + plen && buf[z] !== 0) z++;
        out.prefix = buf.toString('utf8', p, z);
        break;
      }
      case NFULA_PAYLOAD:
        payloadStart = p;
        payloadEnd = p + plen;
        break;
      default:
        break;
    }
    off += (len + 3) & ~3;
  }
  if (payloadStart < 0) {
    throw bad('NFLOG_NO_PAYLOAD', 'NFLOG message without payload (copy mode must be "packet")', msgOffset);
  }
  parsePayload(buf, payloadStart, payloadEnd, out);
  return out;
}
