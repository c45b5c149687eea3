/**
 * The aggregation store: one slot per flow, its fields held column-wise in typed arrays (and one
 * array of shared strings), indexed by the 5-tuple. No object per flow: 64-bit counters as
 * BigUint64Array cells (8 bytes, no BigInt object each), small integers in Uint8/16/32 arrays,
 * strings interned.
 *
 * The index is an open-addressing hash table (linear probing, backward-shift deletion) of slot
 * numbers in an Int32Array, hashed over the 5-tuple's parts and verified against the slot's own
 * columns: no key string is built per record and nothing per flow is allocated for the index
 * (a Map keyed by a 5-tuple string cost a string concatenation, flattening and hashing per record,
 * and ~150 bytes per flow).
 *
 * Columns (index within a slot's stride):
 *   u64 (30): 0..7   the eight common statistics, in STAT_NAMES order
 *             8..23  per-side statistics: 8 + 2k = stat k FromSourceNode, 8 + 2k + 1 = FromDestinationNode
 *             24..29 throughput, throughputFromSourceNode, throughputFromDestinationNode,
 *                    reverseThroughput, reverseThroughputFromSourceNode, reverseThroughputFromDestinationNode
 *   u32 (4):  flowStartSeconds, flowEndSeconds, flowEndSecondsFromSourceNode, flowEndSecondsFromDestinationNode
 *   u16 (3):  sourceTransportPort, destinationTransportPort, destinationServicePort
 *   u8 (12):  protocolIdentifier, flowEndReason, ingress type, ingress action, egress type, egress action,
 *             flowType, family, correlation state, first side, retries, flags
 *   str (24): see STR below
 *   f64 (2):  active and inactive expiry deadlines (ms)
 */
import type { FieldValue, IpFamily } from '../../ipfix/index.ts';
import { StringInterner } from './interner.ts';
import { A, STAT_AGENT_POS, STAT_COUNT } from './layout.ts';

export const U64_STRIDE = 30;
export const U64_SIDE = 8;
export const U64_THROUGHPUT = 24;
export const U32_STRIDE = 4;
export const U32 = { flowStartSeconds: 0, flowEndSeconds: 1, endFromSource: 2, endFromDestination: 3 } as const;
export const U16_STRIDE = 3;
export const U16 = { sourceTransportPort: 0, destinationTransportPort: 1, destinationServicePort: 2 } as const;
export const U8_STRIDE = 12;
export const U8 = {
  protocolIdentifier: 0, flowEndReason: 1, ingressNetworkPolicyType: 2, ingressNetworkPolicyRuleAction: 3,
  egressNetworkPolicyType: 4, egressNetworkPolicyRuleAction: 5, flowType: 6, family: 7,
  state: 8, firstSide: 9, retries: 10, flags: 11,
} as const;

/** String columns; `fromAgent` gives the agent-record position each is copied from (-1: not in it). */
export const STR = {
  sourceAddress: 0, destinationAddress: 1,
  sourcePodName: 2, sourcePodNamespace: 3, sourceNodeName: 4,
  destinationPodName: 5, destinationPodNamespace: 6, destinationNodeName: 7,
  destinationServicePortName: 8,
  ingressNetworkPolicyName: 9, ingressNetworkPolicyNamespace: 10, ingressNetworkPolicyRuleName: 11,
  egressNetworkPolicyName: 12, egressNetworkPolicyNamespace: 13, egressNetworkPolicyRuleName: 14,
  tcpState: 15, egressName: 16, egressIP: 17, appProtocolName: 18, httpVals: 19, egressNodeName: 20,
  destinationClusterIP: 21, sourcePodLabels: 22, destinationPodLabels: 23,
} as const;
export const STR_STRIDE = 24;
const STR_FROM_AGENT: readonly number[] = [
  A.sourceAddress, A.destinationAddress,
  A.sourcePodName, A.sourcePodNamespace, A.sourceNodeName,
  A.destinationPodName, A.destinationPodNamespace, A.destinationNodeName,
  A.destinationServicePortName,
  A.ingressNetworkPolicyName, A.ingressNetworkPolicyNamespace, A.ingressNetworkPolicyRuleName,
  A.egressNetworkPolicyName, A.egressNetworkPolicyNamespace, A.egressNetworkPolicyRuleName,
  A.tcpState, A.egressName, A.egressIP, A.appProtocolName, A.httpVals, A.egressNodeName,
  A.destinationClusterIP, -1, -1,
];
const U8_FROM_AGENT: readonly number[] = [
  A.protocolIdentifier, A.flowEndReason, A.ingressNetworkPolicyType, A.ingressNetworkPolicyRuleAction,
  A.egressNetworkPolicyType, A.egressNetworkPolicyRuleAction, A.flowType,
];

