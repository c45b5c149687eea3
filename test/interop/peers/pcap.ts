/**
 * A small pcap (libpcap savefile) writer and reader for UDP datagrams, enough to hand our IPFIX
 * messages to tshark and to read back what tcpdump captured.
 *
 *   File header (24):    magic (4) | version major (2) = 2 | minor (2) = 4 | thiszone (4) | sigfigs (4)
 *                        | snaplen (4) | link type (4)          magic a1b2c3d4 = µs, a1b23c4d = ns;
 *                                                              byte order given by how the magic reads
 *   Record header (16):  ts seconds (4) | ts µs or ns (4) | captured length (4) | original length (4)
 *   Frame (written):     Ethernet II (14: dst MAC, src MAC, EtherType 0x0800 / 0x86dd)
 *                        | IPv4 (20, no options) or IPv6 (40) | UDP (8: sport, dport, length, checksum) | payload
 *
 * The reader understands link types EN10MB (1), RAW (101), LINUX_SLL (113) and LINUX_SLL2 (276),
 * IPv4 with options, and IPv6 without extension headers; it skips what is not UDP.
 */
import { isIPv4 } from 'node:net';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

export interface UdpDatagram {
  readonly srcAddress: string;
  readonly dstAddress: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Buffer;
  /** Capture time in microseconds since the Unix epoch. */
  readonly timeMicros?: number;
}

// ---------------------------------------------------------------------------------------------
// Writing.

export function ipv4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map((x) => Number(x)));
}

export function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const words = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** Internet checksum (RFC 1071) over the given parts. */
function checksum(parts: readonly Buffer[]): number {
  let sum = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i += 2) sum += (part[i] << 8) | (i + 1 < part.length ? part[i + 1] : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One Ethernet/IP/UDP frame carrying `d.payload`, with correct lengths and checksums. */
export function udpFrame(d: UdpDatagram): Buffer {
  const v4 = isIPv4(d.srcAddress);
  const src = v4 ? ipv4Bytes(d.srcAddress) : ipv6Bytes(d.srcAddress);
  const dst = v4 ? ipv4Bytes(d.dstAddress) : ipv6Bytes(d.dstAddress);
  const udpLength = 8 + d.payload.length;
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(d.srcPort, 0);
  udp.writeUInt16BE(d.dstPort, 2);
  udp.writeUInt16BE(udpLength, 4);
  const pseudo = Buffer.alloc(v4 ? 12 : 40);
  if (v4) {
    src.copy(pseudo, 0); dst.copy(pseudo, 4); pseudo[9] = 17; pseudo.writeUInt16BE(udpLength, 10);
  } else {
    src.copy(pseudo, 0); dst.copy(pseudo, 16); pseudo.writeUInt32BE(udpLength, 32); pseudo[39] = 17;
  }
  udp.writeUInt16BE(checksum([pseudo, udp, d.payload]) || 0xffff, 6);
  let ip: Buffer;
  if (v4) {
    ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + udpLength, 2);
    ip[8] = 64;
    ip[9] = 17;
    src.copy(ip, 12);
    dst.copy(ip, 16);
    ip.writeUInt16BE(checksum([ip]), 10);
  } else {
    ip = Buffer.alloc(40);
    ip[0] = 0x60;
    ip.writeUInt16BE(udpLength, 4);
    ip[6] = 17;
    ip[7] = 64;
    src.copy(ip, 8);
    dst.copy(ip, 24);
  }
  const eth = Buffer.alloc(14);
  Buffer.from([0x02, 0, 0, 0, 0, 2]).copy(eth, 0);
  Buffer.from([0x02, 0, 0, 0, 0, 1]).copy(eth, 6);
  eth.writeUInt16BE(v4 ? 0x0800 : 0x86dd, 12);
  return Buffer.concat([eth, ip, udp, d.payload]);
}

/** A pcap file (µs timestamps, Ethernet) holding one frame per datagram. */
export function writePcap(datagrams: readonly UdpDatagram[], startMicros = 1_700_000_000_000_000): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262144, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [header];
  datagrams.forEach((d, i) => {
    const frame = udpFrame(d);
    const t = d.timeMicros ?? startMicros + i * 1000;
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(t / 1e6), 0);
    rec.writeUInt32LE(t % 1e6, 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    parts.push(rec, frame);
  });
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Reading.

export interface PcapFrame {
  readonly linkType: number;
  readonly timeMicros: number;
  readonly data: Buffer;
}

