/**
 * Go-style duration strings, as accepted by Go's time.ParseDuration and used throughout
 * antrea-agent.conf and flow-aggregator.conf.
 *
 *   duration = [ "-" | "+" ] ( "0" | component { component } )
 *   component = number unit
 *   number    = digits [ "." [ digits ] ] | "." digits
 *   unit      = "ns" | "us" | "µs" (U+00B5) | "μs" (U+03BC) | "ms" | "s" | "m" | "h"
 *
 * Examples: "5s", "1m30s", "500ms", "1h", "2h45m", "1.5h", "300us", "-2s". Components may repeat
 * and come in any order (their values add up). The value must fit in a signed 64-bit count of
 * nanoseconds (about 292 years), as in Go.
 */
import { ConfigError } from '../errors.ts';

const NS_PER_UNIT: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 MICRO SIGN
  'μs': 1_000n, // U+03BC GREEK SMALL LETTER MU
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_NS = (1n << 63n) - 1n;
const COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]+)/;

/** The units text used in messages, as the Antrea configuration files spell it. */
export const DURATION_UNITS_HINT = 'valid units are "ns", "us" (or "µs"), "ms", "s", "m", "h"';

export type DurationParseResult =
  | { readonly ok: true; readonly ns: bigint; readonly ms: number }
  | { readonly ok: false; readonly reason: string };

/** Parses a Go duration string without throwing; `reason` explains a failure in a few words. */
export function tryParseDuration(text: string): DurationParseResult {
  if (text.length === 0) return { ok: false, reason: 'empty duration' };
  let rest = text;
  let negative = false;
  if (rest[0] === '-' || rest[0] === '+') {
    negative = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return { ok: true, ns: 0n, ms: 0 };
  if (rest.length === 0) return { ok: false, reason: 'invalid duration syntax' };
  let total = 0n;
  while (rest.length > 0) {
    const m = COMPONENT.exec(rest);
    if (m === null) {
      return /^(\d+\.?\d*|\.\d+)$/.test(rest)
        ? { ok: false, reason: `missing unit (${DURATION_UNITS_HINT})` }
        : { ok: false, reason: 'invalid duration syntax' };
    }
    const [whole, intDigits = '', fracDigits, unitText = ''] = m;
    if (intDigits === '' && (fracDigits === undefined || fracDigits === '')) {
      return { ok: false, reason: 'invalid duration syntax' };
    }
    const unit = NS_PER_UNIT[unitText];
    if (unit === undefined) {
      return { ok: false, reason: `unknown unit "${unitText}" (${DURATION_UNITS_HINT})` };
    }
    let ns = BigInt(intDigits === '' ? '0' : intDigits) * unit;
    if (fracDigits !== undefined && fracDigits !== '') ns += fractionNs(fracDigits, unit);
    total += ns;
    if (total > MAX_NS + (negative ? 1n : 0n)) return { ok: false, reason: 'duration out of range' };
    rest = rest.slice(whole.length);
  }
  const signed = negative ? -total : total;
  return { ok: true, ns: signed, ms: nsToMs(signed) };
}

/** Parses a Go duration string into milliseconds (fractional for sub-millisecond values). */
export function parseDuration(text: string): number {
  const result = tryParseDuration(text);
  if (!result.ok) {
    throw new ConfigError('DURATION_INVALID', `${JSON.stringify(text)} is not a valid duration: ${result.reason}`, {
      value: text,
    });
  }
  return result.ms;
}

/**
 * The fractional part's nanoseconds, computed as Go does (digits accumulated until the value
 * would overflow 63 bits, then float64(f) * (float64(unit) / scale), truncated), so that values
 * such as "0.3333333333333333333h" give Go's 20m0s exactly.
 */
function fractionNs(digits: string, unit: bigint): bigint {
  let f = 0n;
  let scale = 1;
  for (const ch of digits) {
    if (f > ((1n << 63n) - 1n) / 10n) break;
    const next = f * 10n + BigInt(ch);
    if (next > 1n << 63n) break;
    f = next;
    scale *= 10;
  }
  return BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
}

function nsToMs(ns: bigint): number {
  const whole = ns / 1_000_000n;
  const rem = ns % 1_000_000n;
  return Number(whole) + Number(rem) / 1e6;
}

export interface FormatDurationOptions {
  /**
   * `go` (default) prints exactly what Go's Duration.String prints ("1h30m0s", "1m30s", "1.5s",
   * "300µs", "0s"). `compact` drops zero components ("1h30m", "1h", "90s" stays "1m30s").
   */
  readonly style?: 'go' | 'compact';
}

/** Formats milliseconds as a Go duration string; parseDuration(formatDuration(x)) === x to the nanosecond. */
export function formatDuration(ms: number, options: FormatDurationOptions = {}): string {
  if (!Number.isFinite(ms)) throw new ConfigError('DURATION_INVALID', `cannot format ${ms} as a duration`, { value: ms });
  return formatNs(BigInt(Math.round(ms * 1e6)), options.style ?? 'go');
}

/** Formats a signed nanosecond count as a Go duration string. */
export function formatNs(ns: bigint, style: 'go' | 'compact' = 'go'): string {
  if (ns === 0n) return '0s';
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  if (abs < 1_000_000_000n) {
    if (abs < 1_000n) return `${sign}${abs}ns`;
    if (abs < 1_000_000n) return `${sign}${decimal(abs, 3)}µs`;
    return `${sign}${decimal(abs, 6)}ms`;
  }
  const hours = abs / 3_600_000_000_000n;
  const minutes = (abs / 60_000_000_000n) % 60n;
  const secondsNs = abs % 60_000_000_000n;
  const seconds = decimal(secondsNs, 9);
  if (style === 'compact') {
    let out = sign;
    if (hours > 0n) out += `${hours}h`;
    if (minutes > 0n) out += `${minutes}m`;
    if (secondsNs > 0n) out += `${seconds}s`;
    return out;
  }
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

/** `value / 10^digits` printed with the trailing zeros of the fraction removed. */
function decimal(value: bigint, digits: number): string {
  const scale = 10n ** BigInt(digits);
  const whole = value / scale;
  const frac = (value % scale).toString().padStart(digits, '0').replace(/0+$/, '');
  return frac === '' ? `${whole}` : `${whole}.${frac}`;
}