/** Correlation state of a flow (u8 column `state`). */
export const State = { notRequired: 0, waiting: 1, correlated: 2, oneSided: 3 } as const;
/** Side a record comes from (upstream isRecordFromSrc / isRecordFromDst); neither = 0. */
export const Side = { none: 0, source: 1, destination: 2 } as const;
/** Bits of the u8 column `flags`. */
export const Flag = {
  /** upstream ReadyToSend */
  ready: 1,
  /** new data since the last export (upstream #8278 updatedSinceLastExport) */
  dirty: 2,
  /** upstream areCorrelatedFieldsFilled: Pod fields complete, no metadata lookup needed */
  podFieldsFilled: 4,
  /** upstream areExternalFieldsFilled: labels looked up once */
  externalFieldsFilled: 8,
  /** the slot holds a flow */
  live: 16,
} as const;

/** FNV-1a-style 32-bit hash of the 5-tuple (addresses as their canonical text). */
export function flowHash(src: string, dst: string, protocol: number, sport: number, dport: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < src.length; i++) h = Math.imul(h ^ src.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0x20, 0x01000193);
  for (let i = 0; i < dst.length; i++) h = Math.imul(h ^ dst.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ ((protocol << 16) | sport), 0x01000193);
  h = Math.imul(h ^ dport, 0x01000193);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) | 0;
}

export class FlowStore {
  capacity: number;
  u64: BigUint64Array;
  u32: Uint32Array;
  u16: Uint16Array;
  u8: Uint8Array;
  f64: Float64Array;
  /** Strings of all slots, STR_STRIDE per slot; shared instances through the interner. */
  readonly str: string[] = [];
  /** 5-tuple hash of each slot. */
  private hashes: Int32Array;
  /** Hash table of slot + 1 (0 = empty); its size is a power of two, at most half full. */
  private table: Int32Array;
  private count = 0;
  private free: Int32Array;
  private freeCount = 0;
  /** Slots ever used (high-water mark); slots below it are live or on the free list. */
  private used = 0;
  readonly interner = new StringInterner();

  constructor(initialCapacity = 1024) {
    this.capacity = Math.max(16, initialCapacity);
    this.u64 = new BigUint64Array(this.capacity * U64_STRIDE);
    this.u32 = new Uint32Array(this.capacity * U32_STRIDE);
    this.u16 = new Uint16Array(this.capacity * U16_STRIDE);
    this.u8 = new Uint8Array(this.capacity * U8_STRIDE);
    this.f64 = new Float64Array(this.capacity * 2);
    this.hashes = new Int32Array(this.capacity);
    let size = 32;
    while (size < this.capacity * 2) size *= 2;
    this.table = new Int32Array(size);
    this.free = new Int32Array(16);
  }

  get size(): number {
    return this.count;
  }

