/**
 * The query layer's semantics written plainly over an array of records, to check both stores'
 * SQL against (tests only): same filters, grouping, ordering and tie-breaks.
 */
import type { FlowRow, StoredFlowRow } from '../../sinks/flow-row.ts';
import { workloadOf } from '../../sinks/embedded/workload.ts';
import { bucketWidth, fillPoints } from '../buckets.ts';
import { buildServiceMap, ruleActionName, talkerEndpoint, talkerKey } from '../result-shapes.ts';
import type {
  FlowFilter,
  FlowsPage,
  FlowsQuery,
  PolicyHit,
  ServiceMap,
  ThroughputQuery,
  ThroughputResult,
  TopTalker,
  TalkerLevel,
} from '../types.ts';
import { optionalLimit, validateFlowsQuery } from '../validate.ts';

const denied = (r: FlowRow): boolean =>
  r.ingressNetworkPolicyRuleAction === 2 ||
  r.ingressNetworkPolicyRuleAction === 3 ||
  r.egressNetworkPolicyRuleAction === 2 ||
  r.egressNetworkPolicyRuleAction === 3;

export function matches(r: FlowRow, f: FlowFilter): boolean {
  const either = (a: string, b: string, v: string | undefined): boolean => v === undefined || a === v || b === v;
  const is = (a: string | number, v: string | number | undefined): boolean => v === undefined || a === v;
  if (f.from !== undefined && r.flowEndSeconds < f.from) return false;
  if (f.to !== undefined && r.flowEndSeconds >= f.to) return false;
  if (!either(r.sourcePodNamespace, r.destinationPodNamespace, f.namespace)) return false;
  if (!is(r.sourcePodNamespace, f.sourceNamespace) || !is(r.destinationPodNamespace, f.destinationNamespace)) return false;
  if (!either(r.sourcePodName, r.destinationPodName, f.pod)) return false;
  if (!is(r.sourcePodName, f.sourcePod) || !is(r.destinationPodName, f.destinationPod)) return false;
  if (!either(r.sourceNodeName, r.destinationNodeName, f.node)) return false;
  if (!is(r.sourceNodeName, f.sourceNode) || !is(r.destinationNodeName, f.destinationNode)) return false;
  if (f.ip !== undefined && r.sourceIP !== f.ip && r.destinationIP !== f.ip && r.destinationClusterIP !== f.ip) return false;
  if (!is(r.sourceIP, f.sourceIP) || !is(r.destinationIP, f.destinationIP)) return false;
  if (f.port !== undefined && r.sourceTransportPort !== f.port && r.destinationTransportPort !== f.port) return false;
  if (!is(r.sourceTransportPort, f.sourcePort) || !is(r.destinationTransportPort, f.destinationPort)) return false;
  if (!is(r.protocolIdentifier, f.protocol)) return false;
  if (f.flowType !== undefined && !f.flowType.includes(r.flowType)) return false;
  if (f.service !== undefined) {
    const s = r.destinationServicePortName;
    if (f.service.includes(':') ? s !== f.service : s !== f.service && !s.startsWith(`${f.service}:`)) return false;
  }
  if (!either(r.ingressNetworkPolicyName, r.egressNetworkPolicyName, f.policy)) return false;
  if (f.action === 'deny' && !denied(r)) return false;
  if (f.action === 'allow' && denied(r)) return false;
  if (f.text !== undefined) {
    const t = f.text.toLowerCase();
    const names = [
      r.sourcePodName,
      r.sourcePodNamespace,
      r.sourceNodeName,
      workloadOf(r.sourcePodName, r.sourcePodLabels),
      r.destinationPodName,
      r.destinationPodNamespace,
      r.destinationNodeName,
      workloadOf(r.destinationPodName, r.destinationPodLabels),
      r.destinationServicePortName,
    ];
    if (!names.some((n) => n.toLowerCase().includes(t))) return false;
  }
  return true;
}

