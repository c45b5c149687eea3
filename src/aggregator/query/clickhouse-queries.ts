/**
 * The query layer on ClickHouse (Theia's `flows` table). Works on ClickHouse 18.16 and later:
 * HTTP query parameters are not available on 18.16, so every value is written as a literal
 * through the tested escaping functions of sql-literal.ts (strings) or as a checked integer.
 * Workloads are derived in SQL by the same rules as the embedded store (workload.ts).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { FLOW_COLUMNS, type StoredFlowRow } from '../sinks/flow-row.ts';
import { openConnection, type ClickHouseConnectionOptions } from '../sinks/clickhouse/connection.ts';
import { chIdentifier, chString, chUInt } from '../sinks/clickhouse/sql-literal.ts';
import { STATEFULSET_SUFFIX_RE, WORKLOAD_LABEL_KEYS, WORKLOAD_SUFFIX_RE } from '../sinks/embedded/workload.ts';
import { bucketWidth, fillPoints } from './buckets.ts';
import { DENIED_CONDITION, filterConditions, SORT_EXPRESSIONS, whereClause, type SqlDialect, type SqlValueType } from './filter-sql.ts';
import { buildServiceMap, ruleActionName, talkerEndpoint, talkerKey } from './result-shapes.ts';
import type {
  FlowFilter,
  FlowQueries,
  FlowsPage,
  FlowsQuery,
  PolicyHit,
  PolicyHitsQuery,
  ServiceMap,
  ServiceMapQuery,
  TalkerLevel,
  ThroughputQuery,
  ThroughputResult,
  TopTalker,
  TopTalkersQuery,
} from './types.ts';
import { optionalLimit, validateFlowFilter, validateFlowsQuery, validateLevel } from './validate.ts';

const literals: SqlDialect = {
  value(value: string | number, type: SqlValueType): string {
    return type === 'String' ? chString(String(value)) : chUInt(value as number);
  },
  startsWith(column: string, prefix: string): string {
    return `startsWith(${column}, ${chString(prefix)})`;
  },
};

/** SQL for the workload of a Pod (see workload.ts), from its name and labels columns. */
export function workloadSql(podColumn: string, labelsColumn: string): string {
  const label = (key: string): string => `visitParamExtractString(${labelsColumn}, ${chString(key)})`;
  const byLabel = WORKLOAD_LABEL_KEYS.flatMap((key) => [`${label(key)} != ''`, label(key)]);
  const generated = chString(WORKLOAD_SUFFIX_RE);
  const ordinal = chString(STATEFULSET_SUFFIX_RE);
  return (
    `multiIf(${podColumn} = '', '', ${byLabel.join(', ')}, ` +
    `match(${podColumn}, ${chString(`^.+${WORKLOAD_SUFFIX_RE}`)}), replaceRegexpOne(${podColumn}, ${generated}, ''), ` +
    `match(${podColumn}, ${chString(`^.+${STATEFULSET_SUFFIX_RE}`)}), replaceRegexpOne(${podColumn}, ${ordinal}, ''), ${podColumn})`
  );
}

const SOURCE_WORKLOAD = workloadSql('sourcePodName', 'sourcePodLabels');
const DESTINATION_WORKLOAD = workloadSql('destinationPodName', 'destinationPodLabels');

const FREE_TEXT_COLUMNS = [
  'sourcePodName',
  'sourcePodNamespace',
  'sourceNodeName',
  SOURCE_WORKLOAD,
  'destinationPodName',
  'destinationPodNamespace',
  'destinationNodeName',
  DESTINATION_WORKLOAD,
  'destinationServicePortName',
];

function freeText(text: string): string {
  const needle = chString(text);
  return `(${FREE_TEXT_COLUMNS.map((c) => `positionCaseInsensitiveUTF8(${c}, ${needle}) > 0`).join(' OR ')})`;
}

/** Names of both ends at a level, as sn/sname/dn/dname (external ends by IP at Pod level). */
function labels(level: TalkerLevel): string {
  if (level === 'pod') {
    return (
      `sourcePodNamespace AS sn, if(sourcePodName = '', sourceIP, sourcePodName) AS sname, ` +
      `destinationPodNamespace AS dn, if(destinationPodName = '', destinationIP, destinationPodName) AS dname`
    );
  }
  if (level === 'namespace') return 'sourcePodNamespace AS sn, sourcePodNamespace AS sname, destinationPodNamespace AS dn, destinationPodNamespace AS dname';
  return "'' AS sn, sourceNodeName AS sname, '' AS dn, destinationNodeName AS dname";
}

