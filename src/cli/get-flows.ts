/**
 * `flowvis get flows|toptalkers|throughput|servicemap|policyhits`: the flow store's query layer
 * through the aggregator's API (GET /flows, /toptalkers, /throughput, /servicemap, /policyhits).
 *
 *   flowvis get flows [filters] [--limit N] [--offset N] [--sort KEY] [--order asc|desc] [-o table|json|yaml]
 *   flowvis get toptalkers [filters] [--by pod|namespace|node] [--limit N]
 *   flowvis get throughput [filters] [--bucket 5m] [--by LEVEL --top N]
 *   flowvis get servicemap [filters] [--limit N]
 *   flowvis get policyhits [filters] [--limit N]
 *   filters: --since 1h | --from T --to T, --namespace, --pod, --node, --ip, --port (and their
 *            --source-* / --destination-* forms), --protocol, --flow-type, --service, --policy,
 *            --action allow|deny, --text
 *
 * Filters are checked here with the query layer's own parser before any request, so a bad value
 * names the option; the server checks everything again.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiError } from '../errors.ts';
import type { ApiClient } from '../aggregator/api/index.ts';
import { PolicyType } from '../ipfix/constants.ts';
import { FLOW_SORT_KEYS, flowFilterFromParams, TALKER_LEVELS } from '../aggregator/query/index.ts';
import { integerOption } from './common.ts';

const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What `flowvis get` (get.ts) lends these sub-commands. */
export interface FlowQueryCommandContext {
  /** Connects with the get command's connection options, runs `work`, prints its text or the error. */
  run(cmd: Command, work: (client: ApiClient) => Promise<string>): Promise<void>;
  /** A warning on stderr. */
  warn(text: string): void;
  render(value: unknown, format: OutputFormat, table: () => string): string;
  formatTable(header: readonly string[], body: readonly (readonly string[])[]): string;
  /** Wall clock in ms, for --since (default Date.now). */
  now?: () => number;
}

/** Filter options: flag → query parameter (a FlowFilter field). */
export const FILTER_OPTIONS: readonly (readonly [flag: string, parameter: string, help: string])[] = [
  ['--from <time>', 'from', 'records that ended at or after this time (unix seconds or RFC 3339)'],
  ['--to <time>', 'to', 'records that ended before this time (unix seconds or RFC 3339)'],
  ['--namespace <ns>', 'namespace', 'source or destination Pod namespace'],
  ['--source-namespace <ns>', 'sourceNamespace', 'source Pod namespace'],
  ['--destination-namespace <ns>', 'destinationNamespace', 'destination Pod namespace'],
  ['--pod <name>', 'pod', 'source or destination Pod name'],
  ['--source-pod <name>', 'sourcePod', 'source Pod name'],
  ['--destination-pod <name>', 'destinationPod', 'destination Pod name'],
  ['--node <name>', 'node', 'source or destination Node'],
  ['--source-node <name>', 'sourceNode', 'source Node'],
  ['--destination-node <name>', 'destinationNode', 'destination Node'],
  ['--ip <ip>', 'ip', 'source, destination or Service IP'],
  ['--source-ip <ip>', 'sourceIP', 'source IP'],
  ['--destination-ip <ip>', 'destinationIP', 'destination IP'],
  ['--port <port>', 'port', 'source or destination port'],
  ['--source-port <port>', 'sourcePort', 'source port'],
  ['--destination-port <port>', 'destinationPort', 'destination port'],
  ['--protocol <p>', 'protocol', 'protocol number or tcp, udp, sctp, icmp, icmpv6'],
  ['--flow-type <types>', 'flowType', 'comma list of intra-node, inter-node, to-external, from-external (or 1..4)'],
  ['--service <svc>', 'service', 'destination Service, "ns/svc" or "ns/svc:port"'],
  ['--policy <name>', 'policy', 'ingress or egress NetworkPolicy name'],
  ['--action <action>', 'action', 'allow, or deny (a rule dropped or rejected the flow)'],
  ['--text <text>', 'text', 'case-insensitive part of a Pod, workload, namespace, Node or Service name'],
];

