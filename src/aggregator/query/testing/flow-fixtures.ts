/**
 * Deterministic, realistic flow records for tests and benchmarks: a small cluster model
 * (namespaces, Deployments / StatefulSets / DaemonSets with Kubernetes-style pod names, Nodes,
 * Services, NetworkPolicies) and conversations between its pods, Services and external hosts.
 */
import { emptyFlowRow, type FlowRow } from '../../sinks/flow-row.ts';
import { mulberry32 } from '../../../testing/random.ts';

/** Kubernetes' "safe" alphabet for generated name suffixes (no vowels, no 0/1/3). */
export const K8S_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Small seeded PRNG so fixtures are identical on every run. */
export const seededRandom = mulberry32;

function suffix(rand: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += K8S_SUFFIX_ALPHABET[Math.floor(rand() * K8S_SUFFIX_ALPHABET.length)];
  return s;
}

export interface FixturePod {
  readonly namespace: string;
  readonly name: string;
  readonly workload: string;
  readonly node: string;
  readonly ip: string;
  readonly labels: string;
}

export interface FixtureService {
  readonly namespace: string;
  readonly name: string;
  readonly portName: string;
  readonly clusterIP: string;
  readonly port: number;
  readonly backends: readonly FixturePod[];
}

export interface FixtureCluster {
  readonly pods: readonly FixturePod[];
  readonly services: readonly FixtureService[];
  readonly nodes: readonly string[];
  readonly namespaces: readonly string[];
}

export interface ClusterShape {
  readonly namespaces?: number;
  readonly workloadsPerNamespace?: number;
  readonly nodes?: number;
  readonly seed?: number;
}

const WORKLOAD_NAMES = ['web', 'api', 'cart', 'checkout', 'db', 'cache', 'queue', 'auth', 'search', 'logs', 'metrics', 'gateway'];
const NAMESPACE_NAMES = ['default', 'frontend', 'backend', 'payments', 'monitoring', 'data', 'identity', 'edge'];

export function makeCluster(shape: ClusterShape = {}): FixtureCluster {
  const rand = seededRandom(shape.seed ?? 1);
  const nsCount = shape.namespaces ?? 8;
  const perNs = shape.workloadsPerNamespace ?? 6;
  const nodes = Array.from({ length: shape.nodes ?? 4 }, (_, i) => `node-${i + 1}`);
  const namespaces = Array.from({ length: nsCount }, (_, i) => NAMESPACE_NAMES[i] ?? `team-${i}`);
  const pods: FixturePod[] = [];
  const services: FixtureService[] = [];
  let ipCounter = 0;
  for (const namespace of namespaces) {
    for (let w = 0; w < perNs; w++) {
      const workload = WORKLOAD_NAMES[w % WORKLOAD_NAMES.length] + (w >= WORKLOAD_NAMES.length ? `${w}` : '');
      const kind = w % 7 === 4 ? 'statefulset' : w % 7 === 6 ? 'daemonset' : 'deployment';
      const replicas = kind === 'daemonset' ? nodes.length : 1 + Math.floor(rand() * 4);
      const hash = suffix(rand, 10);
      const labelled = w % 3 === 0;
      const backends: FixturePod[] = [];
      for (let r = 0; r < replicas; r++) {
        const name =
          kind === 'statefulset' ? `${workload}-${r}` : kind === 'daemonset' ? `${workload}-${suffix(rand, 5)}` : `${workload}-${hash}-${suffix(rand, 5)}`;
        const node = kind === 'daemonset' ? (nodes[r] as string) : (nodes[Math.floor(rand() * nodes.length)] as string);
        const n = ipCounter++;
        const pod: FixturePod = {
          namespace,
          name,
          workload,
          node,
          ip: `10.244.${Math.floor(n / 250)}.${(n % 250) + 2}`,
          labels: labelled ? JSON.stringify({ app: workload, 'pod-template-hash': hash }) : '',
        };
        pods.push(pod);
        backends.push(pod);
      }
      if (kind !== 'daemonset') {
        const port = [80, 443, 8080, 5432, 6379][w % 5] as number;
        services.push({
          namespace,
          name: workload,
          portName: `${namespace}/${workload}:${port === 5432 ? 'postgres' : 'http'}`,
          clusterIP: `10.96.${services.length >> 8}.${(services.length & 255) + 1}`,
          port,
          backends,
        });
      }
    }
  }
  return { pods, services, nodes, namespaces };
}

