/**
 * A NetworkPolicy compiled once for evaluation: label selectors become predicates, ipBlock CIDRs
 * are parsed, ports get their protocol numbers, and each rule carries its ready-made Allow verdict.
 *
 * Rule names: the rule at index i of spec.ingress is "ingress-<i>", of spec.egress "egress-<i>"
 * (0-based, in spec order).
 */
import { cidrContains, parseCidr, type Cidr, type IPValue } from '../../k8s/ip.ts';
import { compileLabelSelector, type LabelMatcher } from '../../k8s/label-selector.ts';
import {
  PROTOCOL_NUMBERS,
  type Labels,
  type NetworkPolicy,
  type NetworkPolicyPeer,
  type NetworkPolicyPort,
  type NetworkPolicyRule,
  type PodInfo,
} from '../../k8s/types.ts';
import { NetworkPolicyType, RuleAction, type PolicyVerdict } from './types.ts';

export type CompiledPeer =
  | { readonly kind: 'ipBlock'; readonly cidr: Cidr | undefined; readonly except: readonly Cidr[] }
  | {
      readonly kind: 'pods';
      /** undefined: only the policy's own namespace. */
      readonly namespaces: NamespaceMatcher | undefined;
      readonly pods: LabelMatcher;
    };

/** A namespaceSelector with a per-namespace memo, reset by the evaluator when Namespace labels change. */
export class NamespaceMatcher {
  private readonly memo = new Map<string, boolean>();
  private epoch = -1;

  constructor(private readonly matcher: LabelMatcher) {}

  matches(namespace: string, labelsOf: (ns: string) => Labels, epoch: number): boolean {
    if (epoch !== this.epoch) {
      this.memo.clear();
      this.epoch = epoch;
    }
    let hit = this.memo.get(namespace);
    if (hit === undefined) {
      hit = this.matcher(labelsOf(namespace));
      this.memo.set(namespace, hit);
    }
    return hit;
  }
}

export interface CompiledPort {
  readonly protocolNumber: number;
  readonly protocol: string;
  /** undefined: every port. */
  readonly port: number | string | undefined;
  readonly endPort: number | undefined;
}

export interface CompiledRule {
  readonly name: string;
  /** undefined: every peer. */
  readonly peers: readonly CompiledPeer[] | undefined;
  /** undefined: every port and protocol. */
  readonly ports: readonly CompiledPort[] | undefined;
  readonly allow: PolicyVerdict;
}

export interface CompiledPolicy {
  readonly policy: NetworkPolicy;
  readonly key: string;
  readonly selects: LabelMatcher;
  readonly affectsIngress: boolean;
  readonly affectsEgress: boolean;
  readonly ingress: readonly CompiledRule[];
  readonly egress: readonly CompiledRule[];
}

function compilePeer(p: NetworkPolicyPeer): CompiledPeer {
  if (p.ipBlock !== undefined) {
    return {
      kind: 'ipBlock',
      cidr: parseCidr(p.ipBlock.cidr),
      except: (p.ipBlock.except ?? []).map(parseCidr).filter((c): c is Cidr => c !== undefined),
    };
  }
  return {
    kind: 'pods',
    namespaces: p.namespaceSelector !== undefined ? new NamespaceMatcher(compileLabelSelector(p.namespaceSelector)) : undefined,
    pods: compileLabelSelector(p.podSelector ?? {}),
  };
}

function compilePort(p: NetworkPolicyPort): CompiledPort {
  const protocol = p.protocol ?? 'TCP';
  return { protocolNumber: PROTOCOL_NUMBERS[protocol], protocol, port: p.port, endPort: p.endPort };
}

function compileRule(np: NetworkPolicy, rule: NetworkPolicyRule, name: string): CompiledRule {
  return {
    name,
    peers: rule.peers !== undefined && rule.peers.length > 0 ? rule.peers.map(compilePeer) : undefined,
    ports: rule.ports !== undefined && rule.ports.length > 0 ? rule.ports.map(compilePort) : undefined,
    allow: Object.freeze({
      policyName: np.name,
      policyNamespace: np.namespace,
      policyType: NetworkPolicyType.K8sNetworkPolicy,
      ruleAction: RuleAction.Allow,
      ruleName: name,
      isolatedBy: Object.freeze([]) as readonly string[],
    }),
  };
}

export function compilePolicy(np: NetworkPolicy): CompiledPolicy {
  return {
    policy: np,
    key: `${np.namespace}/${np.name}`,
    selects: compileLabelSelector(np.podSelector),
    affectsIngress: np.policyTypes.includes('Ingress'),
    affectsEgress: np.policyTypes.includes('Egress'),
    ingress: np.ingress.map((r, i) => compileRule(np, r, `ingress-${i}`)),
    egress: np.egress.map((r, i) => compileRule(np, r, `egress-${i}`)),
  };
}

/** What a rule is matched against: the peer's address (parsed lazily) and Pod, and the destination Pod. */
export interface PeerContext {
  readonly peerIP: () => IPValue | undefined;
  readonly peerPod: PodInfo | undefined;
  readonly policyNamespace: string;
  readonly namespaceLabels: (ns: string) => Labels;
  readonly namespaceEpoch: number;
}

export function peerMatches(peer: CompiledPeer, ctx: PeerContext): boolean {
  if (peer.kind === 'ipBlock') {
    const ip = ctx.peerIP();
    if (ip === undefined || peer.cidr === undefined || !cidrContains(peer.cidr, ip)) return false;
    for (const ex of peer.except) if (cidrContains(ex, ip)) return false;
    return true;
  }
  const pod = ctx.peerPod;
  if (pod === undefined) return false;
  if (peer.namespaces === undefined) {
    if (pod.namespace !== ctx.policyNamespace) return false;
  } else if (!peer.namespaces.matches(pod.namespace, ctx.namespaceLabels, ctx.namespaceEpoch)) {
    return false;
  }
  return peer.pods(pod.labels);
}

/** A port entry matches the connection's protocol and destination port (named ports via the destination Pod). */
export function portMatches(port: CompiledPort, protocolNumber: number, dstPort: number, dstPod: PodInfo | undefined): boolean {
  if (port.protocolNumber !== protocolNumber) return false;
  if (port.port === undefined) return true;
  if (typeof port.port === 'number') {
    return port.endPort !== undefined ? dstPort >= port.port && dstPort <= port.endPort : dstPort === port.port;
  }
  if (dstPod === undefined) return false;
  for (const cp of dstPod.containerPorts) {
    if (cp.name === port.port && cp.protocol === port.protocol && cp.containerPort === dstPort) return true;
  }
  return false;
}
