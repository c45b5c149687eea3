/**
 * The query layer's interface, shared by the embedded store (DuckDB) and ClickHouse: the calls
 * the aggregator's API, the web UI and `flowvis get ...` use, with their filters and results.
 *
 * Time: every call works on records whose flowEndSeconds is in [from, to) (unix seconds). A
 * record's delta counters (octetDeltaCount, …) cover the time since the previous record of the
 * same connection, so sums of deltas over a range are the traffic in that range.
 * Bytes = octetDeltaCount + reverseOctetDeltaCount (both directions of the connection).
 */
import type { StoredFlowRow } from '../sinks/flow-row.ts';

export const FLOW_TYPES = { intraNode: 1, interNode: 2, toExternal: 3, fromExternal: 4 } as const;

export const POLICY_ACTIONS = ['allow', 'deny'] as const;
export type PolicyActionFilter = (typeof POLICY_ACTIONS)[number];

/** Narrows the records a call looks at; every given field must match (AND). */
export interface FlowFilter {
  /** flowEndSeconds ≥ from (unix seconds). */
  readonly from?: number;
  /** flowEndSeconds < to (unix seconds). */
  readonly to?: number;
  /** Source or destination Pod namespace. */
  readonly namespace?: string;
  readonly sourceNamespace?: string;
  readonly destinationNamespace?: string;
  /** Source or destination Pod name. */
  readonly pod?: string;
  readonly sourcePod?: string;
  readonly destinationPod?: string;
  /** Source or destination Node name. */
  readonly node?: string;
  readonly sourceNode?: string;
  readonly destinationNode?: string;
  /** Source, destination or Service (cluster) IP, as text. */
  readonly ip?: string;
  readonly sourceIP?: string;
  readonly destinationIP?: string;
  /** Source or destination transport port. */
  readonly port?: number;
  readonly sourcePort?: number;
  readonly destinationPort?: number;
  /** IANA protocol number (6 TCP, 17 UDP, 132 SCTP, 1 ICMP, 58 ICMPv6). */
  readonly protocol?: number;
  /** Any of these flowType values (1 intra-Node, 2 inter-Node, 3 to external, 4 from external). */
  readonly flowType?: readonly number[];
  /** destinationServicePortName ("ns/svc:port"), or "ns/svc" for any port of the Service. */
  readonly service?: string;
  /** Ingress or egress NetworkPolicy name. */
  readonly policy?: string;
  /** deny: an ingress or egress rule dropped or rejected the flow; allow: none did. */
  readonly action?: PolicyActionFilter;
  /** Case-insensitive substring of a Pod, workload, namespace, Node or Service name (either side). */
  readonly text?: string;
}

export const FLOW_SORT_KEYS = ['flowEndSeconds', 'flowStartSeconds', 'bytes', 'packets', 'throughput'] as const;
export type FlowSortKey = (typeof FLOW_SORT_KEYS)[number];

export interface FlowsQuery {
  readonly filter?: FlowFilter;
  /** 1..1000 (default 100). */
  readonly limit?: number;
  /** 0..10000 (default 0); page deeper by narrowing the time range instead. */
  readonly offset?: number;
  /** Default flowEndSeconds. */
  readonly sort?: FlowSortKey;
  /** Default desc. */
  readonly order?: 'asc' | 'desc';
}

export interface FlowsPage {
  readonly flows: StoredFlowRow[];
  readonly limit: number;
  readonly offset: number;
  /** More records match after this page. */
  readonly hasMore: boolean;
}

export const TALKER_LEVELS = ['pod', 'namespace', 'node'] as const;
export type TalkerLevel = (typeof TALKER_LEVELS)[number];

/** One end of a pair: a Pod (namespace/name), a namespace, a Node, or an external IP. */
export interface TalkerEndpoint {
  readonly kind: 'pod' | 'namespace' | 'node' | 'external';
  /** Namespace of a Pod; the namespace itself at namespace level; "" otherwise. */
  readonly namespace: string;
  /** Pod name, namespace, Node name or IP ("" when the record has none at that level). */
  readonly name: string;
}

