/**
 * Correlation and aggregation rules, as upstream's aggregation process applies them (go-ipfix v0.14
 * pkg/intermediate/aggregate.go, used by Antrea v2.3; the same logic in Antrea HEAD
 * pkg/flowaggregator/intermediate/aggregate.go). Each function names its upstream counterpart.
 *
 * One deliberate difference: a stale record (its flowEndSeconds not after the last one from the
 * same Node) is ignored completely. Upstream overwrites flowEndSecondsFrom{Source,Destination}Node
 * with the stale value before it gives up, so the next record's throughput is computed over a too
 * long interval; here that timestamp keeps the last applied value.
 */
import { FlowEndReason, FlowType, RuleAction, type FieldValue } from '../../ipfix/index.ts';
import { FlowStore, STR, Side, U16, U32, U32_STRIDE, U64_SIDE, U64_STRIDE, U64_THROUGHPUT, U8, U8_STRIDE, U16_STRIDE, STR_STRIDE } from './flow-store.ts';
import { mergeHttpVals } from './http-vals.ts';
import { A, STAT_AGENT_POS, STAT_COUNT, STAT_OCTET_TOTAL, STAT_REVERSE_OCTET_TOTAL } from './layout.ts';

/**
 * isCorrelationRequired: an inter-Node flow needs both Nodes' records, except when it was denied
 * at the source (egress Drop/Reject) or rejected at the destination (ingress Reject): then only one
 * Node ever reports it. An ingress Drop still needs both (the source Node reports its SYN_SENT
 * conntrack entry, the destination Node the deny record).
 */
export function isCorrelationRequired(v: readonly FieldValue[]): boolean {
  if (v[A.flowType] !== FlowType.interNode) return false;
  const egress = v[A.egressNetworkPolicyRuleAction];
  if (egress === RuleAction.drop || egress === RuleAction.reject) return false;
  return v[A.ingressNetworkPolicyRuleAction] !== RuleAction.reject;
}

/** isRecordFromSrc / isRecordFromDst: only one of the two Pod names is known to the exporting Node. */
export function recordSide(v: readonly FieldValue[]): number {
  const src = v[A.sourcePodName] !== '';
  const dst = v[A.destinationPodName] !== '';
  if (src && !dst) return Side.source;
  if (dst && !src) return Side.destination;
  return Side.none;
}

/** areRecordsFromSameNode, with the stored flow represented by the side of its first record. */
export function sameNode(incomingSide: number, firstSide: number): boolean {
  return incomingSide !== Side.none && incomingSide === firstSide;
}

/** Integer bits/s over `seconds`; 0 when the interval is empty or the counter went backwards. */
function rate(octets: bigint, seconds: number): bigint {
  return seconds > 0 && octets > 0n ? (octets * 8n) / BigInt(seconds) : 0n;
}

/**
 * addFieldsForStatsAggregation + addFieldsForThroughputCalculation: a new flow's per-side
 * statistics and end time start from the record on the side(s) it fills, 0 on the other; the
 * throughput is octetTotalCount*8/(flowEnd-flowStart) (0 unless end > start), common and per side.
 */
export function initAggregation(s: FlowStore, slot: number, v: readonly FieldValue[], fillSrc: boolean, fillDst: boolean): void {
  const u64 = s.u64;
  const b64 = slot * U64_STRIDE;
  for (let k = 0; k < STAT_COUNT; k++) {
    const value = v[STAT_AGENT_POS[k]] as bigint;
    if (fillSrc) u64[b64 + U64_SIDE + 2 * k] = value;
    if (fillDst) u64[b64 + U64_SIDE + 2 * k + 1] = value;
  }
  const start = v[A.flowStartSeconds] as number;
  const end = v[A.flowEndSeconds] as number;
  const b32 = slot * U32_STRIDE;
  if (fillSrc) s.u32[b32 + U32.endFromSource] = end;
  if (fillDst) s.u32[b32 + U32.endFromDestination] = end;
  const seconds = end > start ? end - start : 0;
  const throughput = rate(v[A.octetTotalCount] as bigint, seconds);
  const reverse = rate(v[A.reverseOctetTotalCount] as bigint, seconds);
  const t = b64 + U64_THROUGHPUT;
  u64[t] = throughput;
  u64[t + 3] = reverse;
  if (fillSrc) { u64[t + 1] = throughput; u64[t + 4] = reverse; }
  if (fillDst) { u64[t + 2] = throughput; u64[t + 5] = reverse; }
}