export interface FlowFixtureOptions {
  readonly cluster?: FixtureCluster;
  readonly seed?: number;
  /** flowEndSeconds of the first record (default 1_800_000_000). */
  readonly startSeconds?: number;
  /** Records are spread evenly over this many seconds (default 3600). */
  readonly spanSeconds?: number;
  readonly clusterUUID?: string;
}

const TCP_STATES = ['ESTABLISHED', 'TIME_WAIT', 'CLOSE', 'SYN_SENT'];

/**
 * `count` flow records in time order: ~55% to a Service, ~30% pod to pod, ~10% to external
 * hosts, ~5% from external; policies on some destinations (allow), a few denials.
 */
export function makeFlowRows(count: number, options: FlowFixtureOptions = {}): FlowRow[] {
  const rand = seededRandom(options.seed ?? 7);
  const cluster = options.cluster ?? makeCluster();
  const start = options.startSeconds ?? 1_800_000_000;
  const span = options.spanSeconds ?? 3600;
  const uuid = options.clusterUUID ?? '8a3d5b9e-1f2c-4d6e-9a7b-0c1d2e3f4a5b';
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const rows: FlowRow[] = new Array<FlowRow>(count);
  for (let i = 0; i < count; i++) {
    const row = emptyFlowRow();
    const end = start + Math.floor((i * span) / Math.max(count, 1));
    const src = pick(cluster.pods);
    const kind = rand();
    row.flowEndSeconds = end;
    row.flowStartSeconds = end - Math.floor(rand() * 600);
    row.flowEndSecondsFromSourceNode = end;
    row.flowEndReason = rand() < 0.3 ? 3 : 2;
    row.sourceTransportPort = 32768 + Math.floor(rand() * 28000);
    row.protocolIdentifier = rand() < 0.1 ? 17 : 6;
    row.tcpState = row.protocolIdentifier === 6 ? pick(TCP_STATES) : '';
    row.clusterUUID = uuid;
    let dst: FixturePod | undefined;
    if (kind < 0.05) {
      // from external
      row.sourceIP = `198.51.100.${Math.floor(rand() * 250) + 1}`;
      dst = src;
      row.destinationIP = dst.ip;
      row.destinationTransportPort = 443;
      row.flowType = 4;
    } else {
      row.sourceIP = src.ip;
      row.sourcePodName = src.name;
      row.sourcePodNamespace = src.namespace;
      row.sourceNodeName = src.node;
      row.sourcePodLabels = src.labels;
      if (kind < 0.15) {
        row.destinationIP = `93.184.216.${Math.floor(rand() * 250) + 1}`;
        row.destinationTransportPort = 443;
        row.flowType = 3;
      } else if (kind < 0.7) {
        const svc = pick(cluster.services);
        dst = pick(svc.backends);
        row.destinationClusterIP = svc.clusterIP;
        row.destinationServicePort = svc.port;
        row.destinationServicePortName = svc.portName;
        row.destinationTransportPort = svc.port;
      } else {
        dst = pick(cluster.pods);
        row.destinationTransportPort = [80, 8080, 9090, 53][Math.floor(rand() * 4)] as number;
      }
      if (dst !== undefined) {
        row.destinationIP = dst.ip;
        row.flowType = dst.node === src.node ? 1 : 2;
      }
    }
    if (dst !== undefined) {
      row.destinationPodName = dst.name;
      row.destinationPodNamespace = dst.namespace;
      row.destinationNodeName = dst.node;
      row.destinationPodLabels = dst.labels;
      row.flowEndSecondsFromDestinationNode = row.flowType === 2 ? end : 0;
      const policy = rand();
      if (policy < 0.4) {
        row.ingressNetworkPolicyName = `allow-${dst.workload}`;
        row.ingressNetworkPolicyNamespace = dst.namespace;
        row.ingressNetworkPolicyRuleName = 'ingress-0';
        row.ingressNetworkPolicyType = policy < 0.3 ? 1 : 3;
        row.ingressNetworkPolicyRuleAction = 1;
      } else if (policy < 0.43) {
        row.ingressNetworkPolicyName = `deny-${dst.workload}`;
        row.ingressNetworkPolicyNamespace = dst.namespace;
        row.ingressNetworkPolicyRuleName = 'drop-all';
        row.ingressNetworkPolicyType = 2;
        row.ingressNetworkPolicyRuleAction = policy < 0.42 ? 2 : 3;
      }
    }
    if (rand() < 0.05 && row.sourcePodName !== '') {
      row.egressNetworkPolicyName = 'egress-restrict';
      row.egressNetworkPolicyNamespace = row.sourcePodNamespace;
      row.egressNetworkPolicyRuleName = 'egress-0';
      row.egressNetworkPolicyType = 2;
      row.egressNetworkPolicyRuleAction = rand() < 0.5 ? 1 : 3;
    }
    if (row.flowType === 3 && rand() < 0.3) {
      row.egressName = 'egress-prod';
      row.egressIP = '172.18.0.100';
      row.egressNodeName = row.sourceNodeName;
    }
    const packets = BigInt(1 + Math.floor(rand() * 1000));
    const bytes = packets * BigInt(60 + Math.floor(rand() * 1400));
    const reverseBytes = BigInt(Math.floor(rand() * 2_000_000));
    row.packetDeltaCount = packets;
    row.octetDeltaCount = bytes;
    row.packetTotalCount = packets * 3n;
    row.octetTotalCount = bytes * 3n;
    row.reversePacketDeltaCount = packets / 2n;
    row.reverseOctetDeltaCount = reverseBytes;
    row.reversePacketTotalCount = packets * 2n;
    row.reverseOctetTotalCount = reverseBytes * 3n;
    const duration = BigInt(Math.max(1, row.flowEndSeconds - row.flowStartSeconds));
    row.throughput = (bytes * 8n) / duration;
    row.reverseThroughput = (reverseBytes * 8n) / duration;
    row.throughputFromSourceNode = row.throughput;
    row.reverseThroughputFromSourceNode = row.reverseThroughput;
    if (row.flowType === 2) {
      row.throughputFromDestinationNode = row.throughput;
      row.reverseThroughputFromDestinationNode = row.reverseThroughput;
    }
    rows[i] = row;
  }
  return rows;
}

