/**
 * One aggregated flow as one line of JSON, byte for byte as go-ipfix's exporter writes it in JSON
 * mode (createAndSendJSONRecords: a Go map marshalled with encoding/json's Encoder):
 *
 *   line    = "{" "\"@timestamp\":" rfc3339 "," "\"ipfix\":{" element *("," element) "}}" LF
 *   element = json-string(ieName) ":" value       (keys in byte order, as Go sorts map keys)
 *   value   = unsigned integer, bare and exact (64-bit counters included)
 *           | json-string                          (strings, IP addresses in text form)
 *   rfc3339 = "\"YYYY-MM-DDTHH:MM:SSZ\""           (Go's time.RFC3339; here always UTC)
 *
 * Strings are escaped as Go escapes them by default: besides JSON's own escapes, "<", ">", "&",
 * U+2028 and U+2029 become \u003c, \u003e, \u0026, \u2028, \u2029.
 */
import { aggregatorTemplate, proxyTemplate, type IpFamily, type Template } from '../../../ipfix/index.ts';
import type { AggregatedFlow } from '../../core/index.ts';
import type { ProxiedRecord } from '../../service/proxy-process.ts';

type LineEncoder<T> = (record: T, timestamp: string) => string;

/** Go's sort of map keys: by UTF-8 octets (code points; the same as UTF-16 order outside surrogates). */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const GO_EXTRA_ESCAPES = /[<>&\u2028\u2029]/g;

/** A JSON string literal escaped as Go's encoding/json escapes it (HTML-safe). */
export function goJsonString(s: string): string {
  const j = JSON.stringify(s);
  GO_EXTRA_ESCAPES.lastIndex = 0;
  if (!GO_EXTRA_ESCAPES.test(j)) return j;
  return j.replace(GO_EXTRA_ESCAPES, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/**
 * goJsonString with a bounded memo: Pod, namespace, Node and policy names repeat endlessly (the
 * core interns them), and escaping was the largest cost of a line.
 */
const QUOTED = new Map<string, string>();
const QUOTED_MAX = 65_536;
function quoted(s: string): string {
  let q = QUOTED.get(s);
  if (q === undefined) {
    q = goJsonString(s);
    if (QUOTED.size >= QUOTED_MAX) QUOTED.clear();
    QUOTED.set(s, q);
  }
  return q;
}

const STRING_TYPES = new Set(['string', 'ipv4Address', 'ipv6Address', 'macAddress']);

/**
 * Compiles, once per template, straight-line code that concatenates the line: the keys are
 * constants in sorted order, strings go through `quoted`, integers (number or bigint) through
 * String(). `access(name, position)` is the expression that reads an element from the record `f`.
 */
function compile<T>(template: Template, access: (name: string, position: number) => string): { names: readonly string[]; encode: LineEncoder<T> } {
  const fields = template.fields;
  const typeOf = new Map(fields.map((f) => [f.ie.name, f.ie.dataType as string]));
  const position = new Map(fields.map((f, i) => [f.ie.name, i]));
  const names = fields.map((f) => f.ie.name).sort(byteOrder);
  const parts = names.map((n, i) => {
    const key = JSON.stringify((i === 0 ? '' : ',') + JSON.stringify(n) + ':');
    const read = access(n, position.get(n) as number);
    return `${key} + ${STRING_TYPES.has(typeOf.get(n) ?? '') ? `q(${read})` : `String(${read})`}`;
  });
  const body = `return function line(f, ts) {\n  return '{"@timestamp":"' + ts + '","ipfix":{'\n    + ${parts.join('\n    + ')}\n    + '}}\\n';\n};`;
  const encode = new Function('q', body)(quoted) as LineEncoder<T>;
  return { names, encode };
}

const byName = (name: string): string => `f[${JSON.stringify(name)}]`;
const ENCODERS: Readonly<Record<IpFamily, { names: readonly string[]; encode: LineEncoder<AggregatedFlow> }>> = {
  4: compile(aggregatorTemplate(4), byName),
  6: compile(aggregatorTemplate(6), byName),
};
const byPosition = (_: string, position: number): string => `f.values[${position}]`;
const PROXY_ENCODERS: Readonly<Record<IpFamily, LineEncoder<ProxiedRecord>>> = {
  4: compile<ProxiedRecord>(proxyTemplate(4), byPosition).encode,
  6: compile<ProxiedRecord>(proxyTemplate(6), byPosition).encode,
};

/** The element names of a family's record, in the order they are written. */
export function jsonElementOrder(family: IpFamily): readonly string[] {
  return ENCODERS[family].names;
}

/** Go's time.RFC3339 format of a time in ms, in UTC: "2006-01-02T15:04:05Z". */
export function rfc3339Seconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

/** One line (ending in "\n"); `timestamp` is the already formatted "@timestamp" value. */
export function jsonRecordLine(flow: AggregatedFlow, timestamp: string): string {
  return ENCODERS[flow.family].encode(flow, timestamp);
}

/** One line of a record forwarded in Proxy mode (the proxy template's elements), same format. */
export function proxyJsonRecordLine(record: ProxiedRecord, timestamp: string): string {
  return PROXY_ENCODERS[record.family](record, timestamp);
}
