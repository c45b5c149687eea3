/**
 * Kubernetes Service data paths in node namespaces, programmed as kube-proxy would:
 * - the aggregator's Service: the agent's own connection to the ClusterIP is DNATed in the node's
 *   output hook to where the aggregator listens (plus a route for the Service range, which a real
 *   node has through its default route, so that connect() gets past routing);
 * - a Pod-facing Service: DNAT in the source node's prerouting hook to a backend Pod.
 */
import type { NetnsCluster } from '../netns/cluster.ts';

export const SERVICE_CIDR_V4 = '10.96.0.0/12';

/** Routes the Service range of `node` to the aggregator namespace (once per node). */
export async function routeServiceRange(cluster: NetnsCluster, node: string, cidr = SERVICE_CIDR_V4): Promise<void> {
  const via = cluster.aggregator?.ipv4;
  if (via === undefined) throw new Error('the cluster has no aggregator namespace');
  await cluster.exec(node, ['ip', 'route', 'replace', cidr, 'via', via]);
}

/**
 * DNAT, for connections that `node` itself opens, of clusterIP:port (TCP) to target:targetPort.
 * Replaces the table `ip fvsvcout` of that node.
 */
export async function dnatNodeOutput(cluster: NetnsCluster, node: string, o: { clusterIP: string; port: number; target: string; targetPort: number }): Promise<void> {
  await cluster.exec(node, ['nft', 'delete table ip fvsvcout'], { allowFailure: true });
  await cluster.nft(node, [
    'table ip fvsvcout {',
    '  chain output {',
    '    type nat hook output priority -100;',
    `    ip daddr ${o.clusterIP} tcp dport ${o.port} dnat to ${o.target}:${o.targetPort}`,
    '  }',
    '}',
  ].join('\n'));
}

export interface PodServiceRoute {
  /** ClusterIPs (IPv4 and/or IPv6) and the Service port. */
  clusterIPv4?: string;
  clusterIPv6?: string;
  port: number;
  proto?: 'tcp' | 'udp';
  /** Backend Pod addresses and the target port. */
  backendIPv4?: string;
  backendIPv6?: string;
  targetPort: number;
}

/** DNAT in `node`'s prerouting hook: Pods of that node reach the Service's backend. Table `inet fvsvc<n>`. */
export async function dnatPodService(cluster: NetnsCluster, node: string, r: PodServiceRoute, table = 'fvsvc'): Promise<void> {
  const proto = r.proto ?? 'tcp';
  const rules: string[] = [];
  if (r.clusterIPv4 && r.backendIPv4) rules.push(`    ip daddr ${r.clusterIPv4} ${proto} dport ${r.port} dnat ip to ${r.backendIPv4}:${r.targetPort}`);
  if (r.clusterIPv6 && r.backendIPv6) rules.push(`    ip6 daddr ${r.clusterIPv6} ${proto} dport ${r.port} dnat ip6 to [${r.backendIPv6}]:${r.targetPort}`);
  await cluster.nft(node, [
    `table inet ${table} {`,
    '  chain prerouting {',
    '    type nat hook prerouting priority -100;',
    ...rules,
    '  }',
    '}',
  ].join('\n'));
}