/** Correlation fields held as strings: [string column, agent position]. */
const CORRELATE_STRINGS: readonly (readonly [number, number])[] = [
  [STR.sourcePodName, A.sourcePodName], [STR.sourcePodNamespace, A.sourcePodNamespace], [STR.sourceNodeName, A.sourceNodeName],
  [STR.destinationPodName, A.destinationPodName], [STR.destinationPodNamespace, A.destinationPodNamespace],
  [STR.destinationNodeName, A.destinationNodeName], [STR.destinationServicePortName, A.destinationServicePortName],
  [STR.ingressNetworkPolicyName, A.ingressNetworkPolicyName], [STR.ingressNetworkPolicyNamespace, A.ingressNetworkPolicyNamespace],
  [STR.ingressNetworkPolicyRuleName, A.ingressNetworkPolicyRuleName],
  [STR.egressNetworkPolicyName, A.egressNetworkPolicyName], [STR.egressNetworkPolicyNamespace, A.egressNetworkPolicyNamespace],
  [STR.egressNetworkPolicyRuleName, A.egressNetworkPolicyRuleName],
];
/** Correlation fields held as unsigned8: [u8 column, agent position]. */
const CORRELATE_U8: readonly (readonly [number, number])[] = [
  [U8.ingressNetworkPolicyRuleAction, A.ingressNetworkPolicyRuleAction], [U8.ingressNetworkPolicyType, A.ingressNetworkPolicyType],
  [U8.egressNetworkPolicyRuleAction, A.egressNetworkPolicyRuleAction], [U8.egressNetworkPolicyType, A.egressNetworkPolicyType],
];

/**
 * correlateRecords: copy the correlation fields (upstream `correlateFields`: Pod names, namespaces
 * and Nodes of both ends, destinationClusterIPv4/6, destinationServicePort(Name), both policies'
 * name, namespace, type, rule name and action) from the incoming record when they are set there:
 * non-empty strings, non-zero integers, addresses other than 0.0.0.0 / ::.
 */
export function correlate(s: FlowStore, slot: number, v: readonly FieldValue[]): void {
  const str = s.str;
  const bs = slot * STR_STRIDE;
  for (const [col, pos] of CORRELATE_STRINGS) {
    const x = v[pos] as string;
    if (x !== '') str[bs + col] = s.interner.intern(x);
  }
  const clusterIP = v[A.destinationClusterIP] as string;
  if (clusterIP !== '0.0.0.0' && clusterIP !== '::' && clusterIP !== '') str[bs + STR.destinationClusterIP] = s.interner.intern(clusterIP);
  const port = v[A.destinationServicePort] as number;
  if (port !== 0) s.u16[slot * U16_STRIDE + U16.destinationServicePort] = port;
  const b8 = slot * U8_STRIDE;
  for (const [col, pos] of CORRELATE_U8) {
    const x = v[pos] as number;
    if (x !== 0) s.u8[b8 + col] = x;
  }
}

/**
 * aggregateRecords: fold one more record of a known flow into it, filling the source side's
 * statistics, the destination side's, or both (flows without correlation). Returns false when the
 * record was stale for its Node and ignored.
 *
 * - flowEndSeconds = max; isLatest = incoming >= stored.
 * - prev = flowEndSecondsFrom<Side>Node (or the record's flowStartSeconds when 0; with both sides,
 *   the destination's); a record with flowEndSeconds <= prev is stale: nothing else changes —
 *   except a Node's first record, which is always applied (upstream drops it when it ends in the
 *   second it started, losing that Node's statistics of short connections).
 * - flowEndReason follows the incoming record unless it is already 3 (end of flow, sticky).
 * - tcpState follows the incoming record iff isLatest; httpVals are merged.
 * - per side: totals overwritten, deltas accumulated; if isLatest the common totals become the max
 *   and the common deltas the side's accumulated deltas.
 * - throughput = (octetTotalCount - previous octetTotalCountFrom<Side>Node) * 8 / (end - prev),
 *   same for reverse; written per side, and to the common fields if isLatest.
 */
