/**
 * Query parameters of GET /flowrecords (antctl's): srcip, dstip, proto, srcport, dstport, plus
 * limit (ours). Absent or empty parameters, and 0 for proto and ports, match anything (upstream);
 * a complete 5-tuple is a direct lookup. proto is a number 0..255 or a name (tcp, udp, sctp, icmp,
 * icmpv6). Any other parameter, a repeated one or a malformed value is an ApiError BAD_PARAMETER
 * naming the parameter.
 */
import { ApiError } from '../../errors.ts';
import { canonicalAddress, isCompleteFilter, type FlowFilter } from '../core/index.ts';

export const FLOW_RECORDS_PARAMETERS = ['srcip', 'dstip', 'proto', 'srcport', 'dstport', 'limit'] as const;
/** Records returned when no limit is given, and the largest limit accepted. */
export const DEFAULT_FLOW_RECORDS_LIMIT = 1000;
export const MAX_FLOW_RECORDS_LIMIT = 10_000;

export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, 'ipv6-icmp': 58, sctp: 132 };

export interface FlowRecordsQuery {
  readonly filter: Required<FlowFilter>;
  /** All five fields given: a direct lookup. */
  readonly complete: boolean;
  readonly limit: number;
}

function bad(parameter: string, value: string, why: string): ApiError {
  return new ApiError('BAD_PARAMETER', `query parameter ${parameter}=${JSON.stringify(value)}: ${why}`, { parameter, value });
}

function integer(parameter: string, value: string, min: number, max: number): number {
  if (!/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > max) throw bad(parameter, value, `must be an integer in ${min}..${max}`);
  return Number(value);
}

function protocol(value: string): number {
  if (/^\d+$/.test(value)) return integer('proto', value, 0, 255);
  const n = PROTOCOL_NUMBERS[value.toLowerCase()];
  if (n === undefined) throw bad('proto', value, `unknown protocol; use a number 0..255 or one of ${Object.keys(PROTOCOL_NUMBERS).join(', ')}`);
  return n;
}

function address(parameter: string, value: string): string {
  try {
    return canonicalAddress(value, parameter);
  } catch {
    throw bad(parameter, value, 'not an IPv4 or IPv6 address');
  }
}

export function parseFlowRecordsQuery(params: URLSearchParams, maxLimit = MAX_FLOW_RECORDS_LIMIT, defaultLimit = DEFAULT_FLOW_RECORDS_LIMIT): FlowRecordsQuery {
  const known = new Set<string>(FLOW_RECORDS_PARAMETERS);
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (!known.has(name)) throw bad(name, value, `unknown parameter; accepted: ${FLOW_RECORDS_PARAMETERS.join(', ')}`);
    if (seen.has(name)) throw bad(name, value, 'given more than once');
    seen.add(name);
  }
  const get = (name: string): string => (params.get(name) ?? '').trim();
  const filter = {
    srcip: get('srcip') === '' ? '' : address('srcip', get('srcip')),
    dstip: get('dstip') === '' ? '' : address('dstip', get('dstip')),
    proto: get('proto') === '' ? 0 : protocol(get('proto')),
    srcport: get('srcport') === '' ? 0 : integer('srcport', get('srcport'), 0, 65535),
    dstport: get('dstport') === '' ? 0 : integer('dstport', get('dstport'), 0, 65535),
  };
  const limit = get('limit') === '' ? Math.min(defaultLimit, maxLimit) : integer('limit', get('limit'), 1, maxLimit);
  return { filter, complete: isCompleteFilter(filter), limit };
}
