/**
 * Checking query-layer input before any SQL is built: every field has a type and range, names
 * have a maximum length, unknown fields are refused. Bad input is an ApiError (code BAD_QUERY)
 * that names the field. flowFilterFromParams turns URL query parameters (the HTTP API, the CLI)
 * into a FlowFilter with the same checks.
 */
import { isIP } from 'node:net';
import { ApiError } from '../../errors.ts';
import {
  FLOW_SORT_KEYS,
  POLICY_ACTIONS,
  TALKER_LEVELS,
  type FlowFilter,
  type FlowSortKey,
  type FlowsQuery,
  type PolicyActionFilter,
  type TalkerLevel,
} from './types.ts';

const MAX_NAME = 512;

function bad(field: string, message: string, value?: unknown): ApiError {
  return new ApiError('BAD_QUERY', `${field}: ${message}`, { field, value: value === undefined ? undefined : String(value).slice(0, 200) });
}

const STRING_FIELDS = [
  'namespace',
  'sourceNamespace',
  'destinationNamespace',
  'pod',
  'sourcePod',
  'destinationPod',
  'node',
  'sourceNode',
  'destinationNode',
  'service',
  'policy',
  'text',
] as const;
const IP_FIELDS = ['ip', 'sourceIP', 'destinationIP'] as const;
const PORT_FIELDS = ['port', 'sourcePort', 'destinationPort'] as const;
const KNOWN = new Set<string>([...STRING_FIELDS, ...IP_FIELDS, ...PORT_FIELDS, 'from', 'to', 'protocol', 'flowType', 'action']);

export function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw bad(field, `expected an integer from ${min} to ${max}`, value);
  }
  return value;
}

/** Checks a filter; returns it unchanged (typed) or throws ApiError BAD_QUERY. */
export function validateFlowFilter(filter: FlowFilter | undefined): FlowFilter {
  if (filter === undefined) return {};
  if (typeof filter !== 'object' || filter === null) throw bad('filter', 'expected an object', filter);
  const record = filter as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KNOWN.has(key)) throw bad(key, 'unknown filter field');
  }
  for (const key of STRING_FIELDS) {
    const v = record[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '' || v.length > MAX_NAME) throw bad(key, `expected a non-empty string of at most ${MAX_NAME} characters`, v);
  }
  for (const key of IP_FIELDS) {
    const v = record[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || isIP(v) === 0) throw bad(key, 'expected an IPv4 or IPv6 address', v);
  }
  for (const key of PORT_FIELDS) if (record[key] !== undefined) integerIn(key, record[key], 0, 65535);
  if (record.from !== undefined) integerIn('from', record.from, 0, 0xffff_ffff);
  if (record.to !== undefined) integerIn('to', record.to, 0, 0xffff_ffff);
  if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) throw bad('from', 'must not be after to', filter.from);
  if (record.protocol !== undefined) integerIn('protocol', record.protocol, 0, 255);
  if (record.flowType !== undefined) {
    if (!Array.isArray(record.flowType) || record.flowType.length === 0 || record.flowType.length > 8) {
      throw bad('flowType', 'expected a list of 1 to 8 flow types', record.flowType);
    }
    for (const t of record.flowType) integerIn('flowType', t, 0, 255);
  }
  if (record.action !== undefined && !POLICY_ACTIONS.includes(record.action as PolicyActionFilter)) {
    throw bad('action', `expected one of ${POLICY_ACTIONS.join(', ')}`, record.action);
  }
  return filter;
}

export interface PageBounds {
  readonly limit: number;
  readonly offset: number;
  readonly sort: FlowSortKey;
  readonly order: 'asc' | 'desc';
}

export const FLOWS_PAGE_LIMITS = { defaultLimit: 100, maxLimit: 1000, maxOffset: 10_000 } as const;

export function validateFlowsQuery(query: FlowsQuery | undefined): PageBounds & { filter: FlowFilter } {
  const q = query ?? {};
  const limit = q.limit === undefined ? FLOWS_PAGE_LIMITS.defaultLimit : integerIn('limit', q.limit, 1, FLOWS_PAGE_LIMITS.maxLimit);
  const offset = q.offset === undefined ? 0 : integerIn('offset', q.offset, 0, FLOWS_PAGE_LIMITS.maxOffset);
  const sort = q.sort ?? 'flowEndSeconds';
  if (!FLOW_SORT_KEYS.includes(sort)) throw bad('sort', `expected one of ${FLOW_SORT_KEYS.join(', ')}`, sort);
  const order = q.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw bad('order', 'expected asc or desc', order);
  return { limit, offset, sort, order, filter: validateFlowFilter(q.filter) };
}

export function validateLevel(level: unknown): TalkerLevel {
  if (!TALKER_LEVELS.includes(level as TalkerLevel)) throw bad('by', `expected one of ${TALKER_LEVELS.join(', ')}`, level);
  return level as TalkerLevel;
}

export function optionalLimit(field: string, value: number | undefined, fallback: number, max: number): number {
  return value === undefined ? fallback : integerIn(field, value, 1, max);
}

const PROTOCOL_NAMES: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 };
const FLOW_TYPE_NAMES: Readonly<Record<string, number>> = { intra: 1, 'intra-node': 1, inter: 2, 'inter-node': 2, 'to-external': 3, 'from-external': 4 };

function parseInteger(field: string, text: string): number {
  if (!/^\d{1,10}$/.test(text)) throw bad(field, 'expected a non-negative integer', text);
  return Number(text);
}

/**
 * A FlowFilter from query parameters: the FlowFilter field names, with `protocol` also by name
 * (tcp, udp, sctp, icmp, icmpv6), `flowType` as a comma list of numbers or names (intra-node,
 * inter-node, to-external, from-external), and `from`/`to` as unix seconds or RFC 3339 times.
 */
export function flowFilterFromParams(params: URLSearchParams | Readonly<Record<string, string | undefined>>): FlowFilter {
  const entries: [string, string][] =
    params instanceof URLSearchParams ? [...params.entries()] : Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  const out: Record<string, unknown> = {};
  for (const [key, text] of entries) {
    if (!KNOWN.has(key)) continue;
    if (key === 'from' || key === 'to') {
      out[key] = /^\d+$/.test(text) ? parseInteger(key, text) : parseTime(key, text);
    } else if ((PORT_FIELDS as readonly string[]).includes(key)) {
      out[key] = parseInteger(key, text);
    } else if (key === 'protocol') {
      out[key] = PROTOCOL_NAMES[text.toLowerCase()] ?? parseInteger(key, text);
    } else if (key === 'flowType') {
      out[key] = text.split(',').map((t) => FLOW_TYPE_NAMES[t.trim().toLowerCase()] ?? parseInteger(key, t.trim()));
    } else {
      out[key] = text;
    }
  }
  return validateFlowFilter(out as FlowFilter);
}

function parseTime(field: string, text: string): number {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}T/.test(text)) throw bad(field, 'expected unix seconds or an RFC 3339 time', text);
  return Math.floor(ms / 1000);
}
