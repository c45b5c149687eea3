/**
 * The flow key: the 5-tuple (upstream `FlowKey{SourceAddress, DestinationAddress, Protocol,
 * SourcePort, DestinationPort}`), and filters over it for the query API.
 */
import { ApiError } from '../../errors.ts';
import { formatIPv4, formatIPv6, writeIPv4, writeIPv6 } from '../../ipfix/index.ts';

export interface FlowKey {
  readonly sourceAddress: string;
  readonly destinationAddress: string;
  readonly protocol: number;
  readonly sourcePort: number;
  readonly destinationPort: number;
}

/** A partial 5-tuple: every field that is absent (or "" / 0, as upstream) matches anything. */
export interface FlowFilter {
  readonly srcip?: string;
  readonly dstip?: string;
  readonly proto?: number;
  readonly srcport?: number;
  readonly dstport?: number;
}

const scratch = new Uint8Array(16);

/** The canonical text of an address as the decoder produces it, or an ApiError for bad input. */
export function canonicalAddress(text: string, what: string): string {
  if (writeIPv4(text, scratch, 0)) return formatIPv4(scratch, 0);
  if (writeIPv6(text, scratch, 0)) return formatIPv6(scratch, 0);
  throw new ApiError('BAD_FILTER', `${what} "${text}" is not an IPv4 or IPv6 address`, { key: what, value: text });
}

function checkInteger(v: number | undefined, max: number, what: string): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new ApiError('BAD_FILTER', `${what} must be an integer in 0..${max}, got ${v}`, { key: what, value: String(v) });
  }
  return v;
}

/** A filter with canonical addresses and 0 / "" for "any"; throws ApiError on malformed values. */
export function normalizeFilter(f: FlowFilter): Required<FlowFilter> {
  return {
    srcip: f.srcip ? canonicalAddress(f.srcip, 'srcip') : '',
    dstip: f.dstip ? canonicalAddress(f.dstip, 'dstip') : '',
    proto: checkInteger(f.proto, 255, 'proto'),
    srcport: checkInteger(f.srcport, 65535, 'srcport'),
    dstport: checkInteger(f.dstport, 65535, 'dstport'),
  };
}

/** A complete 5-tuple (upstream: then a direct map lookup instead of a scan). */
export function isCompleteFilter(f: Required<FlowFilter>): boolean {
  return f.srcip !== '' && f.dstip !== '' && f.proto !== 0 && f.srcport !== 0 && f.dstport !== 0;
}
