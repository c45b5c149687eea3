/**
 * The connection store of the node agent (Antrea's ConntrackConnectionStore), kept in typed arrays
 * so that a tracked connection costs about 200 bytes of heap and a poll of a large conntrack table
 * allocates almost nothing.
 *
 * Semantics (reference: Antrea v2.3 §1.3–§1.8, with the fixes noted):
 * - Key: 5-tuple with the destination from the reply tuple (post-DNAT), so the source- and
 *   destination-Node records of a Pod → Service → Pod flow share one key. The addressed
 *   ClusterIP:port is kept.
 * - Each poll: connections absent from the previous dump are deleted when ready to delete (exported
 *   as ended) or stale (not exported for staleTimeout); the others are marked absent; then every
 *   dumped entry is added or updated.
 * - One expiry-queue entry per connection, ordered by min(active deadline, idle deadline). Activity
 *   (counters or TCP state changed since the last export) pushes the idle deadline out.
 * - On export: flowEndReason 3 when the connection is dying (TIME_WAIT/CLOSE, the kernel's dying
 *   bit for non-TCP, or gone from conntrack), 2 when it was active, 1 when idle. Dying and idle
 *   connections leave the queue; active ones get a new active deadline.
 * - Deltas are counted since the last export and clamped at 0. Unlike upstream v2.3, the "previous"
 *   counters advance at every export (upstream skips this for idle exports, which double-counts the
 *   bytes of an idle-exported connection that becomes active again).
 * - Counters are kept as float64 (exact up to 2^53 octets per connection) and become bigint in the
 *   exported Connection.
 */
import type { AddressSlot as AddressSlotType, ConntrackEntryView } from '../conntrack/entry.ts';
import { AddressSlot, isDying, tcpStateName } from '../conntrack/entry.ts';
import { formatIPv4, formatIPv6 } from '../ipfix/addresses.ts';
import { EndReason, type Connection, type ContextResolver, type FlowContext } from './connection.ts';
import { ExpiryQueue } from './expiry-queue.ts';

export interface ConnectionStoreOptions {
  activeTimeoutMs: number;
  idleTimeoutMs: number;
  /** Absent connections not exported for this long are deleted (Antrea: 5 min, or 2 × max timeout). */
  staleTimeoutMs: number;
  resolveContext: ContextResolver;
  /** Upper bound on tracked connections; new ones beyond it are counted and not tracked. */
  maxConnections?: number;
  initialCapacity?: number;
}

// Key layout, 40 octets: source address (16) | destination address (16) | source port (2) |
// destination port (2) | protocol (1) | family (1) | 0 (2). IPv4 addresses are IPv4-mapped.
const KEY = 40;
const WORDS = KEY / 4;
const F_USED = 1;
const F_PRESENT = 2;
const F_ACTIVE = 4;
const F_READY_TO_DELETE = 8;
const F_KERNEL_DYING = 16;
const F_SERVICE = 32;

const TCP_TIME_WAIT = 7;
const TCP_CLOSE = 8;

export interface StoreStats {
  /** Connections currently tracked (antrea_agent_conntrack_antrea_connection_count). */
  tracked: number;
  added: number;
  deleted: number;
  /** New conntrack entries not tracked because no local Pod is involved. */
  skippedNoLocalPod: number;
  /** New conntrack entries not tracked because the store is full. */
  droppedFull: number;
  exported: number;
}

export class ConnectionStore {
  private readonly opts: Required<Omit<ConnectionStoreOptions, 'initialCapacity'>>;
  private capacity: number;
  private keys: Uint8Array;
  /** The same octets as `keys`, as 10 words per connection (for hashing and comparing). */
  private keyWords: Uint32Array;
  private origDst: Uint8Array;
  private origDstPort: Uint16Array;
  private flags: Uint8Array;
  private tcpState: Int8Array;
  private prevTcpState: Int8Array;
  /** orig packets, orig bytes, reply packets, reply bytes; then the same at the last export. */
  private counters: Float64Array;
  private startMs: Float64Array;
  private stopMs: Float64Array;
  private lastExportMs: Float64Array;
  private activeDeadline: Float64Array;
  private idleDeadline: Float64Array;
  private hashOf: Int32Array;
  private next: Int32Array;
  private buckets: Int32Array;
  private contexts: (FlowContext | undefined)[];
  private freeHead = -1;
  private highWater = 0;
  private count = 0;
  private readonly queue: ExpiryQueue;
  private readonly scratch = new Uint8Array(KEY);
  private readonly scratchWords = new Uint32Array(this.scratch.buffer);
  readonly stats: StoreStats = { tracked: 0, added: 0, deleted: 0, skippedNoLocalPod: 0, droppedFull: 0, exported: 0 };

