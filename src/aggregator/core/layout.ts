/**
 * Positions of the information elements the aggregation core works with.
 *
 * Incoming records are normalised (preprocess.ts) to the 42 elements of the Antrea agent template,
 * in its order; `A.*` are positions in that list. The aggregator's own record is the 69 elements of
 * the aggregator template (the 42, then 27 appended ones); `G.*` are positions of the appended ones.
 * A check at load time ties these numbers to the name lists of src/ipfix/antrea-templates.ts, so a
 * change of the templates cannot silently scramble fields (upstream antrea#8228).
 */
import { agentElementNames, aggregatorElementNames } from '../../ipfix/index.ts';

/** Positions in the agent's 42-element record (identical for IPv4 and IPv6). */
export const A = {
  flowStartSeconds: 0, flowEndSeconds: 1, flowEndReason: 2, sourceTransportPort: 3, destinationTransportPort: 4,
  protocolIdentifier: 5, packetTotalCount: 6, octetTotalCount: 7, packetDeltaCount: 8, octetDeltaCount: 9,
  sourceAddress: 10, destinationAddress: 11,
  reversePacketTotalCount: 12, reverseOctetTotalCount: 13, reversePacketDeltaCount: 14, reverseOctetDeltaCount: 15,
  sourcePodName: 16, sourcePodNamespace: 17, sourceNodeName: 18,
  destinationPodName: 19, destinationPodNamespace: 20, destinationNodeName: 21,
  destinationServicePort: 22, destinationServicePortName: 23,
  ingressNetworkPolicyName: 24, ingressNetworkPolicyNamespace: 25, ingressNetworkPolicyType: 26,
  ingressNetworkPolicyRuleName: 27, ingressNetworkPolicyRuleAction: 28,
  egressNetworkPolicyName: 29, egressNetworkPolicyNamespace: 30, egressNetworkPolicyType: 31,
  egressNetworkPolicyRuleName: 32, egressNetworkPolicyRuleAction: 33,
  tcpState: 34, flowType: 35, egressName: 36, egressIP: 37, appProtocolName: 38, httpVals: 39, egressNodeName: 40,
  destinationClusterIP: 41,
} as const;

export const AGENT_ELEMENT_COUNT = 42;
export const AGGREGATOR_ELEMENT_COUNT = 69;

/**
 * The eight statistics elements in upstream's aggregation order (`StatsElementList`): deltas at even
 * indices, totals at odd ones. Stat k of the agent record sits at `STAT_AGENT_POS[k]`.
 */
export const STAT_NAMES = [
  'octetDeltaCount', 'octetTotalCount', 'packetDeltaCount', 'packetTotalCount',
  'reverseOctetDeltaCount', 'reverseOctetTotalCount', 'reversePacketDeltaCount', 'reversePacketTotalCount',
] as const;
export const STAT_AGENT_POS: readonly number[] = [
  A.octetDeltaCount, A.octetTotalCount, A.packetDeltaCount, A.packetTotalCount,
  A.reverseOctetDeltaCount, A.reverseOctetTotalCount, A.reversePacketDeltaCount, A.reversePacketTotalCount,
];
export const STAT_COUNT = 8;
/** Index of octetTotalCount / reverseOctetTotalCount in STAT_NAMES (the throughput inputs). */
export const STAT_OCTET_TOTAL = 1;
export const STAT_REVERSE_OCTET_TOTAL = 5;

/** Positions of the 27 appended elements in the aggregator's 69-element record. */
export const G = {
  /** `${stat}FromSourceNode` is at perSideStats + 2k, `${stat}FromDestinationNode` at perSideStats + 2k + 1. */
  perSideStats: 42,
  flowEndSecondsFromSourceNode: 58, flowEndSecondsFromDestinationNode: 59,
  throughput: 60, throughputFromSourceNode: 61, throughputFromDestinationNode: 62,
  reverseThroughput: 63, reverseThroughputFromSourceNode: 64, reverseThroughputFromDestinationNode: 65,
  sourcePodLabels: 66, destinationPodLabels: 67, clusterId: 68,
} as const;

/** Names of both address elements and the Service address element, per family. */
export function addressNames(family: 4 | 6): { source: string; destination: string; clusterIP: string } {
  return family === 4
    ? { source: 'sourceIPv4Address', destination: 'destinationIPv4Address', clusterIP: 'destinationClusterIPv4' }
    : { source: 'sourceIPv6Address', destination: 'destinationIPv6Address', clusterIP: 'destinationClusterIPv6' };
}

function checkLayout(): void {
  for (const family of [4, 6] as const) {
    const agent = agentElementNames(family);
    const addr = addressNames(family);
    const expect: Record<string, number> = { ...A };
    delete expect.sourceAddress;
    delete expect.destinationAddress;
    delete expect.destinationClusterIP;
    expect[addr.source] = A.sourceAddress;
    expect[addr.destination] = A.destinationAddress;
    expect[addr.clusterIP] = A.destinationClusterIP;
    if (agent.length !== AGENT_ELEMENT_COUNT) throw new Error(`agent template has ${agent.length} elements, layout expects 42`);
    for (const [name, pos] of Object.entries(expect)) {
      if (agent[pos] !== name) throw new Error(`layout: ${name} expected at ${pos}, template has ${agent[pos]}`);
    }
    STAT_NAMES.forEach((n, k) => { if (agent[STAT_AGENT_POS[k]] !== n) throw new Error(`layout: stat ${n}`); });
    const all = aggregatorElementNames(family);
    if (all.length !== AGGREGATOR_ELEMENT_COUNT) throw new Error(`aggregator template has ${all.length} elements, layout expects 69`);
    STAT_NAMES.forEach((n, k) => {
      if (all[G.perSideStats + 2 * k] !== `${n}FromSourceNode` || all[G.perSideStats + 2 * k + 1] !== `${n}FromDestinationNode`) {
        throw new Error(`layout: per-side stat ${n}`);
      }
    });
    for (const [name, pos] of Object.entries(G)) {
      if (name !== 'perSideStats' && all[pos] !== name) throw new Error(`layout: ${name} expected at ${pos}, template has ${all[pos]}`);
    }
  }
}
checkLayout();
