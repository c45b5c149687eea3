/**
 * The aggregation process: preprocess → correlate → aggregate → expire → export, with no sockets
 * and no timers of its own (the caller calls `expire()`, e.g. every second, and may use
 * `nextExpiry()` to sleep exactly as long as needed). Time comes from an injected clock in ms.
 *
 * Semantics follow upstream (Antrea v2.3 / go-ipfix v0.14, and Antrea HEAD where noted); see
 * rules.ts for the record-level rules. At the flow level:
 *
 * - A new flow is queued with active deadline now + activeFlowRecordTimeout and inactive deadline
 *   now + inactiveFlowRecordTimeout; every record of the flow moves the inactive deadline to
 *   now + inactiveFlowRecordTimeout.
 * - expire(now) takes every flow whose earlier deadline has passed:
 *   - not ready (an inter-Node flow still waiting for the other Node): the wait is counted
 *     (`correlationWaits`) and both deadlines re-armed, up to `maxCorrelationRetries` times (upstream
 *     MaxRetries = 2). Beyond upstream: after that, instead of deleting the flow unseen, it is marked
 *     'one-sided', exported with what is known and counted (`oneSidedFlows`); if the other Node's
 *     record turns up later it is still correlated (`lateCorrelations`). `oneSidedExport: false`
 *     restores upstream's silent deletion (counted as `oneSidedDropped`).
 *   - ready: exported, unless nothing arrived since the last export (upstream #8278; counted as
 *     `skippedExports`; unlike upstream, a record ignored as stale does not count as new data);
 *     then deleted if the inactive deadline has passed, else the active deadline is re-armed.
 *   - deadlines are due when `deadline <= now` (Antrea HEAD's comparison).
 * - `exportOnReady` (default true, Antrea HEAD #7997): a flow is exported at the first expire()
 *   after it becomes ready (new non-correlated flow, or correlation completed) instead of after a
 *   full activeFlowRecordTimeout. false = Antrea v2.3 (first export on the active timer).
 * - On export the enrich hook runs first (upstream fillK8sMetadata while Pod fields may be
 *   incomplete, fillPodLabels once), the sink receives the AggregatedFlow, then the deltas and
 *   throughputs are reset. A throwing sink is counted (`sinkErrors`) and the flow carries on.
 */
import { ConfigError, IpfixError } from '../../errors.ts';
import { FlowType, type DataRecord, type FieldValue, type IpFamily } from '../../ipfix/index.ts';
import { materialize, type AggregatedFlow } from './aggregated-flow.ts';
import { ExpiryQueue } from './expiry-queue.ts';
import { isCompleteFilter, normalizeFilter, type FlowFilter } from './flow-key.ts';
import { Flag, flowHash, FlowStore, Side, State, STR, STR_STRIDE, U16, U16_STRIDE, U8, U8_STRIDE } from './flow-store.ts';
import { A } from './layout.ts';
import { Preprocessor } from './preprocess.ts';
import { aggregate, correlate, initAggregation, isCorrelationRequired, recordSide, resetAfterExport, sameNode } from './rules.ts';

/** What the enrich hook is asked to fill. */
export interface EnrichNeeds {
  /**
   * Pod name/namespace/Node of either end may be missing (inter-Node flow without correlation, or
   * one-sided): look them up by address at flowStartSeconds (upstream fillK8sMetadata). Asked until
   * the flow has been exported once in that state.
   */
  readonly podFields: boolean;
  /** First export of the flow: fill sourcePodLabels/destinationPodLabels (upstream fillPodLabels). */
  readonly labels: boolean;
}

/**
 * Fills metadata the records do not carry. It may change sourcePodName, sourcePodNamespace,
 * sourceNodeName, destinationPodName, destinationPodNamespace, destinationNodeName,
 * sourcePodLabels and destinationPodLabels of `flow`; those are kept in the store. Other fields
 * changed here reach this export's sinks only.
 */
export type EnrichHook = (flow: AggregatedFlow, needs: EnrichNeeds) => void;
export type FlowSink = (flow: AggregatedFlow) => void;