/**
 * Splits a pcap file into frames; throws on a file that is not pcap or is cut inside a record,
 * unless `partialTail` (a file still being written) lets it stop before an incomplete last record.
 */
export function readPcapFrames(file: Buffer, partialTail = false): PcapFrame[] {
  if (file.length < 24) throw new Error(`pcap file of ${file.length} octets is shorter than its header`);
  const magicLE = file.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) { le = true; nano = magicLE === 0xa1b23c4d; } else {
    const magicBE = file.readUInt32BE(0);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d) throw new Error(`not a pcap file (magic ${magicLE.toString(16)})`);
    le = false;
    nano = magicBE === 0xa1b23c4d;
  }
  const u32 = (p: number): number => (le ? file.readUInt32LE(p) : file.readUInt32BE(p));
  const linkType = u32(20) & 0x0fffffff;
  const frames: PcapFrame[] = [];
  let p = 24;
  while (p < file.length) {
    if (p + 16 > file.length || p + 16 + u32(p + 8) > file.length) {
      if (partialTail) break;
      throw new Error(`pcap record at offset ${p} runs past the end of the file`);
    }
    const sec = u32(p);
    const frac = u32(p + 4);
    const caplen = u32(p + 8);
    frames.push({ linkType, timeMicros: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac), data: file.subarray(p + 16, p + 16 + caplen) });
    p += 16 + caplen;
  }
  return frames;
}

function formatIPv6(b: Buffer, p: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(b.readUInt16BE(p + i * 2));
  // RFC 5952: the longest run (≥ 2) of zero words becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

/** Offset of the IP header in a frame of this link type, or -1 when the frame carries no IP. */
function ipOffset(linkType: number, d: Buffer): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (d.length < 14) return -1;
      let p = 12;
      let type = d.readUInt16BE(p);
      while ((type === 0x8100 || type === 0x88a8) && p + 6 <= d.length) { p += 4; type = d.readUInt16BE(p); }
      return type === 0x0800 || type === 0x86dd ? p + 2 : -1;
    }
    case LINKTYPE_RAW: return 0;
    case LINKTYPE_LINUX_SLL: return d.length >= 16 && [0x0800, 0x86dd].includes(d.readUInt16BE(14)) ? 16 : -1;
    case LINKTYPE_LINUX_SLL2: return d.length >= 20 && [0x0800, 0x86dd].includes(d.readUInt16BE(0)) ? 20 : -1;
    default: throw new Error(`unsupported pcap link type ${linkType}`);
  }
}

/** The UDP datagrams of a pcap file, in capture order (IP fragments are not reassembled). */
export function readUdpDatagrams(file: Buffer, partialTail = false): UdpDatagram[] {
  const out: UdpDatagram[] = [];
  for (const frame of readPcapFrames(file, partialTail)) {
    const d = frame.data;
    const ip = ipOffset(frame.linkType, d);
    if (ip < 0 || ip >= d.length) continue;
    const version = d[ip] >>> 4;
    let udp: number;
    let src: string;
    let dst: string;
    if (version === 4) {
      if (d[ip + 9] !== 17) continue;
      if ((d.readUInt16BE(ip + 6) & 0x3fff) !== 0) continue; // a fragment
      udp = ip + (d[ip] & 0x0f) * 4;
      src = `${d[ip + 12]}.${d[ip + 13]}.${d[ip + 14]}.${d[ip + 15]}`;
      dst = `${d[ip + 16]}.${d[ip + 17]}.${d[ip + 18]}.${d[ip + 19]}`;
    } else if (version === 6) {
      if (d[ip + 6] !== 17) continue;
      udp = ip + 40;
      src = formatIPv6(d, ip + 8);
      dst = formatIPv6(d, ip + 24);
    } else {
      continue;
    }
    if (udp + 8 > d.length) continue;
    const len = d.readUInt16BE(udp + 4);
    if (len < 8 || udp + len > d.length) throw new Error(`UDP datagram at capture time ${frame.timeMicros} is truncated (snap length too small?)`);
    out.push({
      srcAddress: src,
      dstAddress: dst,
      srcPort: d.readUInt16BE(udp),
      dstPort: d.readUInt16BE(udp + 2),
      payload: Buffer.from(d.subarray(udp + 8, udp + len)),
      timeMicros: frame.timeMicros,
    });
  }
  return out;
}
