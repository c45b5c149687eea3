/**
 * Kubernetes NetworkPolicy (networking.k8s.io/v1) evaluation for one new connection.
 *
 * Semantics (Kubernetes documentation, "Network Policies"):
 * - Ingress is decided by the policies in the destination Pod's namespace whose podSelector selects
 *   it and whose policyTypes include Ingress; egress by those selecting the source Pod with Egress.
 *   policyTypes defaults to Ingress, plus Egress when the policy has egress rules.
 * - A Pod selected by at least one such policy is isolated in that direction: a connection is
 *   allowed if any rule of any of those policies allows it, otherwise denied. A Pod selected by none
 *   is not isolated (everything allowed, nothing to report).
 * - A rule allows when one of its peers matches the other end (none listed = every peer) and one of
 *   its ports matches (none listed = every port). Peers: podSelector (Pods of the policy's
 *   namespace), namespaceSelector (every Pod of the selected namespaces), both (selected Pods of the
 *   selected namespaces), ipBlock (cidr minus except, any address, IPv4 or IPv6). Ports: protocol
 *   (default TCP), numeric port, port..endPort range, or a named port resolved against the
 *   destination Pod's container ports (name, protocol and number must all match).
 *
 * Output per direction (see types.ts):
 * - not isolated:          all fields empty, policyType 0, ruleAction 0;
 * - allowed:               the first allowing policy in (namespace, name) order and its first allowing
 *                          rule: policyType 1, ruleAction 1 (Allow), ruleName "ingress-<i>"/"egress-<i>"
 *                          (index of the rule in the policy's spec.ingress/spec.egress, from 0);
 * - isolated, not allowed: policyType 1, ruleAction 2 (Drop), name/namespace/ruleName empty, as
 *                          Antrea reports the Kubernetes NetworkPolicy default drop; `isolatedBy`
 *                          lists the isolating policies.
 *
 * Evaluation is a pure function of the metadata view. Compiled policies are indexed by namespace
 * and rebuilt when the view's policyGeneration changes; the policies selecting a Pod are cached
 * per Pod object; namespaceSelector results are cached per namespace until Namespace labels change.
 */
import { parseIP, type IPValue } from '../../k8s/ip.ts';
import type { MetadataView } from '../../k8s/metadata-source.ts';
import type { Labels, PodInfo } from '../../k8s/types.ts';
import {
  compilePolicy,
  peerMatches,
  portMatches,
  type CompiledPolicy,
  type CompiledRule,
  type PeerContext,
} from './compiled-policy.ts';
import {
  NetworkPolicyType,
  NOT_ISOLATED,
  RuleAction,
  type PolicyConnection,
  type PolicyEvaluation,
  type PolicyVerdict,
} from './types.ts';

export type PolicyMetadata = Pick<
  MetadataView,
  'getPodByIPAndTime' | 'getPodByIP' | 'getNamespace' | 'listNetworkPolicies' | 'policyGeneration' | 'namespaceGeneration'
>;

interface Selection {
  readonly epoch: number;
  readonly ingress: readonly CompiledPolicy[];
  readonly egress: readonly CompiledPolicy[];
  readonly ingressDrop: PolicyVerdict;
  readonly egressDrop: PolicyVerdict;
}

const EMPTY: readonly CompiledPolicy[] = Object.freeze([]);

function dropVerdict(policies: readonly CompiledPolicy[]): PolicyVerdict {
  if (policies.length === 0) return NOT_ISOLATED;
  return Object.freeze({
    policyName: '',
    policyNamespace: '',
    policyType: NetworkPolicyType.K8sNetworkPolicy,
    ruleAction: RuleAction.Drop,
    ruleName: '',
    isolatedBy: Object.freeze(policies.map((p) => p.key)),
  });
}

export class NetworkPolicyEvaluator {
  private byNamespace = new Map<string, CompiledPolicy[]>();
  private builtForGeneration = -1;
  /** Incremented on every rebuild; invalidates the per-Pod selection cache. */
  private epoch = 0;
  private selections = new WeakMap<PodInfo, Selection>();
  private readonly namespaceLabels = (ns: string): Labels =>
    this.meta.getNamespace(ns)?.labels ?? { 'kubernetes.io/metadata.name': ns };

  constructor(private readonly meta: PolicyMetadata) {}