export interface AggregationOptions {
  /** Receives every exported flow (synchronously, from expire()/flush()). */
  sink: FlowSink;
  /** activeFlowRecordTimeout in ms (default 60 s). */
  activeTimeoutMs?: number;
  /** inactiveFlowRecordTimeout in ms (default 90 s). */
  inactiveTimeoutMs?: number;
  /** Expiry pops of a not-ready flow before it is given up on (upstream MaxRetries = 2). */
  maxCorrelationRetries?: number;
  /** Export a flow one-sided when correlation never happens (default true; false = upstream: delete). */
  oneSidedExport?: boolean;
  /** Export a flow as soon as it becomes ready (default true, Antrea HEAD); false = Antrea v2.3. */
  exportOnReady?: boolean;
  /** clusterId element of every exported flow (default ""). */
  clusterId?: string;
  enrich?: EnrichHook;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Flow slots to allocate up front (the store doubles when full). */
  initialCapacity?: number;
}

export interface AggregationStats {
  /** Flows in the store. */
  numFlows: number;
  /** Data records handed to ingest(). */
  recordsReceived: number;
  /** Records rejected as invalid (no flow key). */
  recordsDropped: number;
  /** Records that needed version-skew fixing (padding, truncation or reordering by name). */
  recordsPreprocessed: number;
  /** Records ignored as stale / out of order for their Node. */
  recordsStale: number;
  /** Flows exported to the sink (each export counts). */
  recordsExported: number;
  /** Inter-Node flows correlated from both Nodes' records. */
  flowsCorrelated: number;
  /** Expiry pops of flows still waiting for the other Node's record. */
  correlationWaits: number;
  /** Flows given up on waiting and marked one-sided. */
  oneSidedFlows: number;
  /** Exports of one-sided flows. */
  oneSidedExports: number;
  /** One-sided flows deleted unexported because oneSidedExport is off (upstream behaviour). */
  oneSidedDropped: number;
  /** One-sided flows whose other side arrived later and was correlated. */
  lateCorrelations: number;
  /** Expiries that exported nothing because no new data had arrived since the last export. */
  skippedExports: number;
  /** Flows removed from the store. */
  flowsExpired: number;
  /** Exceptions thrown by the sink or the enrich hook. */
  sinkErrors: number;
}

const POD_FIELDS = [
  'sourcePodName', 'sourcePodNamespace', 'sourceNodeName', 'destinationPodName', 'destinationPodNamespace', 'destinationNodeName',
] as const;
const LABEL_FIELDS = ['sourcePodLabels', 'destinationPodLabels'] as const;
const ENRICHED = [...POD_FIELDS, ...LABEL_FIELDS];

export class AggregationProcess {
  private readonly store: FlowStore;
  private readonly queue: ExpiryQueue;
  private readonly preprocessor = new Preprocessor();
  private readonly sink: FlowSink;
  private readonly enrich: EnrichHook | undefined;
  private readonly now: () => number;
  readonly activeTimeoutMs: number;
  readonly inactiveTimeoutMs: number;
  readonly maxCorrelationRetries: number;
  readonly oneSidedExport: boolean;
  readonly exportOnReady: boolean;
  readonly clusterId: string;
  /** Slot at which a flush() cut short by maxExports carries on. */
  private flushFrom = 0;
  private readonly counters = {
    recordsReceived: 0, recordsStale: 0, recordsExported: 0, flowsCorrelated: 0, correlationWaits: 0,
    oneSidedFlows: 0, oneSidedExports: 0, oneSidedDropped: 0, lateCorrelations: 0, skippedExports: 0,
    flowsExpired: 0, sinkErrors: 0,
  };