  /** The slot of a 5-tuple (hash from flowHash), or -1. */
  find(hash: number, src: string, dst: string, protocol: number, sport: number, dport: number): number {
    const table = this.table;
    const mask = table.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const e = table[i];
      if (e === 0) return -1;
      const slot = e - 1;
      if (this.hashes[slot] !== hash) continue;
      const b16 = slot * U16_STRIDE;
      if (this.u16[b16] !== sport || this.u16[b16 + 1] !== dport || this.u8[slot * U8_STRIDE] !== protocol) continue;
      const bs = slot * STR_STRIDE;
      if (this.str[bs] === src && this.str[bs + 1] === dst) return slot;
    }
  }

  /** Calls `fn` with every live slot from `from` on (in slot order) until it returns false. */
  forEachSlot(fn: (slot: number) => boolean | void, from = 0): void {
    const u8 = this.u8;
    for (let slot = from; slot < this.used; slot++) {
      if ((u8[slot * U8_STRIDE + U8.flags] & Flag.live) !== 0 && fn(slot) === false) return;
    }
  }

  /**
   * Takes a slot for a 5-tuple not in the store (hash from flowHash over the record's key) and
   * fills it from an agent record: every column is written, the per-side and throughput columns
   * with zero (the caller applies upstream's initial values).
   */
  create(hash: number, v: readonly FieldValue[], family: IpFamily): number {
    let slot: number;
    if (this.freeCount > 0) slot = this.free[--this.freeCount];
    else {
      if (this.used === this.capacity) this.grow();
      slot = this.used++;
    }

    const u64 = this.u64;
    const b64 = slot * U64_STRIDE;
    for (let k = 0; k < STAT_COUNT; k++) u64[b64 + k] = v[STAT_AGENT_POS[k]] as bigint;
    for (let i = U64_SIDE; i < U64_STRIDE; i++) u64[b64 + i] = 0n;

    const b32 = slot * U32_STRIDE;
    this.u32[b32] = v[A.flowStartSeconds] as number;
    this.u32[b32 + 1] = v[A.flowEndSeconds] as number;
    this.u32[b32 + 2] = 0;
    this.u32[b32 + 3] = 0;

    const b16 = slot * U16_STRIDE;
    this.u16[b16] = v[A.sourceTransportPort] as number;
    this.u16[b16 + 1] = v[A.destinationTransportPort] as number;
    this.u16[b16 + 2] = v[A.destinationServicePort] as number;

    const u8 = this.u8;
    const b8 = slot * U8_STRIDE;
    for (let i = 0; i < U8_FROM_AGENT.length; i++) u8[b8 + i] = v[U8_FROM_AGENT[i]] as number;
    u8[b8 + U8.family] = family;
    u8[b8 + U8.state] = 0;
    u8[b8 + U8.firstSide] = 0;
    u8[b8 + U8.retries] = 0;
    u8[b8 + U8.flags] = Flag.live;

    // Written in column order, so a new slot's strings append to `str` and keep it a packed array.
    const str = this.str;
    const bs = slot * STR_STRIDE;
    const interner = this.interner;
    for (let i = 0; i < STR_STRIDE; i++) {
      const from = STR_FROM_AGENT[i];
      str[bs + i] = from < 0 ? '' : interner.intern(v[from] as string);
    }

    this.hashes[slot] = hash;
    if (++this.count * 2 > this.table.length) this.rehash(this.table.length * 2);
    else this.insert(slot);
    return slot;
  }

  /** Frees a slot: removes it from the index, drops its string references. */
  release(slot: number): void {
    this.unlink(slot);
    this.count--;
    this.u8[slot * U8_STRIDE + U8.flags] = 0;
    const bs = slot * STR_STRIDE;
    for (let i = 0; i < STR_STRIDE; i++) this.str[bs + i] = '';
    if (this.freeCount === this.free.length) {
      const free = new Int32Array(this.free.length * 2);
      free.set(this.free);
      this.free = free;
    }
    this.free[this.freeCount++] = slot;
  }

  private insert(slot: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let i = this.hashes[slot] & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = slot + 1;
  }

  /** Removes a slot from the table, shifting later entries of its probe run back (no tombstones). */
  private unlink(slot: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let i = this.hashes[slot] & mask;
    while (table[i] !== slot + 1) i = (i + 1) & mask;
    let hole = i;
    for (let j = (i + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[table[j] - 1] & mask;
      // Move entry j into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (!stays) {
        table[hole] = table[j];
        hole = j;
      }
    }
    table[hole] = 0;
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    const u8 = this.u8;
    for (let slot = 0; slot < this.used; slot++) {
      if ((u8[slot * U8_STRIDE + U8.flags] & Flag.live) !== 0) this.insert(slot);
    }
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const u64 = new BigUint64Array(capacity * U64_STRIDE);
    u64.set(this.u64);
    this.u64 = u64;
    const u32 = new Uint32Array(capacity * U32_STRIDE);
    u32.set(this.u32);
    this.u32 = u32;
    const u16 = new Uint16Array(capacity * U16_STRIDE);
    u16.set(this.u16);
    this.u16 = u16;
    const u8 = new Uint8Array(capacity * U8_STRIDE);
    u8.set(this.u8);
    this.u8 = u8;
    const f64 = new Float64Array(capacity * 2);
    f64.set(this.f64);
    this.f64 = f64;
    const hashes = new Int32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
    this.capacity = capacity;
  }

  /** Bytes held outside the JS heap by the typed-array columns. */
  get columnBytes(): number {
    return this.u64.byteLength + this.u32.byteLength + this.u16.byteLength + this.u8.byteLength + this.f64.byteLength
      + this.hashes.byteLength + this.table.byteLength + this.free.byteLength;
  }
}
