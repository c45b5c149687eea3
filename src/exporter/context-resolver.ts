/**
 * Resolves the Kubernetes meaning of a new connection (the agent's fillPodInfo, fillServiceInfo,
 * NetworkPolicy attribution and flowType), for any CNI:
 * - Pods are looked up by IP at the flow's start time; as in Antrea, Pod and Node names are filled
 *   only for Pods on this Node, and a connection with no local Pod is not tracked.
 * - A connection whose destination was rewritten (DNAT) is matched to the Service port the client
 *   addressed: destinationServicePortName "namespace/name:port", destinationServicePort.
 * - Kubernetes NetworkPolicies are evaluated here (Antrea reads the enforcing rule from conntrack
 *   labels instead): egress rules are reported by the source Pod's Node, ingress rules by the
 *   destination Pod's Node, so the aggregator's correlation merges both halves. A connection that
 *   exists although a policy would deny it is reported with action Drop: the CNI does not enforce it.
 * - flowType as Antrea computes it; unsupported connections (gateway addresses, external to
 *   external) and to-external connections without a local source Pod are not tracked.
 * Contexts are interned: connections of one Pod pair share one object.
 */
import { classifyFlowType, FlowType } from '../k8s/flow-type.ts';
import type { MetadataView } from '../k8s/metadata-source.ts';
import { NetworkPolicyEvaluator } from './policy/evaluator.ts';
import { policyRecordFields } from './policy/types.ts';
import type { ContextResolver, FlowContext, NewConnection } from './connection.ts';

export interface ContextResolverOptions {
  metadata: MetadataView;
  /** Evaluate Kubernetes NetworkPolicies (default true). */
  evaluatePolicies?: boolean;
  /** Antrea's networkPolicyOnly mode: another CNI routes Pod traffic. */
  networkPolicyOnly?: boolean;
  /** Bound of the interning table (default 100,000 contexts). */
  maxContexts?: number;
}

export interface ResolverStats {
  resolved: number;
  noLocalPod: number;
  unsupported: number;
  contexts: number;
}

export function createContextResolver(opts: ContextResolverOptions): ContextResolver & { stats: ResolverStats } {
  const meta = opts.metadata;
  const evaluator = opts.evaluatePolicies === false ? undefined : new NetworkPolicyEvaluator(meta);
  const interned = new Map<string, FlowContext>();
  const maxContexts = opts.maxContexts ?? 100_000;
  const stats: ResolverStats = { resolved: 0, noLocalPod: 0, unsupported: 0, contexts: 0 };

  const resolve = (c: NewConnection): FlowContext | null => {
    const src = meta.getPodByIPAndTime(c.sourceIP, c.startSeconds);
    const dst = meta.getPodByIPAndTime(c.destinationIP, c.startSeconds);
    const srcLocal = src !== undefined && meta.isLocalPod(src);
    const dstLocal = dst !== undefined && meta.isLocalPod(dst);
    if (!srcLocal && !dstLocal) {
      stats.noLocalPod++;
      return null;
    }
    const flowType = classifyFlowType(
      { srcIP: c.sourceIP, dstIP: c.destinationIP, srcIsLocalPod: srcLocal, dstIsLocalPod: dstLocal },
      meta,
      { networkPolicyOnly: opts.networkPolicyOnly },
    );
    if (flowType === FlowType.Unsupported || (flowType === FlowType.ToExternal && !srcLocal)) {
      stats.unsupported++;
      return null;
    }
    const dnat = c.originalDestinationIP !== c.destinationIP || c.originalDestinationPort !== c.destinationTransportPort;
    const service = dnat ? meta.lookupService(c.originalDestinationIP, c.originalDestinationPort, c.protocolIdentifier) : undefined;
    let policy = NO_POLICY;
    if (evaluator) {
      const verdicts = policyRecordFields(evaluator.evaluate({
        srcIP: c.sourceIP, dstIP: c.destinationIP, protocolIdentifier: c.protocolIdentifier,
        dstPort: c.destinationTransportPort, timeSeconds: c.startSeconds,
      }));
      policy = {
        ...(dstLocal ? pick(verdicts, 'ingress') : pick(NO_POLICY, 'ingress')),
        ...(srcLocal ? pick(verdicts, 'egress') : pick(NO_POLICY, 'egress')),
      } as typeof NO_POLICY;
    }
    const node = meta.localNodeName ?? '';
    const ctx: FlowContext = {
      sourcePodName: srcLocal ? src.name : '',
      sourcePodNamespace: srcLocal ? src.namespace : '',
      sourceNodeName: srcLocal ? node : '',
      destinationPodName: dstLocal ? dst.name : '',
      destinationPodNamespace: dstLocal ? dst.namespace : '',
      destinationNodeName: dstLocal ? node : '',
      destinationServicePort: service ? service.port : 0,
      destinationServicePortName: service ? service.servicePortName : '',
      ...policy,
      flowType,
      egressName: '',
      egressIP: '',
      egressNodeName: '',
    };
    stats.resolved++;
    const key = Object.values(ctx).join('\u0000');
    const existing = interned.get(key);
    if (existing) return existing;
    if (interned.size >= maxContexts) interned.clear();
    interned.set(key, ctx);
    stats.contexts = interned.size;
    return ctx;
  };
  return Object.assign(resolve, { stats });
}

const NO_POLICY = {
  ingressNetworkPolicyName: '', ingressNetworkPolicyNamespace: '', ingressNetworkPolicyType: 0,
  ingressNetworkPolicyRuleName: '', ingressNetworkPolicyRuleAction: 0,
  egressNetworkPolicyName: '', egressNetworkPolicyNamespace: '', egressNetworkPolicyType: 0,
  egressNetworkPolicyRuleName: '', egressNetworkPolicyRuleAction: 0,
};

function pick(fields: typeof NO_POLICY, direction: 'ingress' | 'egress'): Partial<typeof NO_POLICY> {
  return Object.fromEntries(Object.entries(fields).filter(([k]) => k.startsWith(direction)));
}