  constructor(options: AggregationOptions) {
    this.sink = options.sink;
    this.enrich = options.enrich;
    this.now = options.now ?? Date.now;
    this.activeTimeoutMs = options.activeTimeoutMs ?? 60_000;
    this.inactiveTimeoutMs = options.inactiveTimeoutMs ?? 90_000;
    this.maxCorrelationRetries = options.maxCorrelationRetries ?? 2;
    this.oneSidedExport = options.oneSidedExport ?? true;
    this.exportOnReady = options.exportOnReady ?? true;
    this.clusterId = options.clusterId ?? '';
    for (const [key, value] of [['activeTimeoutMs', this.activeTimeoutMs], ['inactiveTimeoutMs', this.inactiveTimeoutMs]] as const) {
      if (!(value > 0) || !Number.isFinite(value)) throw new ConfigError('BAD_VALUE', `${key} must be a positive number of ms, got ${value}`, { key, value });
    }
    const retries = this.maxCorrelationRetries;
    if (!Number.isInteger(retries) || retries < 0 || retries > 250) {
      throw new ConfigError('BAD_VALUE', `maxCorrelationRetries must be an integer in 0..250, got ${retries}`, { key: 'maxCorrelationRetries', value: retries });
    }
    this.store = new FlowStore(options.initialCapacity);
    this.queue = new ExpiryQueue(this.store.capacity);
  }

  /**
   * Takes one decoded data record (any agent version). Returns null when it was aggregated (or
   * ignored as stale), or the IpfixError it was rejected with (counted in recordsDropped). `now`
   * (default: the clock) lets a caller read the clock once for all the records of one message.
   */
  ingest(record: DataRecord, now: number = this.now()): IpfixError | null {
    this.counters.recordsReceived++;
    const r = this.preprocessor.normalize(record);
    if (r instanceof IpfixError) return r;
    this.add(r.values, r.family, now);
    return null;
  }

  /** Aggregates one record already in the agent's 42-element layout. */
  private add(v: readonly FieldValue[], family: IpFamily, now: number): void {
    const s = this.store;
    const src = v[A.sourceAddress] as string;
    const dst = v[A.destinationAddress] as string;
    const protocol = v[A.protocolIdentifier] as number;
    const sport = v[A.sourceTransportPort] as number;
    const dport = v[A.destinationTransportPort] as number;
    const hash = flowHash(src, dst, protocol, sport, dport);
    const correlationRequired = isCorrelationRequired(v);
    const side = recordSide(v);
    let slot = s.find(hash, src, dst, protocol, sport, dport);
    if (slot < 0) {
      slot = s.create(hash, v, family);
      // Without correlation the record stands for both Nodes; with it, for the side it came from
      // (a record from neither side counts as the destination's, as upstream).
      const fromSrc = side === Side.source;
      initAggregation(s, slot, v, !correlationRequired || fromSrc, !correlationRequired || !fromSrc);
      const b8 = slot * U8_STRIDE;
      s.u8[b8 + U8.firstSide] = side;
      let flags = s.u8[b8 + U8.flags] | Flag.dirty;
      if (correlationRequired) {
        s.u8[b8 + U8.state] = State.waiting;
      } else {
        s.u8[b8 + U8.state] = State.notRequired;
        flags |= Flag.ready;
        // Non-correlated inter-Node flows (denied on one side) lack the other end's Pod fields.
        if (v[A.flowType] !== FlowType.interNode) flags |= Flag.podFieldsFilled;
      }
      s.u8[b8 + U8.flags] = flags;
      const active = (flags & Flag.ready) !== 0 && this.exportOnReady ? now : now + this.activeTimeoutMs;
      const inactive = now + this.inactiveTimeoutMs;
      s.f64[2 * slot] = active;
      s.f64[2 * slot + 1] = inactive;
      this.queue.push(slot, Math.min(active, inactive));
      return;
    }

    const b8 = slot * U8_STRIDE;
    let flags = s.u8[b8 + U8.flags];
    let becameReady = false;
    let changed: boolean;
    if (correlationRequired) {
      const state = s.u8[b8 + U8.state];
      const open = state === State.waiting || state === State.oneSided;
      if (open && !sameNode(side, s.u8[b8 + U8.firstSide])) {
        correlate(s, slot, v);
        if (state === State.waiting) this.counters.flowsCorrelated++;
        else this.counters.lateCorrelations++;
        s.u8[b8 + U8.state] = State.correlated;
        becameReady = true;
        flags |= Flag.ready | Flag.podFieldsFilled | Flag.dirty;
      }
      const fromSrc = side === Side.source;
      changed = aggregate(s, slot, v, fromSrc, !fromSrc);
    } else {
      changed = aggregate(s, slot, v, true, true);
    }
    if (changed) flags |= Flag.dirty;
    else this.counters.recordsStale++;
    s.u8[b8 + U8.flags] = flags;
    s.f64[2 * slot + 1] = now + this.inactiveTimeoutMs;
    if (becameReady && this.exportOnReady) {
      s.f64[2 * slot] = now;
      this.queue.update(slot, now);
    }
    // A later inactive deadline is picked up lazily by expire(); nothing to do in the queue.
  }

