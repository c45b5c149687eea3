/**
 * Converts Kubernetes API objects (core/v1 Pod, Service, Node, Namespace; networking.k8s.io/v1
 * NetworkPolicy) into the compact metadata types. Objects come either from a list call, which
 * @kubernetes/client-node deserialises (timestamps become Date, an ingress rule's `from` becomes
 * `_from`), or from a watch event (plain JSON): both shapes are accepted.
 * Malformed parts (an unparseable IP, an unknown protocol) are skipped, never thrown.
 */
import { firstHostAddress, normalizeIP, parseCidr } from './ip.ts';
import type {
  ContainerPort,
  L4Protocol,
  LabelSelector,
  LabelSelectorRequirement,
  NamespaceInfo,
  NetworkPolicy,
  NetworkPolicyPeer,
  NetworkPolicyPort,
  NetworkPolicyRule,
  NodeInfo,
  PodInfo,
  PolicyType,
  ServiceInfo,
} from './types.ts';
import { servicePorts } from './service-index.ts';

type Obj = Record<string, unknown>;

const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strMap = (v: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (typeof x === 'string') out[k] = x;
  return out;
};

export function toProtocol(v: unknown): L4Protocol | undefined {
  if (v === undefined || v === null || v === '') return 'TCP';
  return v === 'TCP' || v === 'UDP' || v === 'SCTP' ? v : undefined;
}

/** Seconds since the epoch of an RFC 3339 string or a Date; undefined when absent or invalid. */
export function toEpochSeconds(v: unknown): number | undefined {
  const ms = v instanceof Date ? v.getTime() : typeof v === 'string' && v !== '' ? Date.parse(v) : NaN;
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}

function normalizedIPs(values: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const ip = normalizeIP(str(v));
    if (ip !== undefined && !out.includes(ip)) out.push(ip);
  }
  return out;
}

export interface PodFromApi {
  readonly pod: PodInfo;
  readonly hostNetwork: boolean;
  readonly pending: boolean;
  readonly creationTimestamp: number | undefined;
}

export function podFromApi(o: unknown): PodFromApi | undefined {
  const meta = obj(obj(o).metadata);
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const name = str(meta.name);
  if (name === '') return undefined;
  const podIPs = arr(status.podIPs).map((p) => obj(p).ip);
  if (podIPs.length === 0 && str(status.podIP) !== '') podIPs.push(status.podIP);
  const containerPorts: ContainerPort[] = [];
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
    for (const p of arr(obj(c).ports)) {
      const port = obj(p);
      const protocol = toProtocol(port.protocol);
      if (typeof port.containerPort !== 'number' || protocol === undefined) continue;
      containerPorts.push({ name: str(port.name) || undefined, containerPort: port.containerPort, protocol });
    }
  }
  return {
    pod: {
      uid: str(meta.uid) || `${str(meta.namespace)}/${name}`,
      name,
      namespace: str(meta.namespace),
      nodeName: str(spec.nodeName),
      ips: normalizedIPs(podIPs),
      labels: strMap(meta.labels),
      containerPorts,
    },
    hostNetwork: spec.hostNetwork === true,
    pending: status.phase === 'Pending',
    creationTimestamp: toEpochSeconds(meta.creationTimestamp),
  };
}

export function serviceFromApi(o: unknown): ServiceInfo | undefined {
  const meta = obj(obj(o).metadata);
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const name = str(meta.name);
  const namespace = str(meta.namespace);
  if (name === '' || spec.type === 'ExternalName') return undefined;
  const clusterIPs = normalizedIPs(arr(spec.clusterIPs).length > 0 ? arr(spec.clusterIPs) : [spec.clusterIP]);
  const lbIPs = arr(obj(status.loadBalancer).ingress).map((i) => obj(i).ip);
  const ports: { name?: string; port: number; protocol?: L4Protocol; nodePort?: number }[] = [];
  for (const p of arr(spec.ports)) {
    const port = obj(p);
    const protocol = toProtocol(port.protocol);
    if (typeof port.port !== 'number' || protocol === undefined) continue;
    ports.push({
      name: str(port.name),
      port: port.port,
      protocol,
      nodePort: typeof port.nodePort === 'number' && port.nodePort > 0 ? port.nodePort : undefined,
    });
  }
  return {
    namespace,
    name,
    clusterIPs,
    externalIPs: normalizedIPs([...arr(spec.externalIPs), ...lbIPs]),
    ports: servicePorts(namespace, name, ports),
  };
}

