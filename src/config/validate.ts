/**
 * Runs a file's zod schema over its YAML data and sorts the issues into errors and warnings.
 *
 * Antrea validates a section only when it is enabled (flowExporter when the FlowExporter feature
 * gate and flowExporter.enable are on; clickHouse when clickHouse.enable, ...), so a file that
 * Antrea accepts must not be refused here. Problems inside a disabled section are therefore
 * reported as warnings and the offending keys fall back to their defaults; unknown keys are
 * always warnings and are ignored. Everything else is an error, and all errors are thrown
 * together.
 */
import type { z } from 'zod';
import type { ConfigPath } from './problems.ts';
import { ProblemCollector, describeValue, problemToWarning, problemsError } from './problems.ts';
import type { ConfigWarning } from './problems.ts';
import { errorMap } from './fields.ts';
import type { IssueParams } from './fields.ts';
import type { YamlSource } from './yaml-source.ts';

export interface ParseOptions {
  /** Name of the file for messages (default "antrea-agent.conf" / "flow-aggregator.conf"). */
  readonly source?: string;
  /** Environment for values that Antrea takes from it (AWS_REGION); default: none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface ConfigResult<T> {
  readonly config: T;
  readonly warnings: readonly ConfigWarning[];
}

export interface SchemaRules {
  /** File name used in messages. */
  readonly source: string;
  /** False when the key at `path` lies in a section that is disabled in `raw` (problems become warnings). */
  isFatal(path: ConfigPath, raw: Record<string, unknown>): boolean;
  /** Extra words for an unknown key, e.g. "a key of Antrea v2.4+, not supported here". */
  describeUnknownKey?(path: ConfigPath): string | undefined;
}

const MAX_PASSES = 6;

/**
 * Parses `yaml.data` with `schema`. Returns the parsed value (keys in error replaced by their
 * defaults) and a collector holding the errors and warnings found so far; the caller adds its
 * cross-key checks and then calls throwIfErrors().
 */
export function runSchema<T>(
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  yaml: YamlSource,
  rules: SchemaRules,
): { value: T; problems: ProblemCollector } {
  const problems = new ProblemCollector(yaml.locate);
  if (yaml.data !== null && (typeof yaml.data !== 'object' || Array.isArray(yaml.data))) {
    problems.error([], 'TYPE_MISMATCH', `the file must be a YAML mapping of keys, got ${describeValue(yaml.data)}`);
    throw problemsError('CONFIG_INVALID', rules.source, problems.errors);
  }
  const raw: Record<string, unknown> = yaml.data === null ? {} : structuredClone(yaml.data as Record<string, unknown>);

  // Each pass removes the keys that failed (their defaults apply) so that the remaining keys,
  // and then the cross-key checks of the caller, still run and all problems are reported at once.
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const result = schema.safeParse(raw, { errorMap });
    if (result.success) return { value: result.data, problems };
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const path = [...issue.path, key];
          const extra = rules.describeUnknownKey?.(path);
          const message = extra ? `unknown key (ignored: ${extra})` : 'unknown key (ignored)';
          problems.warn(path, 'UNKNOWN_KEY', message, undefined, 'key');
          deletePath(raw, path, false);
        }
        continue;
      }
      const params = (issue.code === 'custom' ? issue.params : undefined) as IssueParams | undefined;
      const code = params?.code ?? 'TYPE_MISMATCH';
      const value = params ? params.value : valueAt(raw, issue.path);
      problems.report(rules.isFatal(issue.path, raw), issue.path, code, issue.message, value);
      deletePath(raw, issue.path, true);
    }
  }
  // Unreachable in practice: every pass removes the keys that failed.
  throw problemsError('CONFIG_INVALID', rules.source, [
    ...problems.errors,
    { code: 'INTERNAL', path: [], message: 'configuration could not be validated' },
  ]);
}

/** Duplicate keys become warnings (the last occurrence wins, as in Antrea's lenient decoding). */
export function warnDuplicateKeys(yaml: YamlSource, problems: ProblemCollector, relevant: (path: ConfigPath) => boolean): void {
  for (const dup of yaml.duplicateKeys) {
    if (!relevant(dup.path)) continue;
    problems.warnings.push({
      code: 'DUPLICATE_KEY',
      path: dup.path,
      message: 'key is given more than once (the last value is used)',
      position: dup.position,
    });
  }
}

/** The warnings in file order (those without a position last). */
export function collectWarnings(problems: ProblemCollector): ConfigWarning[] {
  const line = (p: { position?: { line: number; column: number } | undefined }) => p.position?.line ?? Infinity;
  const column = (p: { position?: { line: number; column: number } | undefined }) => p.position?.column ?? 0;
  return [...problems.warnings].sort((a, b) => line(a) - line(b) || column(a) - column(b)).map(problemToWarning);
}

export function throwIfErrors(problems: ProblemCollector, source: string): void {
  if (problems.errors.length > 0) throw problemsError('CONFIG_INVALID', source, problems.errors);
}

/**
 * A section's on/off switch read from unvalidated data: its default when absent, the value when
 * it is a boolean, and true when it is malformed (so that the problems of that section surface).
 */
export function switchOn(raw: unknown, path: ConfigPath, def: boolean): boolean {
  const v = valueAt(raw, path);
  if (v === undefined || v === null) return def;
  return typeof v === 'boolean' ? v : true;
}

export function valueAt(raw: unknown, path: ConfigPath): unknown {
  let node = raw;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/**
 * Removes the key at `path` so that its default applies. With `wholeList`, a path into a list
 * removes the whole list (a list with a hole would be wrong in a different way).
 */
function deletePath(raw: Record<string, unknown>, path: ConfigPath, wholeList: boolean): void {
  let cut = path;
  if (wholeList) {
    const firstIndex = path.findIndex((s) => typeof s === 'number');
    if (firstIndex >= 0) cut = path.slice(0, firstIndex);
  }
  if (cut.length === 0) return;
  const parent = valueAt(raw, cut.slice(0, -1));
  const last = cut[cut.length - 1];
  if (parent !== null && typeof parent === 'object' && last !== undefined) {
    delete (parent as Record<string | number, unknown>)[last];
  }
}