  constructor(options: ConnectionStoreOptions) {
    this.opts = { maxConnections: 1_000_000, ...options };
    const cap = Math.max(16, options.initialCapacity ?? 1024);
    this.capacity = 0;
    this.keys = new Uint8Array(0);
    this.keyWords = new Uint32Array(0);
    this.origDst = new Uint8Array(0);
    this.origDstPort = new Uint16Array(0);
    this.flags = new Uint8Array(0);
    this.tcpState = new Int8Array(0);
    this.prevTcpState = new Int8Array(0);
    this.counters = new Float64Array(0);
    this.startMs = new Float64Array(0);
    this.stopMs = new Float64Array(0);
    this.lastExportMs = new Float64Array(0);
    this.activeDeadline = new Float64Array(0);
    this.idleDeadline = new Float64Array(0);
    this.hashOf = new Int32Array(0);
    this.next = new Int32Array(0);
    this.buckets = new Int32Array(0);
    this.contexts = [];
    this.queue = new ExpiryQueue(cap);
    this.grow(cap);
  }

  get size(): number {
    return this.count;
  }

  /** Deadline of the next export, or Infinity. */
  nextExpiry(): number {
    return this.queue.peekDeadline();
  }

  /**
   * First step of a poll: deletes connections that were absent from the previous dump and are ready
   * to delete or stale; marks every other connection absent.
   */
  beginPoll(nowMs: number): void {
    const f = this.flags;
    for (let id = 0; id < this.highWater; id++) {
      const fl = f[id];
      if ((fl & F_USED) === 0) continue;
      if ((fl & F_PRESENT) === 0 && ((fl & F_READY_TO_DELETE) !== 0 || nowMs - this.lastExportMs[id] >= this.opts.staleTimeoutMs)) {
        this.delete(id);
      } else {
        f[id] = fl & ~F_PRESENT;
      }
    }
  }

  /** Adds or updates the connection of one conntrack entry (AddOrUpdateConn). */
  upsert(e: ConntrackEntryView, nowMs: number): void {
    const family = e.family === 'ipv6' ? 6 : 4;
    const k = this.scratch;
    this.putAddress(e, AddressSlot.OrigSrc, k, 0);
    this.putAddress(e, AddressSlot.ReplySrc, k, 16);
    k[32] = e.origSrcPort >>> 8; k[33] = e.origSrcPort;
    k[34] = e.replySrcPort >>> 8; k[35] = e.replySrcPort;
    k[36] = e.protocol; k[37] = family; k[38] = 0; k[39] = 0;
    const h = hashKey(this.scratchWords);
    const id = this.find(h);
    const tcp = e.tcpStateCode;
    if (id >= 0) {
      let fl = this.flags[id] | F_PRESENT;
      this.flags[id] = fl;
      if (this.isDyingFlags(id, fl)) return; // frozen once dying
      const c = this.counters;
      const o = id * 8;
      c[o] = e.origPacketsNumber; c[o + 1] = e.origBytesNumber;
      c[o + 2] = e.replyPacketsNumber; c[o + 3] = e.replyBytesNumber;
      this.tcpState[id] = tcp;
      if (isDying(e)) fl |= F_KERNEL_DYING;
      this.stopMs[id] = e.stopTimeMs > 0 && (fl & F_KERNEL_DYING) !== 0 ? e.stopTimeMs : nowMs;
      // Active: new packets or a new TCP state since the last export (CheckConntrackConnActive).
      const active = c[o] > c[o + 4] || c[o + 2] > c[o + 6] || tcp !== this.prevTcpState[id];
      fl = active ? fl | F_ACTIVE : fl & ~F_ACTIVE;
      if (active) {
        this.idleDeadline[id] = nowMs + this.opts.idleTimeoutMs;
        if (!this.queue.has(id)) this.activeDeadline[id] = nowMs + this.opts.activeTimeoutMs;
        this.queue.set(id, Math.min(this.activeDeadline[id], this.idleDeadline[id]));
      }
      this.flags[id] = fl;
      return;
    }
    this.addNew(e, k, h, family, nowMs);
  }