  /**
   * Runs every due expiry: exports, retries, deletions. Returns the number of flows exported. With
   * `maxExports` it stops after that many exports; what is still due stays for the next call.
   */
  expire(now: number = this.now(), maxExports = Infinity): number {
    const s = this.store;
    const q = this.queue;
    const f64 = s.f64;
    let exported = 0;
    while (exported < maxExports && q.size > 0 && q.peekDeadline() <= now) {
      const slot = q.peekSlot();
      const due = Math.min(f64[2 * slot], f64[2 * slot + 1]);
      if (due > now) {
        q.update(slot, due); // the inactive deadline moved on since it was queued
        continue;
      }
      q.pop();
      const b8 = slot * U8_STRIDE;
      if ((s.u8[b8 + U8.flags] & Flag.ready) === 0) {
        this.counters.correlationWaits++;
        const retries = ++s.u8[b8 + U8.retries];
        if (retries <= this.maxCorrelationRetries) {
          f64[2 * slot] = now + this.activeTimeoutMs;
          f64[2 * slot + 1] = now + this.inactiveTimeoutMs;
          q.push(slot, Math.min(f64[2 * slot], f64[2 * slot + 1]));
          continue;
        }
        this.counters.oneSidedFlows++;
        if (!this.oneSidedExport) {
          this.counters.oneSidedDropped++;
          this.delete(slot);
          continue;
        }
        s.u8[b8 + U8.state] = State.oneSided;
        s.u8[b8 + U8.flags] |= Flag.ready;
      }
      if ((s.u8[b8 + U8.flags] & Flag.dirty) !== 0) {
        this.exportSlot(slot);
        exported++;
      } else {
        this.counters.skippedExports++;
      }
      if (f64[2 * slot + 1] <= now) {
        this.delete(slot);
        continue;
      }
      if (f64[2 * slot] <= now) f64[2 * slot] = now + this.activeTimeoutMs;
      q.push(slot, Math.min(f64[2 * slot], f64[2 * slot + 1]));
    }
    return exported;
  }

  /**
   * Exports every flow with data not exported yet, now, regardless of deadlines (for shutdown).
   * Flows still waiting for correlation go out as 'one-sided'. Returns the number exported. With
   * `maxExports`, stops after that many and the next limited call carries on where this one
   * stopped (in slot order); a call that returns less than `maxExports` has finished.
   */
  flush(maxExports = Infinity): number {
    let exported = 0;
    const s = this.store;
    s.forEachSlot((slot) => {
      if (exported >= maxExports) {
        this.flushFrom = slot;
        return false;
      }
      const b8 = slot * U8_STRIDE;
      if ((s.u8[b8 + U8.flags] & Flag.dirty) === 0) return;
      if ((s.u8[b8 + U8.flags] & Flag.ready) === 0) {
        this.counters.oneSidedFlows++;
        s.u8[b8 + U8.state] = State.oneSided;
        s.u8[b8 + U8.flags] |= Flag.ready;
      }
      this.exportSlot(slot);
      exported++;
    }, maxExports === Infinity ? 0 : this.flushFrom);
    if (exported < maxExports) this.flushFrom = 0;
    return exported;
  }

  /** Earliest time (ms) at which expire() has something to do; null when the store is empty. */
  nextExpiry(): number | null {
    const q = this.queue;
    const f64 = this.store.f64;
    while (q.size > 0) {
      const slot = q.peekSlot();
      const due = Math.min(f64[2 * slot], f64[2 * slot + 1]);
      if (due <= q.peekDeadline()) return due;
      q.update(slot, due); // queued before its inactive deadline moved on
    }
    return null;
  }

