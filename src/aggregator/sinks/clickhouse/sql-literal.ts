/**
 * Literals and identifiers for ClickHouse SQL text. ClickHouse 18.16 does not support query
 * parameters over HTTP ("Unknown setting param_x"), so every value a query layer puts into SQL
 * goes through these functions.
 *
 * String literal grammar (ClickHouse): 'chars', where a backslash starts an escape sequence
 * (\\ \' \b \f \r \n \t \0 \a \v \xHH); any other character stands for itself. We escape the
 * backslash, the quote and every control character, so the literal reads back byte for byte.
 */
import { ApiError } from '../../../errors.ts';

function needsEscape(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x27 || c === 0x5c) return true;
  }
  return false;
}
const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  "'": "\\'",
  '\0': '\\0',
  '\b': '\\b',
  '\f': '\\f',
  '\r': '\\r',
  '\n': '\\n',
  '\t': '\\t',
};

/** A ClickHouse string literal holding exactly `value`. */
export function chString(value: string): string {
  if (typeof value !== 'string') throw new ApiError('BAD_LITERAL', `expected a string, got ${typeof value}`);
  if (!needsEscape(value)) return `'${value}'`;
  let out = "'";
  for (const ch of value) {
    const named = NAMED_ESCAPES[ch];
    if (named !== undefined) out += named;
    else if (ch <= '\x1f' || ch === '\x7f') out += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

/** A non-negative integer literal (number or bigint); anything else is refused. */
export function chUInt(value: number | bigint): string {
  if (typeof value === 'bigint') {
    if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw new ApiError('BAD_LITERAL', `${value} is not a UInt64`);
    return value.toString();
  }
  if (!Number.isSafeInteger(value) || value < 0) throw new ApiError('BAD_LITERAL', `${value} is not a non-negative integer`);
  return String(value);
}

const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A database or table name. Only plain identifiers are accepted (letters, digits, underscore):
 * they need no quoting on any ClickHouse version and cannot smuggle SQL.
 */
export function chIdentifier(name: string): string {
  if (!PLAIN_IDENTIFIER.test(name)) {
    throw new ApiError('BAD_IDENTIFIER', `${JSON.stringify(name)} is not a valid ClickHouse name (letters, digits and _ only)`, {
      name,
    });
  }
  return name;
}
