/**
 * AggregatedFlow: the aggregator's record of one connection, as handed to sinks and queries. Its
 * fields are named exactly as the 69 information elements of the aggregator template
 * (`aggregatorElementNames(family)`), plus the flow key, the family and the correlation state.
 *
 * correlationState says how complete the record is:
 *   'not-required'  intra-Node, to-external, or inter-Node denied on one side (one record is all)
 *   'correlated'    inter-Node, records from both Nodes were combined
 *   'waiting'       inter-Node, only one Node's records so far (visible to queries, never exported)
 *   'one-sided'     inter-Node, the other Node never reported within the retries; exported with
 *                   what is known (beyond upstream, which deletes such flows without exporting)
 */
import { ApiError } from '../../errors.ts';
import { aggregatorElementNames, type FieldValue, type IpFamily } from '../../ipfix/index.ts';
import type { FlowKey } from './flow-key.ts';
import {
  FlowStore, STR, STR_STRIDE, U16, U16_STRIDE, U32, U32_STRIDE, U64_SIDE, U64_STRIDE, U64_THROUGHPUT, U8, U8_STRIDE,
} from './flow-store.ts';
import { AGGREGATOR_ELEMENT_COUNT, STAT_NAMES } from './layout.ts';

export type CorrelationState = 'not-required' | 'waiting' | 'correlated' | 'one-sided';
export const CORRELATION_STATES: readonly CorrelationState[] = ['not-required', 'waiting', 'correlated', 'one-sided'];

interface AggregatedFlowCommon {
  flowStartSeconds: number;
  flowEndSeconds: number;
  flowEndReason: number;
  sourceTransportPort: number;
  destinationTransportPort: number;
  protocolIdentifier: number;
  packetTotalCount: bigint;
  octetTotalCount: bigint;
  packetDeltaCount: bigint;
  octetDeltaCount: bigint;
  reversePacketTotalCount: bigint;
  reverseOctetTotalCount: bigint;
  reversePacketDeltaCount: bigint;
  reverseOctetDeltaCount: bigint;
  sourcePodName: string;
  sourcePodNamespace: string;
  sourceNodeName: string;
  destinationPodName: string;
  destinationPodNamespace: string;
  destinationNodeName: string;
  destinationServicePort: number;
  destinationServicePortName: string;
  ingressNetworkPolicyName: string;
  ingressNetworkPolicyNamespace: string;
  ingressNetworkPolicyType: number;
  ingressNetworkPolicyRuleName: string;
  ingressNetworkPolicyRuleAction: number;
  egressNetworkPolicyName: string;
  egressNetworkPolicyNamespace: string;
  egressNetworkPolicyType: number;
  egressNetworkPolicyRuleName: string;
  egressNetworkPolicyRuleAction: number;
  tcpState: string;
  flowType: number;
  egressName: string;
  egressIP: string;
  appProtocolName: string;
  httpVals: string;
  egressNodeName: string;
  octetDeltaCountFromSourceNode: bigint;
  octetDeltaCountFromDestinationNode: bigint;
  octetTotalCountFromSourceNode: bigint;
  octetTotalCountFromDestinationNode: bigint;
  packetDeltaCountFromSourceNode: bigint;
  packetDeltaCountFromDestinationNode: bigint;
  packetTotalCountFromSourceNode: bigint;
  packetTotalCountFromDestinationNode: bigint;
  reverseOctetDeltaCountFromSourceNode: bigint;
  reverseOctetDeltaCountFromDestinationNode: bigint;
  reverseOctetTotalCountFromSourceNode: bigint;
  reverseOctetTotalCountFromDestinationNode: bigint;
  reversePacketDeltaCountFromSourceNode: bigint;
  reversePacketDeltaCountFromDestinationNode: bigint;
  reversePacketTotalCountFromSourceNode: bigint;
  reversePacketTotalCountFromDestinationNode: bigint;
  flowEndSecondsFromSourceNode: number;
  flowEndSecondsFromDestinationNode: number;
  throughput: bigint;
  throughputFromSourceNode: bigint;
  throughputFromDestinationNode: bigint;
  reverseThroughput: bigint;
  reverseThroughputFromSourceNode: bigint;
  reverseThroughputFromDestinationNode: bigint;
  /** JSON of the Pod's labels when recordContents.podLabels is on (filled by the enrich hook), else "". */
  sourcePodLabels: string;
  destinationPodLabels: string;
  clusterId: string;
  flowKey: FlowKey;
  correlationState: CorrelationState;
}

