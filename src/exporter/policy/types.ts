/**
 * Result types of NetworkPolicy evaluation, in the terms of Antrea's flow records
 * (ingress/egressNetworkPolicy{Name,Namespace,Type,RuleName,RuleAction}).
 */

/** ingress/egressNetworkPolicyType values (Antrea). Only Kubernetes NetworkPolicies are evaluated here. */
export const NetworkPolicyType = {
  Unspecified: 0,
  K8sNetworkPolicy: 1,
  AntreaNetworkPolicy: 2,
  AntreaClusterNetworkPolicy: 3,
} as const;

/** ingress/egressNetworkPolicyRuleAction values (Antrea). */
export const RuleAction = {
  NoAction: 0,
  Allow: 1,
  Drop: 2,
  Reject: 3,
} as const;

export interface PolicyVerdict {
  readonly policyName: string;
  readonly policyNamespace: string;
  /** 1 (Kubernetes NetworkPolicy) when the Pod is isolated in this direction, else 0. */
  readonly policyType: 0 | 1;
  /** 0: not isolated; 1: allowed by `policyName`/`ruleName`; 2: isolated and no rule allows it. */
  readonly ruleAction: 0 | 1 | 2;
  readonly ruleName: string;
  /**
   * "namespace/name" of every policy isolating the Pod in this direction, sorted (empty when not
   * isolated). Informational: it is not part of the exported record.
   */
  readonly isolatedBy: readonly string[];
}

export interface PolicyConnection {
  readonly srcIP: string;
  readonly dstIP: string;
  /** IANA protocol number (6 TCP, 17 UDP, 132 SCTP; other protocols only match rules without ports). */
  readonly protocolIdentifier: number;
  /** Destination port after DNAT (the port at the destination Pod). */
  readonly dstPort: number;
  /** Flow start (seconds): Pods are resolved by IP at this time; without it the live Pod is used. */
  readonly timeSeconds?: number;
}

export interface PolicyEvaluation {
  /** Policies selecting the destination Pod (ingress direction). */
  readonly ingress: PolicyVerdict;
  /** Policies selecting the source Pod (egress direction). */
  readonly egress: PolicyVerdict;
}

export const NOT_ISOLATED: PolicyVerdict = Object.freeze({
  policyName: '',
  policyNamespace: '',
  policyType: 0,
  ruleAction: 0,
  ruleName: '',
  isolatedBy: Object.freeze([]) as readonly string[],
});

/** The ten flow-record fields for one evaluation, named as the information elements are. */
export function policyRecordFields(e: PolicyEvaluation): {
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
} {
  return {
    ingressNetworkPolicyName: e.ingress.policyName,
    ingressNetworkPolicyNamespace: e.ingress.policyNamespace,
    ingressNetworkPolicyType: e.ingress.policyType,
    ingressNetworkPolicyRuleName: e.ingress.ruleName,
    ingressNetworkPolicyRuleAction: e.ingress.ruleAction,
    egressNetworkPolicyName: e.egress.policyName,
    egressNetworkPolicyNamespace: e.egress.policyNamespace,
    egressNetworkPolicyType: e.egress.policyType,
    egressNetworkPolicyRuleName: e.egress.ruleName,
    egressNetworkPolicyRuleAction: e.egress.ruleAction,
  };
}
