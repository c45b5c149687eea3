/**
 * Names the flow log writes instead of numbers when prettyPrint is on, as Antrea's flowlogger
 * (prettyprint.go) and IPProtocolNumberToString map them:
 *   protocolIdentifier            1 ICMP, 6 TCP, 17 UDP, 58 IPv6-ICMP, 132 SCTP, else "Unknown Protocol"
 *   *NetworkPolicyRuleAction      0 "", 1 Allow, 2 Drop, 3 Reject, else "Invalid"
 *   *NetworkPolicyType            0 "", 1 K8sNetworkPolicy, 2 AntreaNetworkPolicy,
 *                                 3 AntreaClusterNetworkPolicy, else "Invalid"
 *                                 (4, K8s ClusterNetworkPolicy / AdminNetworkPolicy, is "Invalid"
 *                                 upstream too)
 */

const PROTOCOLS: Readonly<Record<number, string>> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'IPv6-ICMP', 132: 'SCTP' };
const RULE_ACTIONS: readonly string[] = ['', 'Allow', 'Drop', 'Reject'];
const POLICY_TYPES: readonly string[] = ['', 'K8sNetworkPolicy', 'AntreaNetworkPolicy', 'AntreaClusterNetworkPolicy'];

export function protocolName(protocol: number): string {
  return PROTOCOLS[protocol] ?? 'Unknown Protocol';
}

export function ruleActionName(action: number): string {
  return RULE_ACTIONS[action] ?? 'Invalid';
}

export function policyTypeName(type: number): string {
  return POLICY_TYPES[type] ?? 'Invalid';
}