export function aggregate(s: FlowStore, slot: number, v: readonly FieldValue[], fillSrc: boolean, fillDst: boolean): boolean {
  const u32 = s.u32;
  const b32 = slot * U32_STRIDE;
  const end = v[A.flowEndSeconds] as number;
  const isLatest = end >= u32[b32 + U32.flowEndSeconds];
  if (isLatest) u32[b32 + U32.flowEndSeconds] = end;
  const start = v[A.flowStartSeconds] as number;
  // A Node's first record is never stale (upstream compares it with flowStartSeconds and so drops
  // the statistics of connections shorter than a second); later ones must be newer than the last.
  const sideEnd = fillDst ? u32[b32 + U32.endFromDestination] : u32[b32 + U32.endFromSource];
  if (sideEnd !== 0 && end <= sideEnd) return false;
  const prev = sideEnd || start;
  if (fillSrc) u32[b32 + U32.endFromSource] = end;
  if (fillDst) u32[b32 + U32.endFromDestination] = end;

  const u8 = s.u8;
  const b8 = slot * U8_STRIDE;
  if (u8[b8 + U8.flowEndReason] !== FlowEndReason.endOfFlow) u8[b8 + U8.flowEndReason] = v[A.flowEndReason] as number;
  const bs = slot * STR_STRIDE;
  if (isLatest) s.str[bs + STR.tcpState] = s.interner.intern(v[A.tcpState] as string);
  const http = v[A.httpVals] as string;
  const storedHttp = s.str[bs + STR.httpVals];
  if (http !== '' || storedHttp !== '') s.str[bs + STR.httpVals] = mergeHttpVals(http, storedHttp);

  const u64 = s.u64;
  const b64 = slot * U64_STRIDE;
  let octets = 0n;
  let reverseOctets = 0n;
  for (let side = 0; side < 2; side++) {
    if (side === 0 ? !fillSrc : !fillDst) continue;
    const base = b64 + U64_SIDE + side;
    for (let k = 0; k < STAT_COUNT; k++) {
      const incoming = v[STAT_AGENT_POS[k]] as bigint;
      const i = base + 2 * k;
      if (k & 1) {
        if (k === STAT_OCTET_TOTAL) octets = incoming - u64[i];
        else if (k === STAT_REVERSE_OCTET_TOTAL) reverseOctets = incoming - u64[i];
        u64[i] = incoming;
      } else {
        u64[i] += incoming;
      }
    }
  }
  if (isLatest) {
    const from = b64 + U64_SIDE + (fillDst ? 1 : 0);
    for (let k = 0; k < STAT_COUNT; k++) {
      if (k & 1) {
        const incoming = v[STAT_AGENT_POS[k]] as bigint;
        if (u64[b64 + k] < incoming) u64[b64 + k] = incoming;
      } else {
        u64[b64 + k] = u64[from + 2 * k];
      }
    }
  }
  const seconds = end - prev;
  const throughput = rate(octets, seconds);
  const reverse = rate(reverseOctets, seconds);
  const t = b64 + U64_THROUGHPUT;
  if (fillSrc) { u64[t + 1] = throughput; u64[t + 4] = reverse; }
  if (fillDst) { u64[t + 2] = throughput; u64[t + 5] = reverse; }
  if (isLatest) { u64[t] = throughput; u64[t + 3] = reverse; }
  return true;
}

/** ResetStatAndThroughputElementsInRecord: after an export, all deltas and throughputs restart at 0. */
export function resetAfterExport(s: FlowStore, slot: number): void {
  const u64 = s.u64;
  const b64 = slot * U64_STRIDE;
  for (let k = 0; k < STAT_COUNT; k += 2) {
    u64[b64 + k] = 0n;
    u64[b64 + U64_SIDE + 2 * k] = 0n;
    u64[b64 + U64_SIDE + 2 * k + 1] = 0n;
  }
  for (let i = 0; i < 6; i++) u64[b64 + U64_THROUGHPUT + i] = 0n;
}
