/**
 * Antrea's IPFIX templates (v2.3), as lists of element names in wire order. The order is part of
 * the protocol: records are written positionally, and new elements are only ever appended.
 */
import type { ElementName } from './information-model.ts';
import { buildTemplate, type Template } from './template.ts';

export type IpFamily = 4 | 6;

/** Template IDs the Antrea agent uses (first template 256 = IPv4, next 257 = IPv6). */
export const AGENT_TEMPLATE_ID: Readonly<Record<IpFamily, number>> = { 4: 256, 6: 257 };

/** The 42 elements of the agent's template (Flow Exporter → Flow Aggregator / collector). */
export function agentElementNames(family: IpFamily): ElementName[] {
  const v6 = family === 6;
  return [
    'flowStartSeconds', 'flowEndSeconds', 'flowEndReason', 'sourceTransportPort', 'destinationTransportPort',
    'protocolIdentifier', 'packetTotalCount', 'octetTotalCount', 'packetDeltaCount', 'octetDeltaCount',
    v6 ? 'sourceIPv6Address' : 'sourceIPv4Address', v6 ? 'destinationIPv6Address' : 'destinationIPv4Address',
    'reversePacketTotalCount', 'reverseOctetTotalCount', 'reversePacketDeltaCount', 'reverseOctetDeltaCount',
    'sourcePodName', 'sourcePodNamespace', 'sourceNodeName', 'destinationPodName', 'destinationPodNamespace',
    'destinationNodeName', 'destinationServicePort', 'destinationServicePortName',
    'ingressNetworkPolicyName', 'ingressNetworkPolicyNamespace', 'ingressNetworkPolicyType',
    'ingressNetworkPolicyRuleName', 'ingressNetworkPolicyRuleAction',
    'egressNetworkPolicyName', 'egressNetworkPolicyNamespace', 'egressNetworkPolicyType',
    'egressNetworkPolicyRuleName', 'egressNetworkPolicyRuleAction',
    'tcpState', 'flowType', 'egressName', 'egressIP', 'appProtocolName', 'httpVals', 'egressNodeName',
    v6 ? 'destinationClusterIPv6' : 'destinationClusterIPv4',
  ];
}

/** The 27 elements the aggregator appends to the agent's 42 (aggregate mode): 69 in all. */
export const AGGREGATOR_EXTRA_ELEMENT_NAMES: readonly ElementName[] = [
  'octetDeltaCountFromSourceNode', 'octetDeltaCountFromDestinationNode',
  'octetTotalCountFromSourceNode', 'octetTotalCountFromDestinationNode',
  'packetDeltaCountFromSourceNode', 'packetDeltaCountFromDestinationNode',
  'packetTotalCountFromSourceNode', 'packetTotalCountFromDestinationNode',
  'reverseOctetDeltaCountFromSourceNode', 'reverseOctetDeltaCountFromDestinationNode',
  'reverseOctetTotalCountFromSourceNode', 'reverseOctetTotalCountFromDestinationNode',
  'reversePacketDeltaCountFromSourceNode', 'reversePacketDeltaCountFromDestinationNode',
  'reversePacketTotalCountFromSourceNode', 'reversePacketTotalCountFromDestinationNode',
  'flowEndSecondsFromSourceNode', 'flowEndSecondsFromDestinationNode',
  'throughput', 'throughputFromSourceNode', 'throughputFromDestinationNode',
  'reverseThroughput', 'reverseThroughputFromSourceNode', 'reverseThroughputFromDestinationNode',
  'sourcePodLabels', 'destinationPodLabels', 'clusterId',
];

/** The 69 elements of the aggregator's template (aggregate mode). */
export function aggregatorElementNames(family: IpFamily): ElementName[] {
  return [...agentElementNames(family), ...AGGREGATOR_EXTRA_ELEMENT_NAMES];
}

/**
 * The 7 elements the aggregator appends to the agent's 42 in Proxy mode (49 in all): the labels
 * and clusterId of aggregate mode, then the IANA elements that say where the record came from and
 * which way the flow went as seen by that Node (flowDirection: 0 ingress, 1 egress, 0xff unknown).
 */
export const PROXY_EXTRA_ELEMENT_NAMES: readonly ElementName[] = [
  'sourcePodLabels', 'destinationPodLabels', 'clusterId',
  'originalObservationDomainId', 'originalExporterIPv4Address', 'originalExporterIPv6Address', 'flowDirection',
];

/** The 49 elements of the aggregator's template in Proxy mode. */
export function proxyElementNames(family: IpFamily): ElementName[] {
  return [...agentElementNames(family), ...PROXY_EXTRA_ELEMENT_NAMES];
}

export function proxyTemplate(family: IpFamily, id = AGENT_TEMPLATE_ID[family]): Template {
  return buildTemplate(id, proxyElementNames(family));
}

export function agentTemplate(family: IpFamily, id = AGENT_TEMPLATE_ID[family]): Template {
  return buildTemplate(id, agentElementNames(family));
}

export function aggregatorTemplate(family: IpFamily, id = AGENT_TEMPLATE_ID[family]): Template {
  return buildTemplate(id, aggregatorElementNames(family));
}

/**
 * Observation domain ID of an agent: FNV-1 (not FNV-1a) 32-bit hash of the Node name's UTF-8
 * octets; of an aggregator: the same hash of the cluster UUID's 16 raw octets.
 */
export function fnv1_32(data: Uint8Array | string): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul(h, 0x01000193) >>> 0;
    h = (h ^ bytes[i]) >>> 0;
  }
  return h;
}
