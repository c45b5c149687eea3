/**
 * zod builders for the value types of Antrea's configuration files, with Go's decoding rules:
 * an absent or null key, and an empty string, take the default (Go's zero value triggers the
 * default in Antrea's SetConfigDefaults); scalars given to a string key are read as text, as
 * gopkg.in/yaml.v2 does ("5" for `flowPollInterval: 5`, which then fails as a duration).
 *
 * Every failure is a zod issue whose params carry our error code and the bad value, so that
 * messages name the value: `"500ms" is below the minimum of 1s`.
 */
import { z } from 'zod';
import type { RefinementCtx, ZodErrorMap } from 'zod';
import { formatNs, tryParseDuration } from './duration.ts';
import { describeValue } from './problems.ts';

export interface IssueParams {
  readonly code: string;
  readonly value: unknown;
}

export function addIssue(ctx: RefinementCtx, code: string, message: string, value: unknown): typeof z.NEVER {
  const params: IssueParams = { code, value };
  ctx.addIssue({ code: z.ZodIssueCode.custom, message, params });
  return z.NEVER;
}

const isUnset = (v: unknown): boolean => v === undefined || v === null || v === '';

function typeMismatch(ctx: RefinementCtx, expected: string, value: unknown): typeof z.NEVER {
  return addIssue(ctx, 'TYPE_MISMATCH', `expected ${expected}, got ${describeValue(value)}`, value);
}

/** A boolean (YAML true/false, and YAML 1.1 yes/no/on/off as Go's yaml.v2 accepts them). */
export function bool(def: boolean) {
  return z.any().transform((v, ctx): boolean => {
    if (v === undefined || v === null) return def;
    if (typeof v === 'boolean') return v;
    return typeMismatch(ctx, 'true or false', v);
  });
}

/** Text; numbers and booleans are read as their text. Empty means the default. */
export function str(def = '') {
  return z.any().transform((v, ctx): string => {
    if (isUnset(v)) return def;
    if (typeof v === 'string') return v;
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
    return typeMismatch(ctx, 'a string', v);
  });
}

/** Text that may be absent (no default): undefined when unset. */
export function optionalStr() {
  return z.any().transform((v, ctx): string | undefined => {
    if (isUnset(v)) return undefined;
    if (typeof v === 'string') return v;
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
    return typeMismatch(ctx, 'a string', v);
  });
}

export interface IntOptions {
  readonly min?: number;
  readonly max?: number;
  /** Go semantics for keys defaulted when zero: 0 means "use the default". */
  readonly zeroIsDefault?: boolean;
  readonly unit?: string;
}

function checkInt(ctx: RefinementCtx, v: unknown, o: IntOptions): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isInteger(v)) {
    return typeMismatch(ctx, 'an integer', v);
  }
  const unit = o.unit ? ` ${o.unit}` : '';
  if (o.min !== undefined && v < o.min) {
    return addIssue(ctx, 'VALUE_TOO_SMALL', `${v} is below the minimum of ${o.min}${unit}`, v);
  }
  if (o.max !== undefined && v > o.max) {
    return addIssue(ctx, 'VALUE_TOO_LARGE', `${v} is above the maximum of ${o.max}${unit}`, v);
  }
  return v;
}

/** An integer with a default (used when the key is absent, null, or 0 with zeroIsDefault). */
export function int(def: number, o: IntOptions = {}) {
  return z.any().transform((v, ctx): number => {
    if (v === undefined || v === null) return def;
    if (o.zeroIsDefault && v === 0) return def;
    return checkInt(ctx, v, o);
  });
}

/** An integer that may be absent (no default). Empty string counts as absent. */
export function optionalInt(o: IntOptions = {}) {
  return z.any().transform((v, ctx): number | undefined => (isUnset(v) ? undefined : checkInt(ctx, v, o)));
}

export interface DurationOptions {
  /** Minimum in milliseconds: smaller values are errors (DURATION_TOO_SMALL). */
  readonly minMs?: number;
}

/** A Go duration string, returned in milliseconds. */
export function duration(def: string, o: DurationOptions = {}) {
  return z.any().transform((v, ctx): number => {
    const text = isUnset(v) ? def : v;
    if (typeof text !== 'string' && !(typeof text === 'number' && Number.isFinite(text))) {
      return typeMismatch(ctx, 'a duration string such as "5s"', v);
    }
    const parsed = tryParseDuration(String(text));
    if (!parsed.ok) {
      return addIssue(ctx, 'DURATION_INVALID', `${describeValue(String(text))} is not a valid duration: ${parsed.reason}`, v);
    }
    if (o.minMs !== undefined && parsed.ms < o.minMs) {
      const min = formatNs(BigInt(Math.round(o.minMs * 1e6)), 'compact');
      return addIssue(ctx, 'DURATION_TOO_SMALL', `${describeValue(String(text))} is below the minimum of ${min}`, v);
    }
    return parsed.ms;
  });
}

