/**
 * The query layer (src/aggregator/query) on the aggregator's HTTPS API, for the web UI and
 * `flowvis get flows|toptalkers|throughput|servicemap|policyhits`:
 *
 *   GET /flows?<filter>&limit=&offset=&sort=&order=   {"flows":[{column: value}],"limit":..,"offset":..,"hasMore":..}
 *   GET /toptalkers?<filter>&by=pod|namespace|node&limit=   {"by":"pod","topTalkers":[{source,destination,bytes,...}]}
 *   GET /throughput?<filter>&bucket=&by=&top=         {"bucketSeconds":..,"from":..,"to":..,"series":[{points:[..]}]}
 *   GET /servicemap?<filter>&limit=                   {"nodes":[..],"edges":[..]}
 *   GET /policyhits?<filter>&limit=                   {"policyHits":[..]}
 *
 * <filter> is the FlowFilter field names (from, to, namespace, sourcePod, ip, port, protocol,
 * flowType, service, policy, action, text, ...), read by the query layer's flowFilterFromParams.
 * `bucket` is seconds or a duration (30s, 5m, 1h, 1d). Unknown or repeated parameters and bad
 * values are an ApiError BAD_PARAMETER naming the parameter (the API server answers 400).
 */
import { ApiError } from '../../errors.ts';
import { flowFilterFromParams, validateFlowFilter, type FlowFilter, type FlowQueries, type FlowSortKey, type TalkerLevel } from '../query/index.ts';
import { formatJson } from './json.ts';

export const QUERY_ENDPOINTS = ['/flows', '/toptalkers', '/throughput', '/servicemap', '/policyhits'] as const;
export type QueryEndpoint = (typeof QUERY_ENDPOINTS)[number];

/** The answer of a query endpoint when the aggregator has no flow store. */
export const NO_FLOW_STORE_MESSAGE = 'no flow store is enabled (embeddedStore or clickHouse)';

/** Parameters each endpoint accepts besides the filter fields. */
export const QUERY_PARAMETERS: Readonly<Record<QueryEndpoint, readonly string[]>> = {
  '/flows': ['limit', 'offset', 'sort', 'order'],
  '/toptalkers': ['by', 'limit'],
  '/throughput': ['bucket', 'by', 'top'],
  '/servicemap': ['limit'],
  '/policyhits': ['limit'],
};

/** Query-layer field names that are spelled differently as URL parameters. */
const PARAMETER_OF_FIELD: Readonly<Record<string, string>> = { bucketSeconds: 'bucket' };

export function isQueryEndpoint(path: string): path is QueryEndpoint {
  return (QUERY_ENDPOINTS as readonly string[]).includes(path);
}

function bad(parameter: string, value: string | undefined, why: string): ApiError {
  const shown = value === undefined ? parameter : `${parameter}=${JSON.stringify(value)}`;
  return new ApiError('BAD_PARAMETER', `query parameter ${shown}: ${why}`, { parameter, value });
}

/** The query layer's BAD_QUERY ("field: why") as BAD_PARAMETER naming the URL parameter. */
function asParameterError(e: unknown, params: URLSearchParams): unknown {
  if (!(e instanceof ApiError) || e.code !== 'BAD_QUERY') return e;
  const field = String(e.context.field ?? 'query');
  const parameter = PARAMETER_OF_FIELD[field] ?? field;
  const why = e.message.startsWith(`${field}: `) ? e.message.slice(field.length + 2) : e.message;
  return bad(parameter, params.get(parameter) ?? undefined, why);
}

function integer(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  if (!/^\d{1,10}$/.test(text)) throw bad(name, text, 'expected a non-negative integer');
  return Number(text);
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Bucket width: seconds, or a number with s, m, h or d. */
function duration(params: URLSearchParams, name: string): number | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  const m = /^(\d{1,10})([smhd]?)$/.exec(text);
  if (!m) throw bad(name, text, 'expected seconds or a duration such as 30s, 5m, 1h, 1d');
  return Number(m[1]) * DURATION_UNITS[m[2] || 's']!;
}

/** Refuses unknown and repeated parameters; filter fields are recognised by the query layer's validator. */
function checkNames(endpoint: QueryEndpoint, params: URLSearchParams): void {
  const own = QUERY_PARAMETERS[endpoint];
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (seen.has(name)) throw bad(name, value, 'given more than once');
    seen.add(name);
    if (own.includes(name)) continue;
    try {
      validateFlowFilter({ [name]: undefined } as FlowFilter);
    } catch {
      throw bad(name, value, `unknown parameter; accepted: the flow filter fields and ${own.join(', ')}`);
    }
  }
}

function filterOf(params: URLSearchParams, endpoint: QueryEndpoint): FlowFilter {
  const filterParams = new URLSearchParams([...params].filter(([name]) => !QUERY_PARAMETERS[endpoint].includes(name)));
  return flowFilterFromParams(filterParams);
}

async function answer(queries: FlowQueries, endpoint: QueryEndpoint, params: URLSearchParams): Promise<unknown> {
  const filter = filterOf(params, endpoint);
  switch (endpoint) {
    case '/flows': {
      const order = params.get('order') ?? undefined;
      return queries.flows({
        filter, limit: integer(params, 'limit'), offset: integer(params, 'offset'),
        sort: (params.get('sort') ?? undefined) as FlowSortKey | undefined, order: order as 'asc' | 'desc' | undefined,
      });
    }
    case '/toptalkers': {
      const by = (params.get('by') ?? 'pod') as TalkerLevel;
      return { by, topTalkers: await queries.topTalkers({ by, filter, limit: integer(params, 'limit') }) };
    }
    case '/throughput':
      if (params.has('top') && !params.has('by')) throw bad('top', params.get('top') ?? '', 'needs by=pod|namespace|node (top picks the pairs with a series of their own)');
      return queries.throughput({
        filter, bucketSeconds: duration(params, 'bucket'), by: (params.get('by') ?? undefined) as TalkerLevel | undefined, top: integer(params, 'top'),
      });
    case '/servicemap':
      return queries.serviceMap({ filter, limit: integer(params, 'limit') });
    case '/policyhits':
      return { policyHits: await queries.policyHits({ filter, limit: integer(params, 'limit') }) };
  }
}

/**
 * The JSON body of a query endpoint (exact 64-bit integers). Throws ApiError BAD_PARAMETER for a
 * bad request; other errors are the store's.
 */
export async function queryResponse(queries: FlowQueries, endpoint: QueryEndpoint, params: URLSearchParams): Promise<string> {
  try {
    checkNames(endpoint, params);
    return formatJson(await answer(queries, endpoint, params), 0) + '\n';
  } catch (e) {
    throw asParameterError(e, params);
  }
}
