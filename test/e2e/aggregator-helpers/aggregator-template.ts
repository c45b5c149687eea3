/**
 * The Flow Aggregator's IPFIX template (Antrea v2.3 `exporter/ipfix.go`, Aggregate mode), written
 * out here independently of src/ so that tests check what a downstream collector receives: the 42
 * agent elements, the per-Node statistics, the per-Node end times, the six throughputs, the Pod
 * labels and clusterId: 69 elements, template 256 for IPv4 and 257 for IPv6.
 */

const AGENT_ELEMENTS = (v: '4' | '6'): string[] => [
  'flowStartSeconds', 'flowEndSeconds', 'flowEndReason', 'sourceTransportPort', 'destinationTransportPort', 'protocolIdentifier',
  'packetTotalCount', 'octetTotalCount', 'packetDeltaCount', 'octetDeltaCount', `sourceIPv${v}Address`, `destinationIPv${v}Address`,
  'reversePacketTotalCount', 'reverseOctetTotalCount', 'reversePacketDeltaCount', 'reverseOctetDeltaCount',
  'sourcePodName', 'sourcePodNamespace', 'sourceNodeName', 'destinationPodName', 'destinationPodNamespace', 'destinationNodeName',
  'destinationServicePort', 'destinationServicePortName',
  'ingressNetworkPolicyName', 'ingressNetworkPolicyNamespace', 'ingressNetworkPolicyType', 'ingressNetworkPolicyRuleName', 'ingressNetworkPolicyRuleAction',
  'egressNetworkPolicyName', 'egressNetworkPolicyNamespace', 'egressNetworkPolicyType', 'egressNetworkPolicyRuleName', 'egressNetworkPolicyRuleAction',
  'tcpState', 'flowType', 'egressName', 'egressIP', 'appProtocolName', 'httpVals', 'egressNodeName', `destinationClusterIPv${v}`,
];

const PER_NODE_STATS = ['octetDeltaCount', 'octetTotalCount', 'packetDeltaCount', 'packetTotalCount',
  'reverseOctetDeltaCount', 'reverseOctetTotalCount', 'reversePacketDeltaCount', 'reversePacketTotalCount']
  .flatMap((s) => [`${s}FromSourceNode`, `${s}FromDestinationNode`]);

const AGGREGATOR_ELEMENTS = [
  ...PER_NODE_STATS,
  'flowEndSecondsFromSourceNode', 'flowEndSecondsFromDestinationNode',
  'throughput', 'throughputFromSourceNode', 'throughputFromDestinationNode',
  'reverseThroughput', 'reverseThroughputFromSourceNode', 'reverseThroughputFromDestinationNode',
  'sourcePodLabels', 'destinationPodLabels', 'clusterId',
];

/** Element names of the aggregator's template, in template order. */
export function aggregatorTemplateElements(family: 4 | 6): string[] {
  return [...AGENT_ELEMENTS(family === 4 ? '4' : '6'), ...AGGREGATOR_ELEMENTS];
}

export const AGGREGATOR_TEMPLATE_ID = { 4: 256, 6: 257 } as const;