export function nodeFromApi(o: unknown): NodeInfo | undefined {
  const meta = obj(obj(o).metadata);
  const spec = obj(obj(o).spec);
  const status = obj(obj(o).status);
  const name = str(meta.name);
  if (name === '') return undefined;
  const addresses = arr(status.addresses).map(obj);
  const cidrTexts = arr(spec.podCIDRs).length > 0 ? arr(spec.podCIDRs) : [spec.podCIDR];
  const podCIDRs: string[] = [];
  const gatewayIPs: string[] = [];
  for (const t of cidrTexts) {
    const cidr = parseCidr(str(t));
    if (cidr === undefined) continue;
    podCIDRs.push(cidr.text);
    gatewayIPs.push(firstHostAddress(cidr));
  }
  return {
    name,
    uid: str(meta.uid),
    internalIPs: normalizedIPs(addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address)),
    externalIPs: normalizedIPs(addresses.filter((a) => a.type === 'ExternalIP').map((a) => a.address)),
    podCIDRs,
    gatewayIPs,
  };
}

export function namespaceFromApi(o: unknown): NamespaceInfo | undefined {
  const meta = obj(obj(o).metadata);
  const name = str(meta.name);
  if (name === '') return undefined;
  // The API server always sets this label (since Kubernetes 1.21); add it for older servers.
  return { name, labels: { ...strMap(meta.labels), 'kubernetes.io/metadata.name': name } };
}

function selectorFromApi(v: unknown): LabelSelector {
  const s = obj(v);
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const e of arr(s.matchExpressions)) {
    const r = obj(e);
    const op = r.operator;
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist') {
      // An unknown operator cannot be honoured: keep it so that the selector matches nothing.
      matchExpressions.push({ key: str(r.key), operator: 'In', values: [] });
      continue;
    }
    matchExpressions.push({ key: str(r.key), operator: op, values: arr(r.values).map(str) });
  }
  return { matchLabels: strMap(s.matchLabels), matchExpressions };
}

function peerFromApi(v: unknown): NetworkPolicyPeer {
  const p = obj(v);
  const peer: { podSelector?: LabelSelector; namespaceSelector?: LabelSelector; ipBlock?: { cidr: string; except: string[] } } = {};
  if (p.podSelector !== undefined && p.podSelector !== null) peer.podSelector = selectorFromApi(p.podSelector);
  if (p.namespaceSelector !== undefined && p.namespaceSelector !== null) {
    peer.namespaceSelector = selectorFromApi(p.namespaceSelector);
  }
  if (p.ipBlock !== undefined && p.ipBlock !== null) {
    const b = obj(p.ipBlock);
    peer.ipBlock = { cidr: str(b.cidr), except: arr(b.except ?? b._except).map(str) };
  }
  return peer;
}

function portFromApi(v: unknown): NetworkPolicyPort | undefined {
  const p = obj(v);
  const protocol = toProtocol(p.protocol);
  if (protocol === undefined) return undefined;
  const port = typeof p.port === 'number' || (typeof p.port === 'string' && p.port !== '') ? p.port : undefined;
  const endPort = typeof p.endPort === 'number' ? p.endPort : undefined;
  return { protocol, port, endPort };
}

function rulesFromApi(v: unknown, peersKey: 'from' | 'to'): NetworkPolicyRule[] {
  return arr(v).map((r) => {
    const rule = obj(r);
    const peersRaw = rule[peersKey] ?? rule[`_${peersKey}`];
    const ports: NetworkPolicyPort[] = [];
    let unusablePort = false;
    for (const p of arr(rule.ports)) {
      const port = portFromApi(p);
      if (port === undefined) unusablePort = true;
      else ports.push(port);
    }
    // A rule whose only ports are unusable must not widen to "all ports".
    if (unusablePort && ports.length === 0) ports.push({ protocol: 'TCP', port: 0, endPort: undefined });
    return { peers: arr(peersRaw).map(peerFromApi), ports };
  });
}

/** policyTypes as the API server defaults them: Ingress, plus Egress when there are egress rules. */
export function defaultPolicyTypes(specPolicyTypes: unknown, egressRules: unknown): PolicyType[] {
  const given = arr(specPolicyTypes).filter((t): t is PolicyType => t === 'Ingress' || t === 'Egress');
  if (given.length > 0) return given;
  return arr(egressRules).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
}

export function networkPolicyFromApi(o: unknown): NetworkPolicy | undefined {
  const meta = obj(obj(o).metadata);
  const spec = obj(obj(o).spec);
  const name = str(meta.name);
  if (name === '') return undefined;
  return {
    namespace: str(meta.namespace),
    name,
    uid: str(meta.uid),
    podSelector: selectorFromApi(spec.podSelector),
    policyTypes: defaultPolicyTypes(spec.policyTypes, spec.egress),
    ingress: rulesFromApi(spec.ingress, 'from'),
    egress: rulesFromApi(spec.egress, 'to'),
  };
}
