/**
 * JSON with exact 64-bit integers, for API clients. JSON.parse turns 18446744073709551615 into
 * 18446744073709552000; parseJson() returns a bigint for every integer literal outside the safe
 * range (and a number otherwise), and formatJson() writes bigints back as plain integers.
 *
 *   value  := object | array | string | number | true | false | null
 *   number := -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
 */
import { ApiError } from '../../errors.ts';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new ApiError('BAD_RESPONSE', `invalid JSON at offset ${this.pos}: ${what}`, { offset: this.pos });
  }

  ws(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.pos++;
    }
  }

  value(depth: number): unknown {
    if (depth > 512) this.fail('nested too deeply');
    this.ws();
    const c = this.text[this.pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (c === 't' && this.text.startsWith('true', this.pos)) return (this.pos += 4), true;
    if (c === 'f' && this.text.startsWith('false', this.pos)) return (this.pos += 5), false;
    if (c === 'n' && this.text.startsWith('null', this.pos)) return (this.pos += 4), null;
    return this.number();
  }

  number(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail('expected a value');
    this.pos += m[0].length;
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n) && /^-?\d+$/.test(m[0])) return BigInt(m[0]);
    return n;
  }

  /** Finds the closing quote (skipping escapes), then lets JSON.parse check and decode the literal. */
  string(): string {
    const t = this.text;
    let end = this.pos + 1;
    while (end < t.length && t.charCodeAt(end) !== 0x22) end += t.charCodeAt(end) === 0x5c ? 2 : 1;
    if (end >= t.length) this.fail('unterminated string');
    try {
      const s = JSON.parse(t.slice(this.pos, end + 1)) as string;
      this.pos = end + 1;
      return s;
    } catch {
      return this.fail('bad string');
    }
  }

  expect(ch: string): void {
    this.ws();
    if (this.text[this.pos] !== ch) this.fail(`expected "${ch}"`);
    this.pos++;
  }

  array(depth: number): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.ws();
    if (this.text[this.pos] === ']') return this.pos++, out;
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') this.fail('expected "," or "]"');
    }
  }

  object(depth: number): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.text[this.pos] === '}') return this.pos++, out;
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail('expected a key');
      const key = this.string();
      this.expect(':');
      Object.defineProperty(out, key, { value: this.value(depth + 1), enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.text[this.pos++];
      if (c === '}') return out;
      if (c !== ',') this.fail('expected "," or "}"');
    }
  }
}

/** JSON.parse, except that integers beyond ±(2^53 − 1) become bigints. Throws ApiError BAD_RESPONSE. */
export function parseJson(text: string): unknown {
  const p = new Parser(text);
  const v = p.value(0);
  p.ws();
  if (p.pos !== text.length) p.fail('trailing characters');
  return v;
}

/** JSON text with bigints as exact integers, indented by `indent` spaces (0: compact). */
export function formatJson(value: unknown, indent = 2): string {
  const pad = (level: number): string => (indent > 0 ? '\n' + ' '.repeat(indent * level) : '');
  const sep = indent > 0 ? ': ' : ':';
  const walk = (v: unknown, level: number): string => {
    if (typeof v === 'bigint') return v.toString();
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return '[' + v.map((x) => pad(level + 1) + walk(x, level + 1)).join(',') + pad(level) + ']';
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && typeof x !== 'function');
    if (entries.length === 0) return '{}';
    return '{' + entries.map(([k, x]) => pad(level + 1) + JSON.stringify(k) + sep + walk(x, level + 1)).join(',') + pad(level) + '}';
  };
  return walk(value, 0);
}
