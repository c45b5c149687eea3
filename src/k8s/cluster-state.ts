/**
 * The in-memory cluster state behind every MetadataSource: Pods (by IP and time), Services,
 * Nodes, Namespaces and NetworkPolicies, with change notifications and generation counters.
 * Sources write into it; consumers read it through the MetadataView interface.
 */
import type { MetadataView } from './metadata-source.ts';
import { normalizeIP } from './ip.ts';
import { NodeIndex } from './node-index.ts';
import { PodStore, type PodStoreOptions } from './pod-store.ts';
import { ServiceIndex } from './service-index.ts';
import type {
  Labels,
  MetadataChange,
  NamespaceInfo,
  NetworkPolicy,
  NodeInfo,
  PodInfo,
  PodSubnetMatch,
  ServiceInfo,
  ServicePortInfo,
} from './types.ts';

export interface ClusterStateOptions extends PodStoreOptions {
  localNodeName?: string;
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

const byNamespaceThenName = (a: NetworkPolicy, b: NetworkPolicy): number =>
  a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export class ClusterState implements MetadataView {
  readonly localNodeName: string | undefined;
  readonly pods: PodStore;
  readonly services = new ServiceIndex();
  readonly nodes = new NodeIndex();
  private readonly namespaces = new Map<string, NamespaceInfo>();
  private readonly policies = new Map<string, NetworkPolicy>();
  private sortedPolicies: NetworkPolicy[] | undefined = [];
  private listeners: ((change: MetadataChange) => void)[] = [];
  policyGeneration = 0;
  namespaceGeneration = 0;
  /** Exceptions thrown by change listeners (they never interrupt ingestion). */
  listenerErrors = 0;

  constructor(opts: ClusterStateOptions = {}) {
    this.localNodeName = opts.localNodeName;
    this.pods = new PodStore(opts);
  }

  onChange(listener: (change: MetadataChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private emit(change: MetadataChange): void {
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        this.listenerErrors++;
      }
    }
  }

  // ---- writes -------------------------------------------------------------------------------------

  upsertPod(pod: PodInfo, opts: { pending: boolean; creationTimestamp: number | undefined }): void {
    const type = this.pods.upsert(pod, opts);
    this.emit({ resource: 'pod', type, namespace: pod.namespace, name: pod.name });
  }

  deletePod(pod: Pick<PodInfo, 'uid' | 'namespace' | 'name'>): void {
    if (this.pods.delete(pod.uid)) this.emit({ resource: 'pod', type: 'delete', namespace: pod.namespace, name: pod.name });
  }

  upsertService(svc: ServiceInfo): void {
    const type = this.services.upsert(svc);
    this.emit({ resource: 'service', type, namespace: svc.namespace, name: svc.name });
  }

  deleteService(namespace: string, name: string): void {
    if (this.services.delete(namespace, name)) this.emit({ resource: 'service', type: 'delete', namespace, name });
  }

  upsertNode(node: NodeInfo): void {
    const type = this.nodes.upsert(node);
    this.emit({ resource: 'node', type, namespace: undefined, name: node.name });
  }

  deleteNode(name: string): void {
    if (this.nodes.delete(name)) this.emit({ resource: 'node', type: 'delete', namespace: undefined, name });
  }

  upsertNamespace(ns: NamespaceInfo): void {
    const prev = this.namespaces.get(ns.name);
    this.namespaces.set(ns.name, ns);
    if (prev === undefined || !sameLabels(prev.labels, ns.labels)) this.namespaceGeneration++;
    this.emit({ resource: 'namespace', type: prev === undefined ? 'add' : 'update', namespace: undefined, name: ns.name });
  }

  deleteNamespace(name: string): void {
    if (!this.namespaces.delete(name)) return;
    this.namespaceGeneration++;
    this.emit({ resource: 'namespace', type: 'delete', namespace: undefined, name });
  }

  upsertNetworkPolicy(np: NetworkPolicy): void {
    const key = `${np.namespace}/${np.name}`;
    const existed = this.policies.has(key);
    this.policies.set(key, np);
    this.sortedPolicies = undefined;
    this.policyGeneration++;
    this.emit({ resource: 'networkPolicy', type: existed ? 'update' : 'add', namespace: np.namespace, name: np.name });
  }

  deleteNetworkPolicy(namespace: string, name: string): void {
    if (!this.policies.delete(`${namespace}/${name}`)) return;
    this.sortedPolicies = undefined;
    this.policyGeneration++;
    this.emit({ resource: 'networkPolicy', type: 'delete', namespace, name });
  }

  // ---- reads (MetadataView) -------------------------------------------------------------------------

  getPodByIPAndTime(ip: string, tSeconds: number): PodInfo | undefined {
    const key = normalizeIP(ip);
    return key === undefined ? undefined : this.pods.getPodByIPAndTime(key, tSeconds);
  }

  getPodByIP(ip: string): PodInfo | undefined {
    const key = normalizeIP(ip);
    return key === undefined ? undefined : this.pods.getPodByIP(key);
  }

  getPod(namespace: string, name: string): PodInfo | undefined {
    return this.pods.getPod(namespace, name);
  }

  listPods(): PodInfo[] {
    return this.pods.list();
  }

  isLocalPod(pod: PodInfo): boolean {
    return this.localNodeName !== undefined && pod.nodeName === this.localNodeName;
  }

  lookupService(ip: string, port: number, protocolIdentifier: number): ServicePortInfo | undefined {
    const key = normalizeIP(ip);
    if (key === undefined) return undefined;
    const hit = this.services.lookup(key, port, protocolIdentifier);
    if (hit !== undefined) return hit;
    if (this.nodes.nodeByAddress(key) !== undefined) return this.services.lookupNodePort(port, protocolIdentifier);
    return undefined;
  }

  listServices(): ServiceInfo[] {
    return this.services.list();
  }

  getNode(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  listNodes(): NodeInfo[] {
    return this.nodes.list();
  }

  lookupPodSubnet(ip: string): PodSubnetMatch {
    const key = normalizeIP(ip) ?? ip;
    return this.nodes.lookupPodSubnet(key);
  }

  get hasPodSubnets(): boolean {
    return this.nodes.hasPodSubnets;
  }

  getNamespace(name: string): NamespaceInfo | undefined {
    return this.namespaces.get(name);
  }

  listNamespaces(): NamespaceInfo[] {
    return [...this.namespaces.values()];
  }

  listNetworkPolicies(): readonly NetworkPolicy[] {
    if (this.sortedPolicies === undefined) this.sortedPolicies = [...this.policies.values()].sort(byNamespaceThenName);
    return this.sortedPolicies;
  }
}
