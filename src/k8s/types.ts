/**
 * The Kubernetes metadata the node agent and the aggregator use, in a compact form shared by every
 * metadata source (informers or a static inventory file). IP addresses are canonical text
 * (see ip.ts `normalizeIP`); times are seconds since the epoch.
 */

export type Labels = Readonly<Record<string, string>>;

export type L4Protocol = 'TCP' | 'UDP' | 'SCTP';

/** IANA protocol numbers of the protocols Services and NetworkPolicies name. */
export const PROTOCOL_NUMBERS = { TCP: 6, UDP: 17, SCTP: 132 } as const satisfies Record<L4Protocol, number>;

export function protocolName(protocolIdentifier: number): L4Protocol | undefined {
  switch (protocolIdentifier) {
    case 6:
      return 'TCP';
    case 17:
      return 'UDP';
    case 132:
      return 'SCTP';
    default:
      return undefined;
  }
}

export interface ContainerPort {
  readonly name: string | undefined;
  readonly containerPort: number;
  readonly protocol: L4Protocol;
}

export interface PodInfo {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** spec.nodeName ("" while unscheduled). */
  readonly nodeName: string;
  readonly ips: readonly string[];
  readonly labels: Labels;
  /** Container ports; named ones resolve NetworkPolicy named ports. */
  readonly containerPorts: readonly ContainerPort[];
}

export interface ServicePortInfo {
  readonly namespace: string;
  readonly name: string;
  /** "" for an unnamed port. */
  readonly portName: string;
  readonly port: number;
  readonly protocol: L4Protocol;
  readonly nodePort: number | undefined;
  /** Kubernetes' ServicePortName text: "namespace/name:portName", or "namespace/name" for an unnamed port. */
  readonly servicePortName: string;
}

export interface ServiceInfo {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIPs: readonly string[];
  /** spec.externalIPs and status.loadBalancer.ingress[].ip. */
  readonly externalIPs: readonly string[];
  readonly ports: readonly ServicePortInfo[];
}

export interface NodeInfo {
  readonly name: string;
  readonly uid: string;
  readonly internalIPs: readonly string[];
  readonly externalIPs: readonly string[];
  readonly podCIDRs: readonly string[];
  /** Pod-subnet gateway addresses; by default the first host address of each podCIDR. */
  readonly gatewayIPs: readonly string[];
}

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Labels;
}

// ---- networking.k8s.io/v1 NetworkPolicy, as the evaluator reads it -------------------------------

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface IPBlock {
  readonly cidr: string;
  readonly except?: readonly string[];
}

export interface NetworkPolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IPBlock;
}

export interface NetworkPolicyPort {
  /** Defaults to TCP. */
  readonly protocol?: L4Protocol;
  /** Number or named container port; absent = every port. */
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface NetworkPolicyRule {
  /** `from` of an ingress rule or `to` of an egress rule; absent or empty = every peer. */
  readonly peers?: readonly NetworkPolicyPeer[];
  /** Absent or empty = every port. */
  readonly ports?: readonly NetworkPolicyPort[];
}

export type PolicyType = 'Ingress' | 'Egress';

export interface NetworkPolicy {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly podSelector: LabelSelector;
  /** Always filled: the API server's default (Ingress, plus Egress when egress rules exist) applies. */
  readonly policyTypes: readonly PolicyType[];
  readonly ingress: readonly NetworkPolicyRule[];
  readonly egress: readonly NetworkPolicyRule[];
}

// ---- change notifications -------------------------------------------------------------------------

export type MetadataResource = 'pod' | 'service' | 'node' | 'namespace' | 'networkPolicy';

export interface MetadataChange {
  readonly resource: MetadataResource;
  readonly type: 'add' | 'update' | 'delete';
  readonly namespace: string | undefined;
  readonly name: string;
}

/** Where an address falls among all Nodes' Pod subnets. */
export interface PodSubnetMatch {
  /** Inside some Node's podCIDR (gateway addresses included). */
  readonly inPodSubnet: boolean;
  /** One of the Pod-subnet gateway addresses. */
  readonly isGateway: boolean;
  /** The Node whose podCIDR holds the address. */
  readonly nodeName: string | undefined;
}
