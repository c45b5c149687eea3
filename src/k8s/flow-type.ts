/**
 * flowType of a connection, as Antrea's Flow Exporter computes it (v2.3.2 `findFlowType`), with
 * FromExternal (4) added for connections from outside the Pod network to a Pod:
 *
 *   NetworkPolicyOnly mode:  InterNode if either Pod is not a local Pod, else IntraNode.
 *   no Pod-subnet knowledge: 0 (unspecified).
 *   src or dst is a Pod-subnet gateway (of any Node):        Unsupported (not exported).
 *   src not in any Pod subnet, dst in one:                    FromExternal (4).
 *   src not in any Pod subnet, dst not in one either:         Unsupported.
 *   dst not in any Pod subnet:                                ToExternal (3).
 *   src or dst not a local Pod (its name is not resolved):    InterNode (2).
 *   both local Pods:                                          IntraNode (1).
 *
 * "Local Pod" follows Antrea, where a Pod name is only filled for Pods on the exporting Node.
 */
import type { MetadataView } from './metadata-source.ts';

export const FlowType = {
  Unspecified: 0,
  IntraNode: 1,
  InterNode: 2,
  ToExternal: 3,
  FromExternal: 4,
  /** Not exported (go-ipfix FlowTypeUnsupported). */
  Unsupported: 0xff,
} as const;
export type FlowTypeValue = (typeof FlowType)[keyof typeof FlowType];

export interface FlowTypeInput {
  readonly srcIP: string;
  readonly dstIP: string;
  /** The source address resolved to a Pod on this Node. */
  readonly srcIsLocalPod: boolean;
  /** The destination address resolved to a Pod on this Node. */
  readonly dstIsLocalPod: boolean;
}

export interface FlowTypeOptions {
  /** Antrea's networkPolicyOnly traffic mode (another CNI routes Pod traffic). */
  readonly networkPolicyOnly?: boolean;
}

export type PodSubnetView = Pick<MetadataView, 'lookupPodSubnet' | 'hasPodSubnets'>;

export function classifyFlowType(
  conn: FlowTypeInput,
  subnets: PodSubnetView | undefined,
  opts: FlowTypeOptions = {},
): FlowTypeValue {
  if (opts.networkPolicyOnly) {
    return conn.srcIsLocalPod && conn.dstIsLocalPod ? FlowType.IntraNode : FlowType.InterNode;
  }
  if (subnets === undefined || !subnets.hasPodSubnets) return FlowType.Unspecified;
  const src = subnets.lookupPodSubnet(conn.srcIP);
  const dst = subnets.lookupPodSubnet(conn.dstIP);
  if (src.isGateway || dst.isGateway) return FlowType.Unsupported;
  if (!src.inPodSubnet) return dst.inPodSubnet ? FlowType.FromExternal : FlowType.Unsupported;
  if (!dst.inPodSubnet) return FlowType.ToExternal;
  if (!conn.srcIsLocalPod || !conn.dstIsLocalPod) return FlowType.InterNode;
  return FlowType.IntraNode;
}