const SELECT_COLUMNS = FLOW_COLUMNS.map((c) => (c.type === 'DateTime' ? `toUInt32(${c.name}) AS ${c.name}` : c.name)).join(', ');
const BYTES = 'sum(octetDeltaCount) + sum(reverseOctetDeltaCount)';

const num = (v: unknown): number => Number(v ?? 0);
const big = (v: unknown): bigint => BigInt((v as string | number | undefined) ?? 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** A stored row from JSONEachRow (UInt64 arrive as strings). */
function toStoredRow(raw: Record<string, unknown>): StoredFlowRow {
  const row: Record<string, unknown> = {};
  for (const c of FLOW_COLUMNS) {
    const v = raw[c.name];
    row[c.name] = c.type === 'UInt64' ? big(v) : c.type === 'String' ? str(v) : num(v);
  }
  return row as StoredFlowRow;
}

export class ClickHouseFlowQueries implements FlowQueries {
  readonly store = 'clickhouse';
  private readonly table: string;

  constructor(
    private readonly client: ClickHouseClient,
    database: string,
    private readonly ownsClient = false,
  ) {
    this.table = `${chIdentifier(database)}.flows`;
  }

  /** A query layer with its own connection (same options as the sink's). */
  static open(options: ClickHouseConnectionOptions & { database: string }): ClickHouseFlowQueries {
    return new ClickHouseFlowQueries(openConnection(options).client, options.database, true);
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  async flows(query?: FlowsQuery): Promise<FlowsPage> {
    const { limit, offset, sort, order, filter } = validateFlowsQuery(query);
    const dir = order === 'desc' ? 'DESC' : 'ASC';
    const rows = await this.rows(
      `SELECT ${SELECT_COLUMNS} FROM ${this.table} ${this.where(filter)}
       ORDER BY ${SORT_EXPRESSIONS[sort]} ${dir}, flowStartSeconds ${dir}, sourceIP, sourceTransportPort, destinationIP, destinationTransportPort
       LIMIT ${offset}, ${limit + 1}`,
    );
    return { flows: rows.slice(0, limit).map(toStoredRow), limit, offset, hasMore: rows.length > limit };
  }

  async topTalkers(query: TopTalkersQuery): Promise<TopTalker[]> {
    const level = validateLevel(query.by);
    const limit = optionalLimit('limit', query.limit, 10, 1000);
    const rows = await this.rows(
      `SELECT ${labels(level)}, sum(octetDeltaCount) AS o, sum(reverseOctetDeltaCount) AS r, count() AS f, o + r AS b
       FROM ${this.table} ${this.where(validateFlowFilter(query.filter))}
       GROUP BY sn, sname, dn, dname ORDER BY b DESC, f DESC, sn, sname, dn, dname LIMIT ${limit}`,
    );
    return rows.map((r) => ({
      source: talkerEndpoint(level, str(r.sn), str(r.sname)),
      destination: talkerEndpoint(level, str(r.dn), str(r.dname)),
      bytes: big(r.b),
      octetDeltaCount: big(r.o),
      reverseOctetDeltaCount: big(r.r),
      flows: num(r.f),
    }));
  }

  async throughput(query: ThroughputQuery = {}): Promise<ThroughputResult> {
    const filter = validateFlowFilter(query.filter);
    const range = await this.timeRange(filter);
    const width = bucketWidth(range.from, range.to, query.bucketSeconds);
    const ranged: FlowFilter = { ...filter, from: range.from, to: range.to };
    const bucket = `intDiv(toUInt32(flowEndSeconds), ${width}) * ${width}`;
    if (query.by === undefined) {
      const rows = await this.rows(`SELECT ${bucket} AS t, ${BYTES} AS b FROM ${this.table} ${this.where(ranged)} GROUP BY t`);
      const sums = new Map(rows.map((r) => [num(r.t), big(r.b)]));
      return { bucketSeconds: width, from: range.from, to: range.to, series: [{ points: fillPoints(sums, range.from, range.to, width) }] };
    }
    const level = validateLevel(query.by);
    const top = await this.topTalkers({ by: level, filter: ranged, limit: optionalLimit('top', query.top, 5, 50) });
    if (top.length === 0) return { bucketSeconds: width, from: range.from, to: range.to, series: [] };
    const rows = await this.rows(
      `SELECT t, sn, sname, dn, dname, sum(o) + sum(r) AS b FROM (
         SELECT ${bucket} AS t, ${labels(level)}, octetDeltaCount AS o, reverseOctetDeltaCount AS r
         FROM ${this.table} ${this.where(ranged)})
       GROUP BY t, sn, sname, dn, dname`,
    );
    const index = new Map(top.map((t, i) => [`${talkerKey(t.source)}\u0000${talkerKey(t.destination)}`, i]));
    const sums = top.map(() => new Map<number, bigint>());
    for (const r of rows) {
      const i = index.get(
        `${talkerKey(talkerEndpoint(level, str(r.sn), str(r.sname)))}\u0000${talkerKey(talkerEndpoint(level, str(r.dn), str(r.dname)))}`,
      );
      if (i === undefined) continue;
      const m = sums[i] as Map<number, bigint>;
      m.set(num(r.t), (m.get(num(r.t)) ?? 0n) + big(r.b));
    }
    return {
      bucketSeconds: width,
      from: range.from,
      to: range.to,
      series: top.map((t, i) => ({
        source: t.source,
        destination: t.destination,
        points: fillPoints(sums[i] as Map<number, bigint>, range.from, range.to, width),
      })),
    };
  }

  async serviceMap(query: ServiceMapQuery = {}): Promise<ServiceMap> {
    const limit = optionalLimit('limit', query.limit, 500, 5000);
    const rows = await this.rows(
      `SELECT sourcePodNamespace AS sns, ${SOURCE_WORKLOAD} AS swl, if(sourcePodName = '', sourceIP, '') AS sx,
              destinationPodNamespace AS dns, ${DESTINATION_WORKLOAD} AS dwl, destinationServicePortName AS svc,
              if(destinationPodName = '' AND destinationServicePortName = '', destinationIP, '') AS dx,
              ${BYTES} AS b, count() AS f, countIf(${DENIED_CONDITION}) AS dn
       FROM ${this.table} ${this.where(validateFlowFilter(query.filter))}
       GROUP BY sns, swl, sx, dns, dwl, svc, dx`,
    );
    return buildServiceMap(
      rows.map((r) => ({
        sourceNamespace: str(r.sns),
        sourceWorkload: str(r.swl),
        sourceIP: str(r.sx),
        destinationNamespace: str(r.dns),
        destinationWorkload: str(r.dwl),
        destinationService: str(r.svc),
        destinationIP: str(r.dx),
        bytes: big(r.b),
        flows: num(r.f),
        denied: num(r.dn),
      })),
      limit,
    );
  }

  async policyHits(query: PolicyHitsQuery = {}): Promise<PolicyHit[]> {
    const limit = optionalLimit('limit', query.limit, 1000, 10_000);
    const conditions = filterConditions(validateFlowFilter(query.filter), literals, freeText);
    const side = (dir: 'ingress' | 'egress'): string =>
      `SELECT '${dir}' AS direction, ${dir}NetworkPolicyNamespace AS ns, ${dir}NetworkPolicyName AS name,
              ${dir}NetworkPolicyType AS type, ${dir}NetworkPolicyRuleAction AS action, count() AS f, ${BYTES} AS b
       FROM ${this.table} ${whereClause([...conditions, `${dir}NetworkPolicyName != ''`])}
       GROUP BY ns, name, type, action`;
    const rows = await this.rows(
      `SELECT * FROM (${side('ingress')} UNION ALL ${side('egress')})
       ORDER BY f DESC, b DESC, direction, ns, name, type, action LIMIT ${limit}`,
    );
    return rows.map((r) => ({
      direction: r.direction === 'egress' ? 'egress' : 'ingress',
      namespace: str(r.ns),
      name: str(r.name),
      type: num(r.type),
      action: ruleActionName(num(r.action)),
      flows: num(r.f),
      bytes: big(r.b),
    }));
  }

  private where(filter: FlowFilter): string {
    return whereClause(filterConditions(filter, literals, freeText));
  }

  private async timeRange(filter: FlowFilter): Promise<{ from: number; to: number }> {
    if (filter.from !== undefined && filter.to !== undefined) return { from: filter.from, to: filter.to };
    const rows = await this.rows(
      `SELECT toUInt32(min(flowEndSeconds)) AS lo, toUInt32(max(flowEndSeconds)) AS hi, count() AS n FROM ${this.table} ${this.where(filter)}`,
    );
    const found = num(rows[0]?.n) > 0;
    const now = Math.floor(Date.now() / 1000);
    const from = filter.from ?? (found ? num(rows[0]?.lo) : now - 3600);
    const to = filter.to ?? (found ? num(rows[0]?.hi) + 1 : Math.max(from + 1, now));
    return { from, to: Math.max(to, from + 1) };
  }

  private async rows(query: string): Promise<Record<string, unknown>[]> {
    const result = await this.client.query({ query, format: 'JSONEachRow' });
    return result.json<Record<string, unknown>>();
  }
}