  /**
   * Pops up to `max` connections whose deadline passed, as export snapshots, and updates their state
   * (GetExpiredConns + UpdateConnAndQueue).
   */
  popExpired(nowMs: number, max: number, out: Connection[]): number {
    let n = 0;
    while (n < max) {
      const id = this.queue.popExpired(nowMs);
      if (id < 0) break;
      let fl = this.flags[id];
      const dying = this.isDyingFlags(id, fl);
      if (dying) fl |= F_READY_TO_DELETE;
      else if (this.idleDeadline[id] <= nowMs) fl &= ~F_ACTIVE;
      const reason = dying ? EndReason.end : (fl & F_ACTIVE) !== 0 ? EndReason.active : EndReason.idle;
      out.push(this.snapshot(id, reason));
      n++;
      // The export consumes the deltas: "previous" counters advance to the current ones.
      const c = this.counters;
      const o = id * 8;
      c[o + 4] = c[o]; c[o + 5] = c[o + 1]; c[o + 6] = c[o + 2]; c[o + 7] = c[o + 3];
      this.prevTcpState[id] = this.tcpState[id];
      this.lastExportMs[id] = nowMs;
      if (!dying && (fl & F_ACTIVE) !== 0) {
        this.activeDeadline[id] = nowMs + this.opts.activeTimeoutMs;
        this.queue.set(id, Math.min(this.activeDeadline[id], this.idleDeadline[id]));
      }
      this.flags[id] = fl;
    }
    this.stats.exported += n;
    return n;
  }

  /** Calls `fn` with a snapshot of every tracked connection (flowEndReason 0). For debugging and tests. */
  forEach(fn: (c: Connection) => void): void {
    for (let id = 0; id < this.highWater; id++) if ((this.flags[id] & F_USED) !== 0) fn(this.snapshot(id, 0));
  }

  /** Heap bytes held by the store's arrays (excluding shared contexts). */
  get byteSize(): number {
    return this.keys.byteLength + this.origDst.byteLength + this.origDstPort.byteLength + this.flags.byteLength +
      this.tcpState.byteLength * 2 + this.counters.byteLength + this.startMs.byteLength * 5 + this.hashOf.byteLength +
      this.next.byteLength + this.buckets.byteLength + this.contexts.length * 8 + this.queue.byteSize;
  }