export interface TopTalkersQuery {
  readonly by: TalkerLevel;
  readonly filter?: FlowFilter;
  /** 1..1000 (default 10). */
  readonly limit?: number;
}

export interface TopTalker {
  readonly source: TalkerEndpoint;
  readonly destination: TalkerEndpoint;
  /** octetDeltaCount + reverseOctetDeltaCount. */
  readonly bytes: bigint;
  readonly octetDeltaCount: bigint;
  readonly reverseOctetDeltaCount: bigint;
  /** Number of flow records. */
  readonly flows: number;
}

export interface ThroughputQuery {
  readonly filter?: FlowFilter;
  /** Bucket width in seconds (default: a round width giving at most ~200 buckets). */
  readonly bucketSeconds?: number;
  /** One series per pair at this level (the top pairs by bytes); default: one total series. */
  readonly by?: TalkerLevel;
  /** How many pairs get a series (1..50, default 5). */
  readonly top?: number;
}

export interface ThroughputPoint {
  /** Bucket start, unix seconds. */
  readonly time: number;
  readonly bytes: bigint;
  /** bytes × 8 / bucketSeconds. */
  readonly bitsPerSecond: number;
}

export interface ThroughputSeries {
  /** Absent for the total series. */
  readonly source?: TalkerEndpoint;
  readonly destination?: TalkerEndpoint;
  /** Every bucket from `from` to `to`, zeros included. */
  readonly points: ThroughputPoint[];
}

export interface ThroughputResult {
  readonly bucketSeconds: number;
  readonly from: number;
  readonly to: number;
  readonly series: ThroughputSeries[];
}

export interface ServiceMapNode {
  /** "workload:<ns>/<name>", "service:<ns>/<name>" or "external:<ip>". */
  readonly id: string;
  readonly kind: 'workload' | 'service' | 'external';
  readonly namespace: string;
  readonly name: string;
}

export interface ServiceMapEdge {
  readonly source: string;
  readonly destination: string;
  readonly bytes: bigint;
  readonly flows: number;
  readonly allowedFlows: number;
  readonly deniedFlows: number;
}

export interface ServiceMapQuery {
  readonly filter?: FlowFilter;
  /** Edges kept, heaviest first: 1..5000 (default 500). */
  readonly limit?: number;
}

export interface ServiceMap {
  readonly nodes: ServiceMapNode[];
  readonly edges: ServiceMapEdge[];
}

export const POLICY_RULE_ACTIONS = { 0: 'None', 1: 'Allow', 2: 'Drop', 3: 'Reject' } as const;
export type PolicyRuleActionName = (typeof POLICY_RULE_ACTIONS)[keyof typeof POLICY_RULE_ACTIONS];

export interface PolicyHit {
  readonly direction: 'ingress' | 'egress';
  readonly namespace: string;
  readonly name: string;
  /** ingress/egressNetworkPolicyType (1 K8s NetworkPolicy, 2 Antrea NetworkPolicy, 3 Antrea ClusterNetworkPolicy, 4 K8s ClusterNetworkPolicy). */
  readonly type: number;
  readonly action: PolicyRuleActionName;
  readonly flows: number;
  readonly bytes: bigint;
}

export interface PolicyHitsQuery {
  readonly filter?: FlowFilter;
  /** 1..10000 (default 1000). */
  readonly limit?: number;
}

/** The query layer: one implementation per store. */
export interface FlowQueries {
  readonly store: 'embedded' | 'clickhouse';
  flows(query?: FlowsQuery): Promise<FlowsPage>;
  topTalkers(query: TopTalkersQuery): Promise<TopTalker[]>;
  throughput(query?: ThroughputQuery): Promise<ThroughputResult>;
  serviceMap(query?: ServiceMapQuery): Promise<ServiceMap>;
  policyHits(query?: PolicyHitsQuery): Promise<PolicyHit[]>;
  close(): Promise<void>;
}
