/** Filters covering every FlowFilter field, alone and combined, for query-layer tests of both stores. */
import type { FlowRow } from '../../sinks/flow-row.ts';
import type { FlowFilter } from '../types.ts';

/** flowEndSeconds of the first fixture record in the query tests. */
export const START = 1_800_000_000;

export function sampleFilters(rows: readonly FlowRow[]): FlowFilter[] {
  const r = rows.find((x) => x.destinationServicePortName !== '' && x.sourcePodName !== '') as FlowRow;
  const svc = r.destinationServicePortName;
  return [
    {},
    { from: START + 600, to: START + 1800 },
    { namespace: r.sourcePodNamespace },
    { sourceNamespace: r.sourcePodNamespace, destinationNamespace: r.destinationPodNamespace },
    { pod: r.sourcePodName },
    { sourcePod: r.sourcePodName },
    { destinationPod: r.destinationPodName, from: START },
    { node: r.sourceNodeName },
    { sourceNode: r.sourceNodeName, destinationNode: r.destinationNodeName },
    { ip: r.destinationClusterIP },
    { ip: r.sourceIP },
    { sourceIP: r.sourceIP },
    { destinationIP: r.destinationIP },
    { port: r.destinationTransportPort },
    { sourcePort: r.sourceTransportPort },
    { destinationPort: 443, protocol: 6 },
    { protocol: 17 },
    { flowType: [1] },
    { flowType: [2, 3] },
    { service: svc },
    { service: svc.slice(0, svc.lastIndexOf(':')) },
    { policy: 'egress-restrict' },
    { action: 'deny' },
    { action: 'allow', flowType: [2] },
    { text: 'CART' },
    { text: 'node-2' },
    { text: 'payments' },
    { text: 'nothing-matches-this' },
    { text: "it's' OR 1=1 --" },
    { namespace: "x' OR '1'='1" },
  ];
}