const bytesOf = (r: FlowRow): bigint => r.octetDeltaCount + r.reverseOctetDeltaCount;

function sortKey(r: FlowRow, sort: string): bigint {
  switch (sort) {
    case 'flowStartSeconds':
      return BigInt(r.flowStartSeconds);
    case 'bytes':
      return bytesOf(r);
    case 'packets':
      return r.packetDeltaCount + r.reversePacketDeltaCount;
    case 'throughput':
      return r.throughput + r.reverseThroughput;
    default:
      return BigInt(r.flowEndSeconds);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reference over `rows` (in insertion order), each stored with timeInserted = `inserted`. */
export class ReferenceQueries {
  constructor(
    private readonly rows: readonly FlowRow[],
    private readonly inserted: number,
  ) {}

  flows(query?: FlowsQuery): FlowsPage {
    const { limit, offset, sort, order, filter } = validateFlowsQuery(query);
    const indexed = this.rows.map((r, i) => ({ r, i })).filter(({ r }) => matches(r, filter));
    const sign = order === 'desc' ? -1 : 1;
    indexed.sort((a, b) => {
      const ka = sortKey(a.r, sort);
      const kb = sortKey(b.r, sort);
      if (ka !== kb) return ka < kb ? -sign : sign;
      return (a.i - b.i) * sign;
    });
    const page = indexed.slice(offset, offset + limit).map(({ r }) => ({ timeInserted: this.inserted, ...r }) as StoredFlowRow);
    return { flows: page, limit, offset, hasMore: indexed.length > offset + limit };
  }

  private ends(level: TalkerLevel, r: FlowRow): [string, string, string, string] {
    if (level === 'namespace') return [r.sourcePodNamespace, r.sourcePodNamespace, r.destinationPodNamespace, r.destinationPodNamespace];
    if (level === 'node') return ['', r.sourceNodeName, '', r.destinationNodeName];
    return [
      r.sourcePodNamespace,
      r.sourcePodName === '' ? r.sourceIP : r.sourcePodName,
      r.destinationPodNamespace,
      r.destinationPodName === '' ? r.destinationIP : r.destinationPodName,
    ];
  }

  topTalkers(level: TalkerLevel, filter: FlowFilter = {}, limit = 10): TopTalker[] {
    const groups = new Map<string, { k: [string, string, string, string]; o: bigint; r: bigint; f: number }>();
    for (const row of this.rows) {
      if (!matches(row, filter)) continue;
      const k = this.ends(level, row);
      const key = k.join('\u0000');
      const g = groups.get(key) ?? { k, o: 0n, r: 0n, f: 0 };
      g.o += row.octetDeltaCount;
      g.r += row.reverseOctetDeltaCount;
      g.f++;
      groups.set(key, g);
    }
    return [...groups.values()]
      .sort((a, b) => {
        const ba = a.o + a.r;
        const bb = b.o + b.r;
        if (ba !== bb) return ba < bb ? 1 : -1;
        if (a.f !== b.f) return b.f - a.f;
        for (let i = 0; i < 4; i++) {
          const c = cmp(a.k[i] as string, b.k[i] as string);
          if (c !== 0) return c;
        }
        return 0;
      })
      .slice(0, limit)
      .map((g) => ({
        source: talkerEndpoint(level, g.k[0], g.k[1]),
        destination: talkerEndpoint(level, g.k[2], g.k[3]),
        bytes: g.o + g.r,
        octetDeltaCount: g.o,
        reverseOctetDeltaCount: g.r,
        flows: g.f,
      }));
  }

  throughput(query: ThroughputQuery & { filter: FlowFilter & { from: number; to: number } }): ThroughputResult {
    const { from, to } = query.filter;
    const width = bucketWidth(from, to, query.bucketSeconds);
    const bucket = (t: number): number => Math.floor(t / width) * width;
    if (query.by === undefined) {
      const sums = new Map<number, bigint>();
      for (const r of this.rows) if (matches(r, query.filter)) sums.set(bucket(r.flowEndSeconds), (sums.get(bucket(r.flowEndSeconds)) ?? 0n) + bytesOf(r));
      return { bucketSeconds: width, from, to, series: [{ points: fillPoints(sums, from, to, width) }] };
    }
    const level = query.by;
    const top = this.topTalkers(level, query.filter, optionalLimit('top', query.top, 5, 50));
    const index = new Map(top.map((t, i) => [`${talkerKey(t.source)}\u0000${talkerKey(t.destination)}`, i]));
    const sums = top.map(() => new Map<number, bigint>());
    for (const r of this.rows) {
      if (!matches(r, query.filter)) continue;
      const [sn, sname, dn, dname] = this.ends(level, r);
      const i = index.get(`${talkerKey(talkerEndpoint(level, sn, sname))}\u0000${talkerKey(talkerEndpoint(level, dn, dname))}`);
      if (i === undefined) continue;
      const m = sums[i] as Map<number, bigint>;
      m.set(bucket(r.flowEndSeconds), (m.get(bucket(r.flowEndSeconds)) ?? 0n) + bytesOf(r));
    }
    return {
      bucketSeconds: width,
      from,
      to,
      series: top.map((t, i) => ({ source: t.source, destination: t.destination, points: fillPoints(sums[i] as Map<number, bigint>, from, to, width) })),
    };
  }

  serviceMap(filter: FlowFilter = {}, limit = 500): ServiceMap {
    const groups = this.rows
      .filter((r) => matches(r, filter))
      .map((r) => ({
        sourceNamespace: r.sourcePodNamespace,
        sourceWorkload: workloadOf(r.sourcePodName, r.sourcePodLabels),
        sourceIP: r.sourcePodName === '' ? r.sourceIP : '',
        destinationNamespace: r.destinationPodNamespace,
        destinationWorkload: workloadOf(r.destinationPodName, r.destinationPodLabels),
        destinationService: r.destinationServicePortName,
        destinationIP: r.destinationPodName === '' && r.destinationServicePortName === '' ? r.destinationIP : '',
        bytes: bytesOf(r),
        flows: 1,
        denied: denied(r) ? 1 : 0,
      }));
    return buildServiceMap(groups, limit);
  }

  policyHits(filter: FlowFilter = {}, limit = 1000): PolicyHit[] {
    const groups = new Map<string, PolicyHit & { flows: number; bytes: bigint }>();
    for (const r of this.rows) {
      if (!matches(r, filter)) continue;
      for (const direction of ['ingress', 'egress'] as const) {
        const name = direction === 'ingress' ? r.ingressNetworkPolicyName : r.egressNetworkPolicyName;
        if (name === '') continue;
        const namespace = direction === 'ingress' ? r.ingressNetworkPolicyNamespace : r.egressNetworkPolicyNamespace;
        const type = direction === 'ingress' ? r.ingressNetworkPolicyType : r.egressNetworkPolicyType;
        const action = direction === 'ingress' ? r.ingressNetworkPolicyRuleAction : r.egressNetworkPolicyRuleAction;
        const key = [direction, namespace, name, type, action].join('\u0000');
        const g = groups.get(key) ?? { direction, namespace, name, type, action: ruleActionName(action), flows: 0, bytes: 0n };
        g.flows++;
        g.bytes += bytesOf(r);
        groups.set(key, g);
      }
    }
    const actionCode = (a: string): number => ['None', 'Allow', 'Drop', 'Reject'].indexOf(a);
    return [...groups.values()]
      .sort(
        (a, b) =>
          b.flows - a.flows ||
          (a.bytes === b.bytes ? 0 : a.bytes < b.bytes ? 1 : -1) ||
          cmp(a.direction, b.direction) ||
          cmp(a.namespace, b.namespace) ||
          cmp(a.name, b.name) ||
          a.type - b.type ||
          actionCode(a.action) - actionCode(b.action),
      )
      .slice(0, limit);
  }
}
