/**
 * Turning grouped rows into the query layer's result objects, the same way for both stores:
 * talker endpoints, service-map nodes and edges, policy hits.
 */
import { POLICY_RULE_ACTIONS, type PolicyRuleActionName, type ServiceMap, type ServiceMapEdge, type ServiceMapNode, type TalkerEndpoint, type TalkerLevel } from './types.ts';

/** A talker endpoint from the grouped names at a level; ip is used when there is no Pod. */
export function talkerEndpoint(level: TalkerLevel, namespace: string, name: string): TalkerEndpoint {
  if (level === 'namespace') return namespace === '' ? { kind: 'external', namespace: '', name: '' } : { kind: 'namespace', namespace, name: namespace };
  if (level === 'node') return { kind: 'node', namespace: '', name };
  return namespace === '' ? { kind: 'external', namespace: '', name } : { kind: 'pod', namespace, name };
}

export function talkerKey(e: TalkerEndpoint): string {
  return `${e.kind}:${e.namespace}/${e.name}`;
}

/** "ns/svc:port" → { namespace: ns, name: svc }. */
export function serviceOf(servicePortName: string): { namespace: string; name: string } {
  const slash = servicePortName.indexOf('/');
  const namespace = slash < 0 ? '' : servicePortName.slice(0, slash);
  const rest = slash < 0 ? servicePortName : servicePortName.slice(slash + 1);
  const colon = rest.lastIndexOf(':');
  return { namespace, name: colon < 0 ? rest : rest.slice(0, colon) };
}

/** One grouped row of the service-map query: names on both sides plus counters. */
export interface ServiceMapGroup {
  readonly sourceNamespace: string;
  readonly sourceWorkload: string;
  readonly sourceIP: string;
  readonly destinationNamespace: string;
  readonly destinationWorkload: string;
  readonly destinationService: string;
  readonly destinationIP: string;
  readonly bytes: bigint;
  readonly flows: number;
  readonly denied: number;
}

function node(kind: ServiceMapNode['kind'], namespace: string, name: string): ServiceMapNode {
  return { id: kind === 'external' ? `external:${name}` : `${kind}:${namespace}/${name}`, kind, namespace, name };
}

/** Merges groups into nodes and edges (heaviest `limit` edges, and the nodes they touch). */
export function buildServiceMap(groups: Iterable<ServiceMapGroup>, limit: number): ServiceMap {
  const nodes = new Map<string, ServiceMapNode>();
  const edges = new Map<string, { source: string; destination: string; bytes: bigint; flows: number; denied: number }>();
  for (const g of groups) {
    const src = g.sourceWorkload !== '' ? node('workload', g.sourceNamespace, g.sourceWorkload) : node('external', '', g.sourceIP);
    let dst: ServiceMapNode;
    if (g.destinationService !== '') {
      const svc = serviceOf(g.destinationService);
      dst = node('service', svc.namespace, svc.name);
    } else if (g.destinationWorkload !== '') {
      dst = node('workload', g.destinationNamespace, g.destinationWorkload);
    } else {
      dst = node('external', '', g.destinationIP);
    }
    nodes.set(src.id, src);
    nodes.set(dst.id, dst);
    const key = `${src.id}\u0000${dst.id}`;
    const edge = edges.get(key);
    if (edge === undefined) edges.set(key, { source: src.id, destination: dst.id, bytes: g.bytes, flows: g.flows, denied: g.denied });
    else {
      edge.bytes += g.bytes;
      edge.flows += g.flows;
      edge.denied += g.denied;
    }
  }
  const kept: ServiceMapEdge[] = [...edges.values()]
    .sort((a, b) => (a.bytes === b.bytes ? b.flows - a.flows : a.bytes < b.bytes ? 1 : -1))
    .slice(0, limit)
    .map((e) => ({ source: e.source, destination: e.destination, bytes: e.bytes, flows: e.flows, allowedFlows: e.flows - e.denied, deniedFlows: e.denied }));
  const used = new Set(kept.flatMap((e) => [e.source, e.destination]));
  return { nodes: [...nodes.values()].filter((n) => used.has(n.id)).sort((a, b) => a.id.localeCompare(b.id)), edges: kept };
}

export function ruleActionName(action: number): PolicyRuleActionName {
  return POLICY_RULE_ACTIONS[action as keyof typeof POLICY_RULE_ACTIONS] ?? 'None';
}

/** Sorts by bytes (then flows) descending; a total order so both stores agree. */
export function byBytesDesc<T extends { bytes: bigint; flows: number }>(a: T, b: T): number {
  if (a.bytes !== b.bytes) return a.bytes < b.bytes ? 1 : -1;
  return b.flows - a.flows;
}