  private addNew(e: ConntrackEntryView, k: Uint8Array, h: number, family: 4 | 6, nowMs: number): void {
    if (this.count >= this.opts.maxConnections) {
      this.stats.droppedFull++;
      return;
    }
    const startMs = e.startTimeMs > 0 ? e.startTimeMs : nowMs;
    const sourceIP = e.address(AddressSlot.OrigSrc);
    const destinationIP = e.address(AddressSlot.ReplySrc);
    const originalDestinationIP = e.address(AddressSlot.OrigDst);
    const context = this.opts.resolveContext({
      family, sourceIP, destinationIP, originalDestinationIP,
      protocolIdentifier: e.protocol,
      sourceTransportPort: e.origSrcPort,
      destinationTransportPort: e.replySrcPort,
      originalDestinationPort: e.origDstPort,
      mark: e.mark,
      startSeconds: Math.floor(startMs / 1000),
    });
    if (context === null) {
      this.stats.skippedNoLocalPod++;
      return;
    }
    const id = this.allocate();
    this.keys.set(k, id * KEY);
    this.hashOf[id] = h;
    const b = h & (this.buckets.length - 1);
    this.next[id] = this.buckets[b];
    this.buckets[b] = id;
    this.putAddress(e, AddressSlot.OrigDst, this.origDst, id * 16);
    this.origDstPort[id] = e.origDstPort;
    const dnat = originalDestinationIP !== destinationIP || e.origDstPort !== e.replySrcPort;
    let fl = F_USED | F_PRESENT | F_ACTIVE | (dnat ? F_SERVICE : 0);
    if (isDying(e)) fl |= F_KERNEL_DYING;
    this.flags[id] = fl;
    this.tcpState[id] = e.tcpStateCode;
    this.prevTcpState[id] = -1;
    const c = this.counters;
    const o = id * 8;
    c[o] = e.origPacketsNumber; c[o + 1] = e.origBytesNumber;
    c[o + 2] = e.replyPacketsNumber; c[o + 3] = e.replyBytesNumber;
    c[o + 4] = 0; c[o + 5] = 0; c[o + 6] = 0; c[o + 7] = 0;
    this.startMs[id] = startMs;
    this.stopMs[id] = e.stopTimeMs > 0 && (fl & F_KERNEL_DYING) !== 0 ? e.stopTimeMs : nowMs;
    this.lastExportMs[id] = startMs;
    this.activeDeadline[id] = nowMs + this.opts.activeTimeoutMs;
    this.idleDeadline[id] = nowMs + this.opts.idleTimeoutMs;
    this.contexts[id] = context;
    this.queue.set(id, Math.min(this.activeDeadline[id], this.idleDeadline[id]));
    this.count++;
    this.stats.added++;
    this.stats.tracked = this.count;
  }

  /** Dying: TCP TIME_WAIT or CLOSE; no TCP state and the kernel's dying bit; or gone from conntrack. */
  private isDyingFlags(id: number, fl: number): boolean {
    const s = this.tcpState[id];
    if (s === TCP_TIME_WAIT || s === TCP_CLOSE) return true;
    if (s < 0 && (fl & F_KERNEL_DYING) !== 0) return true;
    return (fl & F_PRESENT) === 0;
  }

  private snapshot(id: number, reason: number): Connection {
    const k = this.keys;
    const base = id * KEY;
    const family = k[base + 37] === 6 ? 6 : 4;
    const fmt = (arr: Uint8Array, p: number): string => (family === 4 ? formatIPv4(arr, p + 12) : formatIPv6(arr, p));
    const c = this.counters;
    const o = id * 8;
    const delta = (i: number): bigint => BigInt(Math.max(0, c[o + i] - c[o + 4 + i]));
    const tcp = this.tcpState[id];
    return {
      family,
      flowStartSeconds: Math.floor(this.startMs[id] / 1000),
      flowEndSeconds: Math.floor(this.stopMs[id] / 1000),
      flowEndReason: reason,
      sourceIP: fmt(k, base),
      destinationIP: fmt(k, base + 16),
      sourceTransportPort: (k[base + 32] << 8) | k[base + 33],
      destinationTransportPort: (k[base + 34] << 8) | k[base + 35],
      protocolIdentifier: k[base + 36],
      packetTotalCount: BigInt(c[o]),
      octetTotalCount: BigInt(c[o + 1]),
      packetDeltaCount: delta(0),
      octetDeltaCount: delta(1),
      reversePacketTotalCount: BigInt(c[o + 2]),
      reverseOctetTotalCount: BigInt(c[o + 3]),
      reversePacketDeltaCount: delta(2),
      reverseOctetDeltaCount: delta(3),
      tcpState: k[base + 36] === 6 ? tcpStateName(tcp) : '',
      destinationClusterIP: (this.flags[id] & F_SERVICE) !== 0 ? fmt(this.origDst, id * 16) : '',
      context: this.contexts[id]!,
    };
  }

  private putAddress(e: ConntrackEntryView, slot: AddressSlotType, target: Uint8Array, offset: number): void {
    if (e.family === 'ipv6') {
      e.copyAddress(slot, target, offset);
      return;
    }
    // IPv4-mapped: ::ffff:a.b.c.d
    target.fill(0, offset, offset + 10);
    target[offset + 10] = 0xff;
    target[offset + 11] = 0xff;
    const v = e.ipv4(slot);
    target[offset + 12] = v >>> 24; target[offset + 13] = v >>> 16;
    target[offset + 14] = v >>> 8; target[offset + 15] = v;
  }