/** One record with a distinct, non-zero value in every column, including awkward strings. */
export function everyColumnRow(seed = 1): FlowRow {
  const row = emptyFlowRow();
  let n = seed * 1000;
  const record = row as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    n++;
    const value = record[key];
    if (typeof value === 'bigint') record[key] = BigInt(n) * 1_000_003n;
    else if (typeof value === 'number') record[key] = n % 200;
    else record[key] = `${key}-${n}`;
  }
  row.flowStartSeconds = 1_800_000_000 + seed;
  row.flowEndSeconds = 1_800_000_100 + seed;
  row.flowEndSecondsFromSourceNode = 1_800_000_099 + seed;
  row.flowEndSecondsFromDestinationNode = 1_800_000_098 + seed;
  row.sourceTransportPort = 65535;
  row.destinationTransportPort = 443;
  row.destinationServicePort = 8443;
  row.octetTotalCount = 0xffff_ffff_ffff_ffffn;
  row.packetTotalCount = 9_007_199_254_740_993n;
  row.sourceIP = 'fd00:10:244::1';
  row.destinationIP = '10.244.1.7';
  row.destinationClusterIP = '10.96.0.10';
  row.sourcePodName = `tab\there,new\nline,back\\slash,quote'"é✓-${seed}`;
  row.sourcePodLabels = '{"app":"web","tier":"front\\"end"}';
  row.httpVals = '{"0":{"hostname":"a","url":"/x?y=1&z=\'2\'"}}';
  row.trusted = 1;
  return row;
}
