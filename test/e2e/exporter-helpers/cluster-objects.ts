/**
 * The Kubernetes objects that describe a network-namespace cluster: one Node per node namespace
 * (podCIDRs and InternalIPs from the harness's address plan) and one Pod per pod namespace (its
 * IPv4 and IPv6 addresses, its Node), in the Kubernetes namespaces the test chooses.
 */
import type { NetnsCluster } from '../netns/cluster.ts';
import type { KubeObject } from '../fake-apiserver/object-store.ts';
import { namespace as namespaceObject, node as nodeObject, pod as podObject } from '../fake-apiserver/fixtures.ts';

export interface PodMeta {
  /** Kubernetes namespace of the Pod. */
  namespace: string;
  labels?: Record<string, string>;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
}

/** Kubernetes names of things in the cluster: by default the harness's logical names. */
export interface ClusterObjectsOptions {
  /** Metadata per logical pod name; pods not listed go to namespace "default". */
  pods?: Readonly<Record<string, PodMeta>>;
  /** Labels per Kubernetes namespace (every namespace a Pod uses is created). */
  namespaceLabels?: Readonly<Record<string, Record<string, string>>>;
}

/**
 * Namespaces first, then Nodes, then Pods: the order in which a server accepts them. Pod and Node
 * names are the harness's logical names ("pod-a", "node1").
 */
export function clusterObjects(cluster: NetnsCluster, o: ClusterObjectsOptions = {}): KubeObject[] {
  const namespaces = new Set<string>(Object.keys(o.namespaceLabels ?? {}));
  const pods: KubeObject[] = [];
  const nodes: KubeObject[] = [];
  for (const n of cluster.nodes) {
    nodes.push(nodeObject(n.name, {
      podCIDRs: [n.podCIDRv4, ...(n.podCIDRv6 ? [n.podCIDRv6] : [])],
      internalIPs: [n.ipv4, ...(n.ipv6 ? [n.ipv6] : [])],
    }));
    for (const p of n.pods) {
      const meta = o.pods?.[p.name] ?? { namespace: 'default' };
      namespaces.add(meta.namespace);
      pods.push(podObject(meta.namespace, p.name, {
        ips: [p.ipv4, ...(p.ipv6 ? [p.ipv6] : [])],
        node: n.name,
        labels: meta.labels,
        ports: meta.ports,
      }));
    }
  }
  const builtIn = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
  const nsObjects = [...namespaces]
    .filter((ns) => !builtIn.has(ns))
    .map((ns) => namespaceObject(ns, o.namespaceLabels?.[ns] ?? {}));
  return [...nsObjects, ...nodes, ...pods];
}
