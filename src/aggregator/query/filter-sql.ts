/**
 * FlowFilter → SQL conditions over the flows table's columns, for both stores. Values never
 * enter the SQL text directly: each goes through the dialect, which binds it as a parameter
 * (DuckDB) or writes an escaped literal (ClickHouse 18.16, whose HTTP query parameters do not
 * work). Free text is store-specific (DuckDB matches names through its dictionaries) and is
 * supplied by the caller.
 */
import type { FlowFilter } from './types.ts';

export type SqlValueType = 'UInt8' | 'UInt16' | 'DateTime' | 'String';

export interface SqlDialect {
  /** SQL for a value of the given column type (a bound parameter or a literal). */
  value(value: string | number, type: SqlValueType): string;
  /** SQL that is true when `column` starts with `prefix`. */
  startsWith(column: string, prefix: string): string;
}

/** The condition that a flow was denied by a NetworkPolicy rule (Drop or Reject). */
export const DENIED_CONDITION = '(ingressNetworkPolicyRuleAction IN (2, 3) OR egressNetworkPolicyRuleAction IN (2, 3))';

export function filterConditions(filter: FlowFilter, d: SqlDialect, freeText: (text: string) => string): string[] {
  const out: string[] = [];
  const s = (v: string): string => d.value(v, 'String');
  const either = (a: string, b: string, v: string): void => {
    const x = s(v);
    out.push(`(${a} = ${x} OR ${b} = ${x})`);
  };
  if (filter.from !== undefined) out.push(`flowEndSeconds >= ${d.value(filter.from, 'DateTime')}`);
  if (filter.to !== undefined) out.push(`flowEndSeconds < ${d.value(filter.to, 'DateTime')}`);
  if (filter.namespace !== undefined) either('sourcePodNamespace', 'destinationPodNamespace', filter.namespace);
  if (filter.sourceNamespace !== undefined) out.push(`sourcePodNamespace = ${s(filter.sourceNamespace)}`);
  if (filter.destinationNamespace !== undefined) out.push(`destinationPodNamespace = ${s(filter.destinationNamespace)}`);
  if (filter.pod !== undefined) either('sourcePodName', 'destinationPodName', filter.pod);
  if (filter.sourcePod !== undefined) out.push(`sourcePodName = ${s(filter.sourcePod)}`);
  if (filter.destinationPod !== undefined) out.push(`destinationPodName = ${s(filter.destinationPod)}`);
  if (filter.node !== undefined) either('sourceNodeName', 'destinationNodeName', filter.node);
  if (filter.sourceNode !== undefined) out.push(`sourceNodeName = ${s(filter.sourceNode)}`);
  if (filter.destinationNode !== undefined) out.push(`destinationNodeName = ${s(filter.destinationNode)}`);
  if (filter.ip !== undefined) {
    const x = s(filter.ip);
    out.push(`(sourceIP = ${x} OR destinationIP = ${x} OR destinationClusterIP = ${x})`);
  }
  if (filter.sourceIP !== undefined) out.push(`sourceIP = ${s(filter.sourceIP)}`);
  if (filter.destinationIP !== undefined) out.push(`destinationIP = ${s(filter.destinationIP)}`);
  if (filter.port !== undefined) {
    const p = d.value(filter.port, 'UInt16');
    out.push(`(sourceTransportPort = ${p} OR destinationTransportPort = ${p})`);
  }
  if (filter.sourcePort !== undefined) out.push(`sourceTransportPort = ${d.value(filter.sourcePort, 'UInt16')}`);
  if (filter.destinationPort !== undefined) out.push(`destinationTransportPort = ${d.value(filter.destinationPort, 'UInt16')}`);
  if (filter.protocol !== undefined) out.push(`protocolIdentifier = ${d.value(filter.protocol, 'UInt8')}`);
  if (filter.flowType !== undefined) out.push(`flowType IN (${filter.flowType.map((t) => d.value(t, 'UInt8')).join(', ')})`);
  if (filter.service !== undefined) {
    if (filter.service.includes(':')) out.push(`destinationServicePortName = ${s(filter.service)}`);
    else out.push(`(destinationServicePortName = ${s(filter.service)} OR ${d.startsWith('destinationServicePortName', `${filter.service}:`)})`);
  }
  if (filter.policy !== undefined) either('ingressNetworkPolicyName', 'egressNetworkPolicyName', filter.policy);
  if (filter.action === 'deny') out.push(DENIED_CONDITION);
  if (filter.action === 'allow') out.push(`NOT ${DENIED_CONDITION}`);
  if (filter.text !== undefined) out.push(freeText(filter.text));
  return out;
}

export function whereClause(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** SQL of the sort keys of FlowsQuery. */
export const SORT_EXPRESSIONS = {
  flowEndSeconds: 'flowEndSeconds',
  flowStartSeconds: 'flowStartSeconds',
  bytes: '(octetDeltaCount + reverseOctetDeltaCount)',
  packets: '(packetDeltaCount + reversePacketDeltaCount)',
  throughput: '(throughput + reverseThroughput)',
} as const;
