/**
 * The conntrack entry model shared by every conntrack source (netlink dump, events, the
 * `conntrack -L -o xml` fallback): a plain `ConntrackEntry` object for convenience, and the
 * `ConntrackEntryView` interface that sources fill in place (one reused object per dump) so that
 * polling a large table allocates no object graph per entry.
 */
import { IPS } from './constants.ts';

export type IpFamily = 'ipv4' | 'ipv6';

/** Kernel TCP conntrack states (enum tcp_conntrack) by number; index 9 is TCP_CONNTRACK_LISTEN. */
export const TCP_STATES = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
] as const;

export type TcpStateName = (typeof TCP_STATES)[number];

/** Maps a kernel TCP state number to its upstream name; "" when out of range. */
export function tcpStateName(state: number): TcpStateName | '' {
  return state >= 0 && state < TCP_STATES.length ? TCP_STATES[state] : '';
}

/** One direction of a connection. Ports are 0 for port-less protocols; ICMP fields 0 otherwise. */
export interface ConntrackTuple {
  src: string;
  dst: string;
  protocol: number;
  srcPort: number;
  dstPort: number;
  icmpId: number;
  icmpType: number;
  icmpCode: number;
}

/** A conntrack entry as a plain object (what `dumpAll()` returns). */
export interface ConntrackEntry {
  family: IpFamily;
  original: ConntrackTuple;
  /** Reply tuple: its `src` is the post-DNAT destination of the connection. */
  reply: ConntrackTuple;
  origPackets: bigint;
  origBytes: bigint;
  replyPackets: bigint;
  replyBytes: bigint;
  /** Nanoseconds since the epoch; 0n when nf_conntrack_timestamp was off at creation. */
  startTime: bigint;
  /** Nanoseconds since the epoch; 0n while the connection is alive. */
  stopTime: bigint;
  /** Upstream TCP state name; "" for non-TCP protocols. */
  tcpState: TcpStateName | '';
  /** CTA_STATUS bits (see `IPS`). */
  status: number;
  mark: number;
  /** CTA_LABELS, 16 bytes, or null when the entry carries no labels. */
  labels: Buffer | null;
  zone: number;
  id: number;
  /** Seconds until the entry expires. */
  timeout: number;
}

/** Which address of an entry to read: original/reply source/destination. */
export const AddressSlot = {
  OrigSrc: 0,
  OrigDst: 1,
  ReplySrc: 2,
  ReplyDst: 3,
} as const;
export type AddressSlot = (typeof AddressSlot)[keyof typeof AddressSlot];

/**
 * A mutable view of one conntrack entry. Sources reuse one view for a whole dump: read what you
 * need inside the visitor callback, and call `toEntry()` to keep a snapshot.
 * Scalar fields are plain numbers and bigints; addresses are formatted only when asked.
 */
export interface ConntrackEntryView {
  readonly family: IpFamily;
  readonly protocol: number;
  readonly origSrcPort: number;
  readonly origDstPort: number;
  readonly replySrcPort: number;
  readonly replyDstPort: number;
  readonly origIcmpId: number;
  readonly origIcmpType: number;
  readonly origIcmpCode: number;
  readonly replyIcmpId: number;
  readonly replyIcmpType: number;
  readonly replyIcmpCode: number;
  readonly origPackets: bigint;
  readonly origBytes: bigint;
  readonly replyPackets: bigint;
  readonly replyBytes: bigint;
  readonly startTime: bigint;
  readonly stopTime: bigint;
  /** The counters as numbers (exact up to 2^53), for consumers that avoid a bigint per read. */
  readonly origPacketsNumber: number;
  readonly origBytesNumber: number;
  readonly replyPacketsNumber: number;
  readonly replyBytesNumber: number;
  /** startTime / stopTime in milliseconds since the epoch (0 when absent). */
  readonly startTimeMs: number;
  readonly stopTimeMs: number;
  /** Kernel TCP state number, or -1 when the entry has no TCP protocol info. */
  readonly tcpStateCode: number;
  readonly tcpState: TcpStateName | '';
  readonly status: number;
  readonly mark: number;
  readonly zone: number;
  readonly id: number;
  readonly timeout: number;
  /** The address as text (dotted quad or RFC 5952). */
  address(slot: AddressSlot): string;
  /** The IPv4 address as a uint32 (a.b.c.d = a<<24|...); 0 for IPv6 entries. */
  ipv4(slot: AddressSlot): number;
  /** Copies the 4 or 16 address bytes into `target` at `offset`; returns the byte count. */
  copyAddress(slot: AddressSlot, target: Uint8Array, offset?: number): number;
  /** A copy of the 16 label bytes, or null. */
  labels(): Buffer | null;
  /** A detached snapshot of the entry. */
  toEntry(): ConntrackEntry;
}

/** True when the kernel marked the entry as dying (CTA_STATUS bit 9, IPS_DYING). */
export function isDying(entry: { readonly status: number }): boolean {
  return (entry.status & IPS.DYING) !== 0;
}

/** An empty tuple (used by builders and parsers as a starting point). */
export function emptyTuple(): ConntrackTuple {
  return { src: '', dst: '', protocol: 0, srcPort: 0, dstPort: 0, icmpId: 0, icmpType: 0, icmpCode: 0 };
}