export interface AggregatedFlowV4 extends AggregatedFlowCommon {
  family: 4;
  sourceIPv4Address: string;
  destinationIPv4Address: string;
  destinationClusterIPv4: string;
}

export interface AggregatedFlowV6 extends AggregatedFlowCommon {
  family: 6;
  sourceIPv6Address: string;
  destinationIPv6Address: string;
  destinationClusterIPv6: string;
}

export type AggregatedFlow = AggregatedFlowV4 | AggregatedFlowV6;

const NAMES: Readonly<Record<IpFamily, readonly string[]>> = { 4: aggregatorElementNames(4), 6: aggregatorElementNames(6) };

/** Where each of the 69 elements lives in the store: [column, index within the slot's stride]. */
type Column = 'u64' | 'u32' | 'u16' | 'u8' | 'str' | 'cluster';
const SOURCE_OF: readonly (readonly [Column, number])[] = (() => {
  const map: [Column, number][] = [];
  const byName: Record<string, [Column, number]> = {
    flowStartSeconds: ['u32', U32.flowStartSeconds], flowEndSeconds: ['u32', U32.flowEndSeconds],
    flowEndSecondsFromSourceNode: ['u32', U32.endFromSource], flowEndSecondsFromDestinationNode: ['u32', U32.endFromDestination],
    sourceTransportPort: ['u16', U16.sourceTransportPort], destinationTransportPort: ['u16', U16.destinationTransportPort],
    destinationServicePort: ['u16', U16.destinationServicePort],
    protocolIdentifier: ['u8', U8.protocolIdentifier], flowEndReason: ['u8', U8.flowEndReason],
    ingressNetworkPolicyType: ['u8', U8.ingressNetworkPolicyType], ingressNetworkPolicyRuleAction: ['u8', U8.ingressNetworkPolicyRuleAction],
    egressNetworkPolicyType: ['u8', U8.egressNetworkPolicyType], egressNetworkPolicyRuleAction: ['u8', U8.egressNetworkPolicyRuleAction],
    flowType: ['u8', U8.flowType],
    clusterId: ['cluster', 0],
  };
  for (const [name, col] of Object.entries(STR)) byName[name] = ['str', col];
  STAT_NAMES.forEach((n, k) => {
    byName[n] = ['u64', k];
    byName[`${n}FromSourceNode`] = ['u64', U64_SIDE + 2 * k];
    byName[`${n}FromDestinationNode`] = ['u64', U64_SIDE + 2 * k + 1];
  });
  ['throughput', 'throughputFromSourceNode', 'throughputFromDestinationNode',
    'reverseThroughput', 'reverseThroughputFromSourceNode', 'reverseThroughputFromDestinationNode']
    .forEach((n, i) => { byName[n] = ['u64', U64_THROUGHPUT + i]; });
  for (const name of NAMES[4]) {
    const generic = name.replace(/IPv4Address$/, 'Address').replace(/IPv4$/, 'IP');
    const col = byName[name] ?? byName[generic];
    if (!col) throw new Error(`aggregated-flow: no store column for ${name}`);
    map.push(col);
  }
  return map;
})();

type Materializer = (
  u64: BigUint64Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array, str: readonly string[],
  b64: number, b32: number, b16: number, b8: number, bs: number, clusterId: string, state: CorrelationState,
) => AggregatedFlow;

/**
 * Compiles, once per family, a function that builds the AggregatedFlow of a slot as one object
 * literal in template order (a literal gives every flow object the same shape; assigning 72
 * computed keys one by one was the single largest cost of an export).
 */