const optionKey = (flag: string): string => flag.slice(2, flag.indexOf(' ')).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const FLAG_OF_PARAMETER = new Map(FILTER_OPTIONS.map(([flag, parameter]) => [parameter, flag.slice(0, flag.indexOf(' '))]));

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

function durationOption(name: string): (v: string) => string {
  return (v) => {
    if (/^\d{1,10}[smhd]?$/.test(v)) return v;
    throw new InvalidArgumentError(`${name} must be seconds or a duration such as 30s, 5m, 1h, 1d, got "${v}".`);
  };
}

function seconds(duration: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(duration) as RegExpExecArray;
  return Number(m[1]) * DURATION_UNITS[m[2] || 's']!;
}

function addFilterOptions(cmd: Command): Command {
  cmd.option('--since <duration>', 'records that ended in the last 30s, 5m, 1h, 1d ... (instead of --from)', durationOption('--since'));
  for (const [flag, , help] of FILTER_OPTIONS) cmd.option(flag, help);
  return cmd.addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'));
}

/**
 * Query parameters from the filter options, checked by the query layer's parser (an error names
 * the option) and sent as typed.
 */
export function filterParams(opts: Record<string, unknown>, now: () => number): URLSearchParams {
  const params = new URLSearchParams();
  if (opts.since !== undefined) {
    if (opts.from !== undefined) throw new ApiError('BAD_OPTION', '--since and --from cannot be used together', { option: '--since' });
    params.set('from', String(Math.floor(now() / 1000) - seconds(String(opts.since))));
  }
  for (const [flag, parameter] of FILTER_OPTIONS) {
    const v = opts[optionKey(flag)];
    if (v !== undefined) params.set(parameter, String(v));
  }
  try {
    flowFilterFromParams(params);
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'BAD_QUERY') throw e;
    const field = String(e.context.field);
    const flag = field === 'from' && opts.since !== undefined ? '--since' : FLAG_OF_PARAMETER.get(field) ?? field;
    throw new ApiError('BAD_OPTION', `${flag}${e.message.slice(field.length)}`, { option: flag, value: e.context.value });
  }
  return params;
}

function setNumber(params: URLSearchParams, name: string, value: unknown): void {
  if (value !== undefined) params.set(name, String(value));
}

// ---- table cells ----------------------------------------------------------------------------

const PROTOCOL_NAMES: Readonly<Record<number, string>> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };
const RULE_ACTIONS: Readonly<Record<number, string>> = { 1: 'Allow', 2: 'Drop', 3: 'Reject' };
const POLICY_TYPE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(PolicyType).filter(([, n]) => n !== 0).map(([k, n]) => [n, k[0]!.toUpperCase() + k.slice(1)]),
);

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const big = (v: unknown): bigint => (typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(Math.trunc(v)) : 0n);
const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0);

/** Unix seconds as "2027-01-15T08:00:00Z". */
export function timeCell(unixSeconds: unknown): string {
  const s = num(unixSeconds);
  return s === 0 ? '' : new Date(s * 1000).toISOString().replace('.000Z', 'Z');
}