  private exportSlot(slot: number): void {
    const s = this.store;
    const b8 = slot * U8_STRIDE;
    const flags = s.u8[b8 + U8.flags];
    const flow = materialize(s, slot, this.clusterId);
    const podFields = (flags & Flag.podFieldsFilled) === 0;
    const labels = (flags & Flag.externalFieldsFilled) === 0;
    try {
      if (this.enrich && (podFields || labels)) {
        this.enrich(flow, { podFields, labels });
        this.keepEnriched(slot, flow, podFields, labels);
      }
      this.sink(flow);
    } catch {
      this.counters.sinkErrors++;
    }
    // Upstream sets both "filled" flags after the first attempt, whatever the lookups found.
    s.u8[b8 + U8.flags] = (flags | Flag.podFieldsFilled | Flag.externalFieldsFilled) & ~Flag.dirty;
    this.counters.recordsExported++;
    if (s.u8[b8 + U8.state] === State.oneSided) this.counters.oneSidedExports++;
    resetAfterExport(s, slot);
  }

  private keepEnriched(slot: number, flow: AggregatedFlow, podFields: boolean, labels: boolean): void {
    const s = this.store;
    const bs = slot * STR_STRIDE;
    const names: readonly (keyof typeof STR & keyof AggregatedFlow)[] = podFields && labels ? ENRICHED
      : podFields ? POD_FIELDS : labels ? LABEL_FIELDS : [];
    for (const name of names) {
      const value: unknown = flow[name];
      if (typeof value === 'string') s.str[bs + STR[name]] = s.interner.intern(value);
    }
  }

  private delete(slot: number): void {
    this.queue.remove(slot);
    this.store.release(slot);
    this.counters.flowsExpired++;
  }

  // ---- queries (in-progress state: deltas are "since the last export") ----

  /** The flow of an exact 5-tuple, or undefined. */
  get(sourceAddress: string, destinationAddress: string, protocol: number, sourcePort: number, destinationPort: number): AggregatedFlow | undefined {
    const f = normalizeFilter({ srcip: sourceAddress, dstip: destinationAddress, proto: protocol, srcport: sourcePort, dstport: destinationPort });
    const slot = this.store.find(flowHash(f.srcip, f.dstip, f.proto, f.srcport, f.dstport), f.srcip, f.dstip, f.proto, f.srcport, f.dstport);
    return slot < 0 ? undefined : materialize(this.store, slot, this.clusterId);
  }

  /**
   * Flows matching a partial 5-tuple (absent, "" or 0 = any); a complete one is a direct lookup.
   * Throws ApiError for a malformed filter value.
   */
  query(filter: FlowFilter = {}, limit = Infinity): AggregatedFlow[] {
    const f = normalizeFilter(filter);
    if (isCompleteFilter(f)) {
      const one = this.get(f.srcip, f.dstip, f.proto, f.srcport, f.dstport);
      return one ? [one] : [];
    }
    const s = this.store;
    const out: AggregatedFlow[] = [];
    s.forEachSlot((slot) => {
      if (out.length >= limit) return false;
      const bs = slot * STR_STRIDE;
      const b16 = slot * U16_STRIDE;
      if (f.srcip !== '' && s.str[bs + STR.sourceAddress] !== f.srcip) return;
      if (f.dstip !== '' && s.str[bs + STR.destinationAddress] !== f.dstip) return;
      if (f.proto !== 0 && s.u8[slot * U8_STRIDE + U8.protocolIdentifier] !== f.proto) return;
      if (f.srcport !== 0 && s.u16[b16 + U16.sourceTransportPort] !== f.srcport) return;
      if (f.dstport !== 0 && s.u16[b16 + U16.destinationTransportPort] !== f.dstport) return;
      out.push(materialize(s, slot, this.clusterId));
    });
    return out;
  }

  /** Every flow in the store. */
  list(): AggregatedFlow[] {
    return this.query({});
  }

  get numFlows(): number {
    return this.store.size;
  }

  stats(): AggregationStats {
    return {
      numFlows: this.store.size,
      recordsDropped: this.preprocessor.stats.recordsRejected,
      recordsPreprocessed: this.preprocessor.stats.recordsFixed,
      ...this.counters,
    };
  }

  /** Bytes the store's typed-array columns hold outside the JS heap (for memory accounting). */
  get columnBytes(): number {
    return this.store.columnBytes;
  }
}
