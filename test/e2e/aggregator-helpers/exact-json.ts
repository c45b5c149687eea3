/**
 * JSON with exact 64-bit integers: the aggregator's API, `flowvis get -o json` and the JSON-lines
 * sink write counters as bare integers with every digit; JSON.parse would round those beyond 2^53.
 * Integers of 16 or more digits (outside strings) are parsed as bigint, all others as number.
 */

const LONG_INTEGER = /("(?:[^"\\]|\\.)*")|(-?\d{16,})(?=[,}\]\s]|$)/g;
const MARK = '\u0000big:';

export function parseJsonExact(text: string): unknown {
  const marked = text.replace(LONG_INTEGER, (m, quoted: string | undefined) => (quoted !== undefined ? m : `"${MARK}${m}"`));
  return JSON.parse(marked, (_k, v: unknown) => (typeof v === 'string' && v.startsWith(MARK) ? BigInt(v.slice(MARK.length)) : v));
}
