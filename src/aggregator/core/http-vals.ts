/**
 * httpVals aggregation (Antrea ≤ v2.5 L7 export; go-ipfix v0.14 `fillHttpVals`): both values are
 * JSON objects mapping an int32 transaction id to a string; the merge keeps every entry, the
 * existing record's entry winning on a shared id. Output as Go's encoding/json writes a
 * map[int32]string: keys sorted as strings, compact, with <, > and & escaped.
 *
 * When either value is not such an object upstream falls back to the incoming value; so do we.
 * Deviation: upstream turns two empty values into "{}"; here they stay "" (no L7 data is not data).
 */
const INT32 = /^-?(0|[1-9][0-9]{0,9})$/;

function parse(text: string): Map<string, string> | null {
  if (text === '') return new Map();
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return null;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return null;
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    if (!INT32.test(k)) return null;
    const n = Number(k);
    if (n < -2147483648 || n > 2147483647) return null;
    if (v === null) out.set(String(n), '');
    else if (typeof v === 'string') out.set(String(n), v);
    else return null;
  }
  return out;
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function mergeHttpVals(incoming: string, existing: string): string {
  if (incoming === '' && existing === '') return '';
  const a = parse(incoming);
  const b = parse(existing);
  if (a === null || b === null) return incoming;
  for (const [k, v] of b) a.set(k, v);
  const keys = [...a.keys()].sort();
  return '{' + keys.map((k) => goString(k) + ':' + goString(a.get(k) as string)).join(',') + '}';
}