/** 1234567 → "1.23 Mbit/s". */
export function rateCell(bitsPerSecond: number): string {
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
  let v = bitsPerSecond;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toPrecision(3)} ${units[i]}`;
}

function podCell(namespace: unknown, pod: unknown): string {
  return str(pod) === '' ? '' : `${str(namespace)}/${str(pod)}`;
}

/** The verdict of the rules that saw the flow: a drop or reject wins over an allow. */
function actionCell(r: Record<string, unknown>): string {
  const actions = [num(r.ingressNetworkPolicyRuleAction), num(r.egressNetworkPolicyRuleAction)];
  const deny = actions.find((a) => a === 2 || a === 3);
  return RULE_ACTIONS[deny ?? (actions.includes(1) ? 1 : 0)] ?? '';
}

export const FLOWS_COLUMNS = ['END', 'SRC_POD', 'SRC_IP', 'SPORT', 'DST_POD', 'DST_IP', 'DPORT', 'PROTO', 'SERVICE', 'BYTES', 'PACKETS', 'ACTION'] as const;

export function flowRow(r: Record<string, unknown>): string[] {
  return [
    timeCell(r.flowEndSeconds), podCell(r.sourcePodNamespace, r.sourcePodName), str(r.sourceIP), str(r.sourceTransportPort),
    podCell(r.destinationPodNamespace, r.destinationPodName), str(r.destinationIP), str(r.destinationTransportPort),
    PROTOCOL_NAMES[num(r.protocolIdentifier)] ?? str(r.protocolIdentifier), str(r.destinationServicePortName),
    String(big(r.octetDeltaCount) + big(r.reverseOctetDeltaCount)), String(big(r.packetDeltaCount) + big(r.reversePacketDeltaCount)), actionCell(r),
  ];
}

interface Endpoint {
  kind?: unknown;
  namespace?: unknown;
  name?: unknown;
}

/** A talker endpoint: "ns/pod", a namespace, a Node, or an external IP. */
export function endpointCell(e: Endpoint | undefined): string {
  if (e === undefined) return '';
  if (e.kind === 'pod') return `${str(e.namespace)}/${str(e.name)}`;
  if (e.kind === 'external') return str(e.name) === '' ? 'external' : str(e.name);
  return str(e.name);
}

// ---- the sub-commands -----------------------------------------------------------------------

type Opts = Record<string, unknown> & { output: OutputFormat };

interface FlowsBody {
  flows: Record<string, unknown>[];
  limit: number;
  offset: number;
  hasMore: boolean;
}
interface TalkerJson {
  source: Endpoint;
  destination: Endpoint;
  bytes: unknown;
  flows: unknown;
}
interface ThroughputJson {
  bucketSeconds: number;
  from: number;
  to: number;
  series: { source?: Endpoint; destination?: Endpoint; points: { time: number; bytes: unknown; bitsPerSecond: number }[] }[];
}
interface ServiceMapJson {
  nodes: unknown[];
  edges: { source: string; destination: string; bytes: unknown; flows: unknown; allowedFlows: unknown; deniedFlows: unknown }[];
}
interface PolicyHitJson {
  direction: string;
  namespace: string;
  name: string;
  type: number;
  action: string;
  flows: unknown;
  bytes: unknown;
}

function field<T>(body: unknown, key: string, path: string): T {
  const v = (body as Record<string, unknown> | null)?.[key];
  if (v === undefined) throw new ApiError('BAD_RESPONSE', `${path}: no "${key}" in the response`, { path });
  return v as T;
}

/** Adds the five query sub-commands to `get`. */
export function registerFlowQueryCommands(get: Command, ctx: FlowQueryCommandContext): void {
  const now = ctx.now ?? Date.now;
  const count = (name: string): ((v: string) => number) => integerOption(name, 0, 1_000_000_000);
  const action = (path: string, build: (opts: Opts, params: URLSearchParams) => void, show: (body: unknown, opts: Opts) => string) =>
    async (opts: Opts, cmd: Command): Promise<void> => {
      await ctx.run(cmd, async (client) => {
        const params = filterParams(opts, now);
        build(opts, params);
        return show(await client.getJson(path, params), opts);
      });
    };

  addFilterOptions(get.command('flows').description('Flow records in the flow store (newest first), with filters and paging'))
    .option('--limit <n>', 'records per page (server: 1..1000, default 100)', count('--limit'))
    .option('--offset <n>', 'records to skip (server: at most 10000)', count('--offset'))
    .addOption(new Option('--sort <key>', 'sort key (default flowEndSeconds)').choices(FLOW_SORT_KEYS))
    .addOption(new Option('--order <order>', 'sort order (default desc)').choices(['asc', 'desc']))
    .action(action('/flows', (o, p) => {
      setNumber(p, 'limit', o.limit);
      setNumber(p, 'offset', o.offset);
      setNumber(p, 'sort', o.sort);
      setNumber(p, 'order', o.order);
    }, (body, o) => {
      const flows = field<FlowsBody['flows']>(body, 'flows', '/flows');
      const page = body as FlowsBody;
      if (page.hasMore) ctx.warn(`warning: more records match; showing ${flows.length} from offset ${num(page.offset)} (use --offset ${num(page.offset) + flows.length} or narrow the filters)\n`);
      return ctx.render(flows, o.output, () => ctx.formatTable(FLOWS_COLUMNS, flows.map(flowRow)));
    }));

  addFilterOptions(get.command('toptalkers').description('Source → destination pairs with the most bytes (both directions)'))
    .addOption(new Option('--by <level>', 'pair Pods, namespaces or Nodes').choices(TALKER_LEVELS).default('pod'))
    .option('--limit <n>', 'pairs (server: 1..1000, default 10)', count('--limit'))
    .action(action('/toptalkers', (o, p) => {
      setNumber(p, 'by', o.by);
      setNumber(p, 'limit', o.limit);
    }, (body, o) => {
      const talkers = field<TalkerJson[]>(body, 'topTalkers', '/toptalkers');
      return ctx.render(talkers, o.output, () => ctx.formatTable(['SOURCE', 'DESTINATION', 'BYTES', 'FLOWS'],
        talkers.map((t) => [endpointCell(t.source), endpointCell(t.destination), str(t.bytes), str(t.flows)])));
    }));

  addFilterOptions(get.command('throughput').description('Bytes per time bucket: in total, or for the top pairs (--by)'))
    .option('--bucket <duration>', 'bucket width: seconds or 30s, 5m, 1h, 1d (default: about 200 buckets)', durationOption('--bucket'))
    .addOption(new Option('--by <level>', 'one series per top pair of Pods, namespaces or Nodes').choices(TALKER_LEVELS))
    .option('--top <n>', 'pairs with a series, with --by (server: 1..50, default 5)', count('--top'))
    .action(action('/throughput', (o, p) => {
      setNumber(p, 'bucket', o.bucket);
      setNumber(p, 'by', o.by);
      setNumber(p, 'top', o.top);
    }, (body, o) => {
      const series = field<ThroughputJson['series']>(body, 'series', '/throughput');
      const pairs = series.some((s) => s.source !== undefined);
      return ctx.render(body, o.output, () => ctx.formatTable(
        pairs ? ['SOURCE', 'DESTINATION', 'TIME', 'BYTES', 'RATE'] : ['TIME', 'BYTES', 'RATE'],
        series.flatMap((s) => s.points.map((p) => [
          ...(pairs ? [endpointCell(s.source), endpointCell(s.destination)] : []), timeCell(p.time), str(p.bytes), rateCell(p.bitsPerSecond),
        ])),
      ));
    }));

  addFilterOptions(get.command('servicemap').description('Edges from source workloads to destination workloads, Services or external IPs'))
    .option('--limit <n>', 'edges, heaviest first (server: 1..5000, default 500)', count('--limit'))
    .action(action('/servicemap', (o, p) => setNumber(p, 'limit', o.limit), (body, o) => {
      const edges = field<ServiceMapJson['edges']>(body, 'edges', '/servicemap');
      return ctx.render(body, o.output, () => ctx.formatTable(['SOURCE', 'DESTINATION', 'BYTES', 'FLOWS', 'ALLOWED', 'DENIED'],
        edges.map((e) => [e.source, e.destination, str(e.bytes), str(e.flows), str(e.allowedFlows), str(e.deniedFlows)])));
    }));

  addFilterOptions(get.command('policyhits').description('Flows and bytes per NetworkPolicy, direction and rule action'))
    .option('--limit <n>', 'rows (server: 1..10000, default 1000)', count('--limit'))
    .action(action('/policyhits', (o, p) => setNumber(p, 'limit', o.limit), (body, o) => {
      const hits = field<PolicyHitJson[]>(body, 'policyHits', '/policyhits');
      return ctx.render(hits, o.output, () => ctx.formatTable(['DIRECTION', 'NAMESPACE', 'POLICY', 'TYPE', 'ACTION', 'FLOWS', 'BYTES'],
        hits.map((h) => [h.direction, h.namespace, h.name, POLICY_TYPE_NAMES[h.type] ?? str(h.type), h.action, str(h.flows), str(h.bytes)])));
    }));
}
