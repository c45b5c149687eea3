/**
 * A `ConntrackEntryView` over a plain `ConntrackEntry` (used by sources that produce objects, such
 * as the `conntrack` CLI fallback), and text-to-bytes conversion of IP addresses.
 */
import { isIP } from 'node:net';
import { AddressSlot, type ConntrackEntry, type ConntrackEntryView, type TcpStateName, TCP_STATES } from './entry.ts';

/** Parses an IPv4 or IPv6 address into `target` at `offset`; returns 4, 16, or 0 when invalid. */
export function parseIPInto(text: string, target: Uint8Array, offset = 0): number {
  const kind = isIP(text);
  if (kind === 4) {
    const parts = text.split('.');
    for (let i = 0; i < 4; i++) target[offset + i] = Number(parts[i]);
    return 4;
  }
  if (kind !== 6) return 0;
  let head = text;
  let tail = '';
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const toGroups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (part.includes('.')) {
        const v4 = part.split('.').map(Number);
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        out.push(parseInt(part, 16));
      }
    }
    return out;
  };
  const h = toGroups(head);
  const t = toGroups(tail);
  const groups = dbl >= 0 ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h;
  for (let i = 0; i < 8; i++) {
    target[offset + 2 * i] = groups[i] >> 8;
    target[offset + 2 * i + 1] = groups[i] & 0xff;
  }
  return 16;
}

export class ObjectEntryView implements ConntrackEntryView {
  constructor(private entry: ConntrackEntry) {}

  /** Points the view at another entry (views are reused by sources). */
  set(entry: ConntrackEntry): this {
    this.entry = entry;
    return this;
  }

  get family() { return this.entry.family; }
  get protocol() { return this.entry.original.protocol; }
  get origSrcPort() { return this.entry.original.srcPort; }
  get origDstPort() { return this.entry.original.dstPort; }
  get replySrcPort() { return this.entry.reply.srcPort; }
  get replyDstPort() { return this.entry.reply.dstPort; }
  get origIcmpId() { return this.entry.original.icmpId; }
  get origIcmpType() { return this.entry.original.icmpType; }
  get origIcmpCode() { return this.entry.original.icmpCode; }
  get replyIcmpId() { return this.entry.reply.icmpId; }
  get replyIcmpType() { return this.entry.reply.icmpType; }
  get replyIcmpCode() { return this.entry.reply.icmpCode; }
  get origPackets() { return this.entry.origPackets; }
  get origBytes() { return this.entry.origBytes; }
  get replyPackets() { return this.entry.replyPackets; }
  get replyBytes() { return this.entry.replyBytes; }
  get startTime() { return this.entry.startTime; }
  get stopTime() { return this.entry.stopTime; }
  get origPacketsNumber() { return Number(this.entry.origPackets); }
  get origBytesNumber() { return Number(this.entry.origBytes); }
  get replyPacketsNumber() { return Number(this.entry.replyPackets); }
  get replyBytesNumber() { return Number(this.entry.replyBytes); }
  get startTimeMs() { return Number(this.entry.startTime / 1_000_000n); }
  get stopTimeMs() { return Number(this.entry.stopTime / 1_000_000n); }
  get tcpStateCode() {
    return this.entry.tcpState === '' ? -1 : TCP_STATES.indexOf(this.entry.tcpState as TcpStateName);
  }
  get tcpState() { return this.entry.tcpState; }
  get status() { return this.entry.status; }
  get mark() { return this.entry.mark; }
  get zone() { return this.entry.zone; }
  get id() { return this.entry.id; }
  get timeout() { return this.entry.timeout; }

  address(slot: AddressSlot): string {
    switch (slot) {
      case AddressSlot.OrigSrc:
        return this.entry.original.src;
      case AddressSlot.OrigDst:
        return this.entry.original.dst;
      case AddressSlot.ReplySrc:
        return this.entry.reply.src;
      default:
        return this.entry.reply.dst;
    }
  }

  ipv4(slot: AddressSlot): number {
    if (this.entry.family !== 'ipv4') return 0;
    const b = new Uint8Array(4);
    if (parseIPInto(this.address(slot), b) !== 4) return 0;
    return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }

  copyAddress(slot: AddressSlot, target: Uint8Array, offset = 0): number {
    return parseIPInto(this.address(slot), target, offset);
  }

  labels(): Buffer | null {
    return this.entry.labels === null ? null : Buffer.from(this.entry.labels);
  }

  toEntry(): ConntrackEntry {
    const e = this.entry;
    return { ...e, original: { ...e.original }, reply: { ...e.reply }, labels: this.labels() };
  }
}