function compileMaterializer(family: IpFamily): Materializer {
  const names = NAMES[family];
  const base: Record<Column, string> = { u64: 'b64', u32: 'b32', u16: 'b16', u8: 'b8', str: 'bs', cluster: '' };
  const fields = names.map((name, p) => {
    const [col, i] = SOURCE_OF[p];
    return `${JSON.stringify(name)}: ${col === 'cluster' ? 'clusterId' : `${col}[${base[col]} + ${i}]`}`;
  });
  fields.push(
    `flowKey: { sourceAddress: str[bs + ${STR.sourceAddress}], destinationAddress: str[bs + ${STR.destinationAddress}], `
      + `protocol: u8[b8 + ${U8.protocolIdentifier}], sourcePort: u16[b16 + ${U16.sourceTransportPort}], `
      + `destinationPort: u16[b16 + ${U16.destinationTransportPort}] }`,
    `family: ${family}`,
    'correlationState: state',
  );
  const body = `return {\n  ${fields.join(',\n  ')}\n};`;
  return new Function('u64', 'u32', 'u16', 'u8', 'str', 'b64', 'b32', 'b16', 'b8', 'bs', 'clusterId', 'state', body) as Materializer;
}

const MATERIALIZERS: Readonly<Record<IpFamily, Materializer>> = { 4: compileMaterializer(4), 6: compileMaterializer(6) };

/** Builds the AggregatedFlow of a slot (a snapshot: later changes to the store do not show). */
export function materialize(s: FlowStore, slot: number, clusterId: string): AggregatedFlow {
  const b8 = slot * U8_STRIDE;
  const family = s.u8[b8 + U8.family] as IpFamily;
  return MATERIALIZERS[family](
    s.u64, s.u32, s.u16, s.u8, s.str,
    slot * U64_STRIDE, slot * U32_STRIDE, slot * U16_STRIDE, b8, slot * STR_STRIDE, clusterId,
    CORRELATION_STATES[s.u8[b8 + U8.state]],
  );
}

/** The flow as the 69 positional values of the aggregator template of its family (for the IPFIX sink). */
export function toAggregatorValues(flow: AggregatedFlow, family: IpFamily = flow.family): FieldValue[] {
  if (family !== flow.family) {
    throw new ApiError('FAMILY_MISMATCH', `flow is IPv${flow.family}, template is IPv${family}`, { family, flowFamily: flow.family });
  }
  return VALUE_READERS[family](flow);
}

/**
 * Per-family readers compiled once into straight-line property loads (`[f.flowStartSeconds, ...]`):
 * a loop of keyed loads by name is several times slower on the IPFIX sink's hot path.
 */
const VALUE_READERS: Readonly<Record<IpFamily, (flow: AggregatedFlow) => FieldValue[]>> = {
  4: compileReader(4),
  6: compileReader(6),
};

function compileReader(family: IpFamily): (flow: AggregatedFlow) => FieldValue[] {
  const names = NAMES[family];
  if (names.length !== AGGREGATOR_ELEMENT_COUNT || !names.every((n) => /^[A-Za-z][A-Za-z0-9]*$/.test(n))) {
    throw new Error('aggregator element names are not plain identifiers');
  }
  return new Function('f', `return [${names.map((n) => `f.${n}`).join(', ')}];`) as (flow: AggregatedFlow) => FieldValue[];
}

/** Plain view for JSON/CLI output: IE name → value (bigints kept exact) in template order. */
export interface PlainFlow {
  [name: string]: string | number | bigint | FlowKey;
}

/** The 69 elements in template order, then flowKey, family and correlationState. */
export function toPlainObject(flow: AggregatedFlow): PlainFlow {
  const names = NAMES[flow.family];
  const f = flow as unknown as Record<string, string | number | bigint>;
  const out: PlainFlow = {};
  for (const n of names) out[n] = f[n];
  out.flowKey = { ...flow.flowKey };
  out.family = flow.family;
  out.correlationState = flow.correlationState;
  return out;
}

/** Just the 69 information elements, name → value, in template order (the JSON sink's "ipfix" object). */
export function toElementObject(flow: AggregatedFlow): Record<string, string | number | bigint> {
  const names = NAMES[flow.family];
  const f = flow as unknown as Record<string, string | number | bigint>;
  const out: Record<string, string | number | bigint> = {};
  for (const n of names) out[n] = f[n];
  return out;
}

/** JSON text of a value that may contain bigints: they are written as exact integers. */
export function stringifyWithBigInts(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return '[' + value.map((v) => stringifyWithBigInts(v)).join(',') + ']';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || typeof v === 'function') continue;
    parts.push(JSON.stringify(k) + ':' + stringifyWithBigInts(v));
  }
  return '{' + parts.join(',') + '}';
}