  /** The connection whose key equals the scratch key, or -1. */
  private find(h: number): number {
    const w = this.keyWords;
    const k = this.scratchWords;
    for (let id = this.buckets[h & (this.buckets.length - 1)]; id >= 0; id = this.next[id]) {
      if (this.hashOf[id] !== h) continue;
      const b = id * WORDS;
      if (w[b] === k[0] && w[b + 1] === k[1] && w[b + 2] === k[2] && w[b + 3] === k[3] && w[b + 4] === k[4] &&
        w[b + 5] === k[5] && w[b + 6] === k[6] && w[b + 7] === k[7] && w[b + 8] === k[8] && w[b + 9] === k[9]) return id;
    }
    return -1;
  }

  private delete(id: number): void {
    const b = this.hashOf[id] & (this.buckets.length - 1);
    if (this.buckets[b] === id) this.buckets[b] = this.next[id];
    else {
      let p = this.buckets[b];
      while (p >= 0 && this.next[p] !== id) p = this.next[p];
      if (p >= 0) this.next[p] = this.next[id];
    }
    this.queue.remove(id);
    this.flags[id] = 0;
    this.contexts[id] = undefined;
    this.next[id] = this.freeHead;
    this.freeHead = id;
    this.count--;
    this.stats.deleted++;
    this.stats.tracked = this.count;
  }

  private allocate(): number {
    if (this.freeHead >= 0) {
      const id = this.freeHead;
      this.freeHead = this.next[id];
      return id;
    }
    if (this.highWater >= this.capacity) this.grow(this.capacity * 2);
    return this.highWater++;
  }

  private grow(cap: number): void {
    const copy = <T extends Uint8Array | Uint16Array | Int8Array | Int32Array | Float64Array>(old: T, make: (n: number) => T, stride = 1): T => {
      const a = make(cap * stride);
      a.set(old as never);
      return a;
    };
    this.keys = copy(this.keys, (n) => new Uint8Array(n), KEY);
    this.keyWords = new Uint32Array(this.keys.buffer);
    this.origDst = copy(this.origDst, (n) => new Uint8Array(n), 16);
    this.origDstPort = copy(this.origDstPort, (n) => new Uint16Array(n));
    this.flags = copy(this.flags, (n) => new Uint8Array(n));
    this.tcpState = copy(this.tcpState, (n) => new Int8Array(n));
    this.prevTcpState = copy(this.prevTcpState, (n) => new Int8Array(n));
    this.counters = copy(this.counters, (n) => new Float64Array(n), 8);
    this.startMs = copy(this.startMs, (n) => new Float64Array(n));
    this.stopMs = copy(this.stopMs, (n) => new Float64Array(n));
    this.lastExportMs = copy(this.lastExportMs, (n) => new Float64Array(n));
    this.activeDeadline = copy(this.activeDeadline, (n) => new Float64Array(n));
    this.idleDeadline = copy(this.idleDeadline, (n) => new Float64Array(n));
    this.hashOf = copy(this.hashOf, (n) => new Int32Array(n));
    this.next = copy(this.next, (n) => new Int32Array(n));
    this.contexts.length = cap;
    // Rehash into twice as many buckets as slots.
    const buckets = new Int32Array(cap * 2).fill(-1);
    for (let id = 0; id < this.highWater; id++) {
      if ((this.flags[id] & F_USED) === 0) continue;
      const b = this.hashOf[id] & (buckets.length - 1);
      this.next[id] = buckets[b];
      buckets[b] = id;
    }
    // Free slots keep their free-list links only if no rehash touched them: rebuild the list.
    this.freeHead = -1;
    for (let id = this.highWater - 1; id >= 0; id--) {
      if ((this.flags[id] & F_USED) === 0) {
        this.next[id] = this.freeHead;
        this.freeHead = id;
      }
    }
    this.buckets = buckets;
    this.capacity = cap;
  }
}

/** A multiplicative hash over the key's 10 words (the last two octets are always 0). */
function hashKey(w: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < WORDS; i++) {
    h = Math.imul(h ^ w[i], 0x9e3779b1);
    h ^= h >>> 15;
  }
  return h & 0x7fffffff;
}
