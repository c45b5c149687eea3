/**
 * The agent's view of connections: what the connection store keeps per conntrack entry is in
 * typed arrays (connection-store.ts); a `Connection` is the snapshot handed to the record builder
 * when a connection is exported. Field names follow the information elements.
 */

/** Kubernetes meaning of a connection, resolved once when the store first sees it; shared by many connections. */
export interface FlowContext {
  readonly sourcePodName: string;
  readonly sourcePodNamespace: string;
  readonly sourceNodeName: string;
  readonly destinationPodName: string;
  readonly destinationPodNamespace: string;
  readonly destinationNodeName: string;
  /** Service port reached (0 when the connection did not go through a Service). */
  readonly destinationServicePort: number;
  /** "namespace/name:portName" of that Service port, or "". */
  readonly destinationServicePortName: string;
  readonly ingressNetworkPolicyName: string;
  readonly ingressNetworkPolicyNamespace: string;
  readonly ingressNetworkPolicyType: number;
  readonly ingressNetworkPolicyRuleName: string;
  readonly ingressNetworkPolicyRuleAction: number;
  readonly egressNetworkPolicyName: string;
  readonly egressNetworkPolicyNamespace: string;
  readonly egressNetworkPolicyType: number;
  readonly egressNetworkPolicyRuleName: string;
  readonly egressNetworkPolicyRuleAction: number;
  readonly flowType: number;
  readonly egressName: string;
  readonly egressIP: string;
  readonly egressNodeName: string;
}

export const EMPTY_CONTEXT: FlowContext = Object.freeze({
  sourcePodName: '', sourcePodNamespace: '', sourceNodeName: '',
  destinationPodName: '', destinationPodNamespace: '', destinationNodeName: '',
  destinationServicePort: 0, destinationServicePortName: '',
  ingressNetworkPolicyName: '', ingressNetworkPolicyNamespace: '', ingressNetworkPolicyType: 0,
  ingressNetworkPolicyRuleName: '', ingressNetworkPolicyRuleAction: 0,
  egressNetworkPolicyName: '', egressNetworkPolicyNamespace: '', egressNetworkPolicyType: 0,
  egressNetworkPolicyRuleName: '', egressNetworkPolicyRuleAction: 0,
  flowType: 0, egressName: '', egressIP: '', egressNodeName: '',
});

/** What the store knows of a connection it sees for the first time, for resolving its context. */
export interface NewConnection {
  readonly family: 4 | 6;
  readonly sourceIP: string;
  /** Destination after DNAT (the reply tuple's source). */
  readonly destinationIP: string;
  readonly protocolIdentifier: number;
  readonly sourceTransportPort: number;
  readonly destinationTransportPort: number;
  /** Destination the client addressed (a Service ClusterIP when DNAT happened). */
  readonly originalDestinationIP: string;
  readonly originalDestinationPort: number;
  readonly mark: number;
  /** Flow start, seconds since the epoch. */
  readonly startSeconds: number;
}

/**
 * Resolves a new connection's context. Returns null when the connection is not to be tracked
 * (Antrea exports only connections with at least one Pod on this Node).
 */
export type ContextResolver = (conn: NewConnection) => FlowContext | null;

/** flowEndReason values. */
export const EndReason = { idle: 1, active: 2, end: 3 } as const;

/** One exported connection: the values of the agent's template, by element name. */
export interface Connection {
  readonly family: 4 | 6;
  readonly flowStartSeconds: number;
  readonly flowEndSeconds: number;
  readonly flowEndReason: number;
  readonly sourceIP: string;
  readonly destinationIP: string;
  readonly sourceTransportPort: number;
  readonly destinationTransportPort: number;
  readonly protocolIdentifier: number;
  readonly packetTotalCount: bigint;
  readonly octetTotalCount: bigint;
  readonly packetDeltaCount: bigint;
  readonly octetDeltaCount: bigint;
  readonly reversePacketTotalCount: bigint;
  readonly reverseOctetTotalCount: bigint;
  readonly reversePacketDeltaCount: bigint;
  readonly reverseOctetDeltaCount: bigint;
  readonly tcpState: string;
  /** The Service ClusterIP the client addressed, or "" when no Service was involved. */
  readonly destinationClusterIP: string;
  readonly context: FlowContext;
}