export interface OneOfOptions {
  /** Accept any letter case and return the canonical spelling (Antrea does for some keys). */
  readonly caseInsensitive?: boolean;
}

/** One of a fixed set of strings; the default when unset. */
export function oneOf<const T extends string>(values: readonly T[], def: T, o: OneOfOptions = {}) {
  return z.any().transform((v, ctx): T => {
    if (isUnset(v)) return def;
    return matchOneOf(ctx, values, v, o);
  });
}

/** One of a fixed set of strings, or undefined when unset. */
export function optionalOneOf<const T extends string>(values: readonly T[], o: OneOfOptions = {}) {
  return z.any().transform((v, ctx): T | undefined => (isUnset(v) ? undefined : matchOneOf(ctx, values, v, o)));
}

function matchOneOf<T extends string>(ctx: RefinementCtx, values: readonly T[], v: unknown, o: OneOfOptions): T {
  const text = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  if (text === undefined) return typeMismatch(ctx, `one of ${values.map((x) => `"${x}"`).join(', ')}`, v);
  const exact = values.find((x) => x === text);
  if (exact !== undefined) return exact;
  const folded = values.find((x) => x.toLowerCase() === text.toLowerCase());
  if (folded !== undefined && o.caseInsensitive) return folded;
  const hint = folded !== undefined ? ` (did you mean "${folded}"? values are case-sensitive)` : '';
  return addIssue(
    ctx,
    'INVALID_ENUM',
    `${describeValue(v)} is not one of ${values.map((x) => `"${x}"`).join(', ')}${hint}`,
    v,
  );
}

/** A list item that must be one of a fixed set of strings. */
export function enumItem<const T extends string>(values: readonly T[], o: OneOfOptions = {}) {
  return z.any().transform((v, ctx): T => matchOneOf(ctx, values, v, o));
}

/** A boolean that may be absent, for switches whose default depends on other keys. */
export function optionalBool() {
  return z.any().transform((v, ctx): boolean | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    return typeMismatch(ctx, 'true or false', v);
  });
}

/** A duration that may be absent: its text and value in milliseconds, or undefined. */
export function optionalDuration() {
  return z.any().transform((v, ctx): { text: string; ms: number } | undefined => {
    if (isUnset(v)) return undefined;
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      return typeMismatch(ctx, 'a duration string such as "5s"', v);
    }
    const text = String(v);
    const parsed = tryParseDuration(text);
    if (!parsed.ok) return addIssue(ctx, 'DURATION_INVALID', `${describeValue(text)} is not a valid duration: ${parsed.reason}`, v);
    return { text, ms: parsed.ms };
  });
}

/** Text checked by `check`, which returns an explanation on failure; undefined when unset. */
export function checkedStr<R>(
  code: string,
  what: string,
  check: (text: string) => { ok: true; value: R } | { ok: false; reason: string },
) {
  return z.any().transform((v, ctx): { text: string; value: R } | undefined => {
    if (isUnset(v)) return undefined;
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) return typeMismatch(ctx, 'a string', v);
    const text = String(v);
    const result = check(text);
    if (!result.ok) return addIssue(ctx, code, `${describeValue(text)} is not a valid ${what}: ${result.reason}`, v);
    return { text, value: result.value };
  });
}

/** A list; absent or null is the empty list. */
export function list<T extends z.ZodTypeAny>(item: T) {
  return z.preprocess((v) => (v === undefined || v === null ? [] : v), z.array(item));
}

/** A mapping of known keys; absent or null is an empty mapping. Unknown keys are reported by the caller. */
export function section<T extends z.ZodRawShape>(shape: T) {
  return z.preprocess((v) => (v === undefined || v === null ? {} : v), z.object(shape).strict());
}

/**
 * Messages for zod's own issues (wrong container types), naming the bad value. Our builders
 * produce custom issues with their own messages.
 */
export const errorMap: ZodErrorMap = (issue, ctx) => {
  if (issue.code === z.ZodIssueCode.invalid_type) {
    const expected = issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : issue.expected;
    return { message: `expected ${expected}, got ${describeValue(ctx.data)}` };
  }
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    return { message: 'unknown key (ignored)' };
  }
  return { message: ctx.defaultError };
};
