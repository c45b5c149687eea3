/**
 * One interface for every source of Kubernetes metadata: `KubernetesMetadataSource` (informers
 * over the API server) and `StaticInventorySource` (a YAML file, for clusters without API access
 * and for the demo). Consumers (the exporter's record builder, flowType classification, the
 * NetworkPolicy evaluator, the aggregator's Pod labels) read through `MetadataView`.
 */
import type {
  MetadataChange,
  NamespaceInfo,
  NetworkPolicy,
  NodeInfo,
  PodInfo,
  PodSubnetMatch,
  ServiceInfo,
  ServicePortInfo,
} from './types.ts';

export interface MetadataView {
  /** The Node this process runs on (the agent), undefined for cluster-wide consumers. */
  readonly localNodeName: string | undefined;

  /** The Pod that had `ip` at `tSeconds` (see PodStore for the exact rule). */
  getPodByIPAndTime(ip: string, tSeconds: number): PodInfo | undefined;
  /** The live Pod with `ip` (else the most recently deleted one still retained). */
  getPodByIP(ip: string): PodInfo | undefined;
  getPod(namespace: string, name: string): PodInfo | undefined;
  listPods(): PodInfo[];
  /** The Pod runs on `localNodeName` (always false when no local Node is set). */
  isLocalPod(pod: PodInfo): boolean;

  /**
   * The Service port a client reached at `ip`:`port` (IANA protocol number): ClusterIP, external or
   * load-balancer IP first, then a NodePort on any Node address.
   */
  lookupService(ip: string, port: number, protocolIdentifier: number): ServicePortInfo | undefined;
  listServices(): ServiceInfo[];

  getNode(name: string): NodeInfo | undefined;
  listNodes(): NodeInfo[];
  /** Where `ip` falls among all Nodes' Pod subnets. */
  lookupPodSubnet(ip: string): PodSubnetMatch;
  /** True once any Node with a podCIDR is known (flowType needs it; without it flowType is 0). */
  readonly hasPodSubnets: boolean;

  getNamespace(name: string): NamespaceInfo | undefined;
  listNamespaces(): NamespaceInfo[];

  /** NetworkPolicies sorted by namespace, then name. */
  listNetworkPolicies(): readonly NetworkPolicy[];
  /** Bumped whenever a NetworkPolicy changes (for caches). */
  readonly policyGeneration: number;
  /** Bumped whenever a Namespace's labels change (for caches). */
  readonly namespaceGeneration: number;

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (change: MetadataChange) => void): () => void;
}

export interface MetadataSource extends MetadataView {
  readonly kind: 'kubernetes' | 'static';
  /** Starts loading (informers list and watch; the static source reads its file). */
  start(): Promise<void>;
  /** Resolves once every resource has been loaded once; rejects with a MetadataError after timeoutMs. */
  waitForSync(timeoutMs?: number): Promise<void>;
  readonly synced: boolean;
  stop(): Promise<void>;
}