  private refresh(): void {
    const gen = this.meta.policyGeneration;
    if (gen === this.builtForGeneration) return;
    const byNamespace = new Map<string, CompiledPolicy[]>();
    // listNetworkPolicies() is sorted by namespace then name, so each list keeps that order.
    for (const np of this.meta.listNetworkPolicies()) {
      const list = byNamespace.get(np.namespace);
      const compiled = compilePolicy(np);
      if (list === undefined) byNamespace.set(np.namespace, [compiled]);
      else list.push(compiled);
    }
    this.byNamespace = byNamespace;
    this.builtForGeneration = gen;
    this.epoch++;
    this.selections = new WeakMap();
  }

  private selection(pod: PodInfo): Selection {
    const cached = this.selections.get(pod);
    if (cached !== undefined && cached.epoch === this.epoch) return cached;
    const candidates = this.byNamespace.get(pod.namespace);
    let ingress = EMPTY;
    let egress = EMPTY;
    if (candidates !== undefined) {
      const selecting = candidates.filter((p) => p.selects(pod.labels));
      ingress = selecting.filter((p) => p.affectsIngress);
      egress = selecting.filter((p) => p.affectsEgress);
    }
    const sel: Selection = { epoch: this.epoch, ingress, egress, ingressDrop: dropVerdict(ingress), egressDrop: dropVerdict(egress) };
    this.selections.set(pod, sel);
    return sel;
  }

  private resolve(ip: string, t: number | undefined): PodInfo | undefined {
    return t === undefined ? this.meta.getPodByIP(ip) : this.meta.getPodByIPAndTime(ip, t);
  }

  evaluate(conn: PolicyConnection): PolicyEvaluation {
    this.refresh();
    const srcPod = this.resolve(conn.srcIP, conn.timeSeconds);
    const dstPod = this.resolve(conn.dstIP, conn.timeSeconds);
    let srcParsed: IPValue | undefined | null = null;
    let dstParsed: IPValue | undefined | null = null;
    const srcIP = (): IPValue | undefined => (srcParsed === null ? (srcParsed = parseIP(conn.srcIP)) : srcParsed);
    const dstIP = (): IPValue | undefined => (dstParsed === null ? (dstParsed = parseIP(conn.dstIP)) : dstParsed);

    let ingress = NOT_ISOLATED;
    if (dstPod !== undefined) {
      const sel = this.selection(dstPod);
      if (sel.ingress.length > 0) {
        ingress = this.firstAllow(sel.ingress, 'ingress', conn, srcIP, srcPod, dstPod) ?? sel.ingressDrop;
      }
    }
    let egress = NOT_ISOLATED;
    if (srcPod !== undefined) {
      const sel = this.selection(srcPod);
      if (sel.egress.length > 0) {
        egress = this.firstAllow(sel.egress, 'egress', conn, dstIP, dstPod, dstPod) ?? sel.egressDrop;
      }
    }
    return { ingress, egress };
  }

  private firstAllow(
    policies: readonly CompiledPolicy[],
    direction: 'ingress' | 'egress',
    conn: PolicyConnection,
    peerIP: () => IPValue | undefined,
    peerPod: PodInfo | undefined,
    dstPod: PodInfo | undefined,
  ): PolicyVerdict | undefined {
    for (const p of policies) {
      const ctx: PeerContext = {
        peerIP,
        peerPod,
        policyNamespace: p.policy.namespace,
        namespaceLabels: this.namespaceLabels,
        namespaceEpoch: this.meta.namespaceGeneration,
      };
      const rules: readonly CompiledRule[] = direction === 'ingress' ? p.ingress : p.egress;
      for (const rule of rules) {
        if (rule.ports !== undefined && !rule.ports.some((port) => portMatches(port, conn.protocolIdentifier, conn.dstPort, dstPod))) {
          continue;
        }
        if (rule.peers !== undefined && !rule.peers.some((peer) => peerMatches(peer, ctx))) continue;
        return rule.allow;
      }
    }
    return undefined;
  }
}

/** One-shot evaluation (compiles the policies every call; keep a NetworkPolicyEvaluator for repeated use). */
export function evaluateNetworkPolicies(meta: PolicyMetadata, conn: PolicyConnection): PolicyEvaluation {
  return new NetworkPolicyEvaluator(meta).evaluate(conn);
}
