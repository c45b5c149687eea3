/**
 * The ClickHouse schema, derived from FLOW_COLUMNS: Theia's `flows` table (MergeTree ordered by
 * (timeInserted, flowEndSeconds)) and its pod, node and policy views (materialized views that
 * write into SummingMergeTree tables), for a single server.
 *
 * Server features are chosen from `SELECT version()` when the tables are created:
 *   table TTL (timeInserted + INTERVAL n SECOND)   ClickHouse ≥ 19.6; older servers (Debian's
 *                                                  18.16) get a periodic ALTER TABLE … DELETE.
 * LowCardinality and DateTime64 are not used: Theia's schema has plain String and DateTime
 * columns, which every version has, and Grafana dashboards written for Theia keep working.
 */
import { FLOW_COLUMNS, type FlowColumnName, type FlowColumnType } from '../flow-row.ts';
import { chIdentifier } from './sql-literal.ts';

export interface ServerFeatures {
  readonly version: string;
  readonly major: number;
  readonly minor: number;
  /** MergeTree table-level TTL (19.6+). */
  readonly tableTtl: boolean;
}

export function serverFeatures(version: string): ServerFeatures {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  const major = m === null ? 0 : Number(m[1]);
  const minor = m === null ? 0 : Number(m[2]);
  return { version: version.trim(), major, minor, tableTtl: major > 19 || (major === 19 && minor >= 6) };
}

const CH_TYPES: Readonly<Record<FlowColumnType, string>> = {
  DateTime: 'DateTime',
  UInt8: 'UInt8',
  UInt16: 'UInt16',
  UInt64: 'UInt64',
  String: 'String',
};

const COLUMN_DEFAULTS: Partial<Record<FlowColumnName, string>> = { timeInserted: 'now()', trusted: '0' };

function columnDefinition(name: FlowColumnName, type: FlowColumnType): string {
  const fallback = COLUMN_DEFAULTS[name];
  return `${name} ${CH_TYPES[type]}${fallback === undefined ? '' : ` DEFAULT ${fallback}`}`;
}

const TYPE_OF = new Map<string, FlowColumnType>(FLOW_COLUMNS.map((c) => [c.name, c.type]));

/** How long records are kept; 0 keeps them forever. */
export interface RetentionOptions {
  readonly ttlSeconds: number;
}

function ttlClause(features: ServerFeatures, retention: RetentionOptions): string {
  if (!features.tableTtl || retention.ttlSeconds <= 0) return '';
  // Theia: merge_with_ttl_timeout = min(ttl, 4 h), so expired parts are merged away promptly.
  const mergeTimeout = Math.min(retention.ttlSeconds, 14_400);
  return `\nTTL timeInserted + INTERVAL ${retention.ttlSeconds} SECOND\nSETTINGS merge_with_ttl_timeout = ${mergeTimeout}`;
}

export function flowsTableDdl(database: string, features: ServerFeatures, retention: RetentionOptions): string {
  const columns = FLOW_COLUMNS.map((c) => `  ${columnDefinition(c.name, c.type)}`).join(',\n');
  return (
    `CREATE TABLE IF NOT EXISTS ${chIdentifier(database)}.flows (\n${columns}\n) ENGINE = MergeTree\n` +
    `ORDER BY (timeInserted, flowEndSeconds)${ttlClause(features, retention)}`
  );
}

/** One of Theia's views: the grouping columns and the summed counters. */
interface ViewDefinition {
  readonly view: string;
  readonly table: string;
  readonly keys: readonly FlowColumnName[];
  readonly sums: readonly FlowColumnName[];
}

const VIEW_TIME_KEYS = ['timeInserted', 'flowEndSeconds', 'flowEndSecondsFromSourceNode', 'flowEndSecondsFromDestinationNode'] as const;

export const THEIA_VIEWS: readonly ViewDefinition[] = [
  {
    view: 'flows_pod_view',
    table: 'pod_view_table',
    keys: [
      ...VIEW_TIME_KEYS,
      'sourcePodName',
      'destinationPodName',
      'destinationIP',
      'destinationServicePort',
      'destinationServicePortName',
      'flowType',
      'sourcePodNamespace',
      'destinationPodNamespace',
      'sourceTransportPort',
      'destinationTransportPort',
      'clusterUUID',
    ],
    sums: [
      'octetDeltaCount',
      'reverseOctetDeltaCount',
      'throughput',
      'reverseThroughput',
      'throughputFromSourceNode',
      'throughputFromDestinationNode',
    ],
  },
  {
    view: 'flows_node_view',
    table: 'node_view_table',
    keys: [...VIEW_TIME_KEYS, 'sourceNodeName', 'destinationNodeName', 'sourcePodNamespace', 'destinationPodNamespace', 'clusterUUID'],
    sums: [
      'octetDeltaCount',
      'reverseOctetDeltaCount',
      'throughput',
      'reverseThroughput',
      'throughputFromSourceNode',
      'reverseThroughputFromSourceNode',
      'throughputFromDestinationNode',
      'reverseThroughputFromDestinationNode',
    ],
  },
  {
    view: 'flows_policy_view',
    table: 'policy_view_table',
    keys: [
      ...VIEW_TIME_KEYS,
      'egressNetworkPolicyName',
      'egressNetworkPolicyNamespace',
      'egressNetworkPolicyRuleAction',
      'ingressNetworkPolicyName',
      'ingressNetworkPolicyNamespace',
      'ingressNetworkPolicyRuleAction',
      'sourcePodName',
      'sourceTransportPort',
      'sourcePodNamespace',
      'destinationPodName',
      'destinationTransportPort',
      'destinationPodNamespace',
      'destinationServicePort',
      'destinationServicePortName',
      'destinationIP',
      'clusterUUID',
    ],
    sums: [
      'octetDeltaCount',
      'reverseOctetDeltaCount',
      'throughput',
      'reverseThroughput',
      'throughputFromSourceNode',
      'reverseThroughputFromSourceNode',
      'throughputFromDestinationNode',
      'reverseThroughputFromDestinationNode',
    ],
  },
];

/** CREATE statements for the views' target tables and the materialized views, in order. */
export function viewDdls(database: string, features: ServerFeatures, retention: RetentionOptions): string[] {
  const db = chIdentifier(database);
  const out: string[] = [];
  for (const v of THEIA_VIEWS) {
    const columns = [...v.keys, ...v.sums].map((name) => `  ${columnDefinition(name, TYPE_OF.get(name) as FlowColumnType)}`);
    out.push(
      `CREATE TABLE IF NOT EXISTS ${db}.${v.table} (\n${columns.join(',\n')}\n) ENGINE = SummingMergeTree\n` +
        `ORDER BY (${v.keys.join(', ')})${ttlClause(features, retention)}`,
    );
    const select = [...v.keys, ...v.sums.map((s) => `sum(${s}) AS ${s}`)].join(', ');
    out.push(
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${v.view} TO ${db}.${v.table}\n` +
        `AS SELECT ${select}\nFROM ${db}.flows\nGROUP BY ${v.keys.join(', ')}`,
    );
  }
  return out;
}

/** The tables that hold data (what retention must trim on servers without TTL). */
export function retainedTables(): readonly string[] {
  return ['flows', ...THEIA_VIEWS.map((v) => v.table)];
}

/** Retention for servers without table TTL: one mutation per table. */
export function retentionDeletes(database: string, ttlSeconds: number): string[] {
  const db = chIdentifier(database);
  return retainedTables().map((t) => `ALTER TABLE ${db}.${t} DELETE WHERE timeInserted < now() - ${Math.floor(ttlSeconds)}`);
}
