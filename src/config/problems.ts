/**
 * Problems found in a configuration file, and how they become one ConfigError or a warning.
 *
 * Every problem names the key path ("flowExporter.flowPollInterval") and the bad value, and,
 * when known, the line and column where it is written. All problems of a file are collected and
 * thrown together: the ConfigError's message lists them one per line, its `cause` is an
 * AggregateError holding one ConfigError per problem (see configProblems()).
 */
import { ConfigError } from '../errors.ts';

export type ConfigPath = ReadonlyArray<string | number>;

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface ConfigProblem {
  /** Machine-readable code, e.g. DURATION_TOO_SMALL, TYPE_MISMATCH, UNKNOWN_KEY. */
  readonly code: string;
  readonly path: ConfigPath;
  /** What is wrong, without the key path (it is prefixed when formatted). */
  readonly message: string;
  readonly value?: unknown;
  readonly position?: Position | undefined;
}

/** A non-fatal finding (deprecated key, clamped value, ignored key). */
export interface ConfigWarning {
  readonly code: string;
  /** Key path, e.g. "flowExporter.activeFlowExportTimeout" ("" for the whole file). */
  readonly key: string;
  /** Full text, starting with the key path, e.g. `flowExporter.foo: unknown key (ignored)`. */
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/** "a.b[0].c" */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** A short, quoted rendering of a configuration value for messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const quoted = JSON.stringify(value);
    return quoted.length > 80 ? `${quoted.slice(0, 77)}..."` : quoted;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'binary data';
  if (value instanceof Map || value instanceof Set) return 'a YAML set/ordered map';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** One line of text for a problem: `key: message (line L, column C)`. */
export function formatProblem(problem: ConfigProblem): string {
  const key = formatPath(problem.path);
  const where = problem.position ? ` (line ${problem.position.line}, column ${problem.position.column})` : '';
  return `${key === '' ? '' : `${key}: `}${problem.message}${where}`;
}

export function problemToError(problem: ConfigProblem, source: string): ConfigError {
  return new ConfigError(problem.code, formatProblem(problem), {
    source,
    key: formatPath(problem.path),
    value: problem.value === undefined ? undefined : describeValue(problem.value),
    line: problem.position?.line,
    column: problem.position?.column,
  });
}

export function problemToWarning(problem: ConfigProblem): ConfigWarning {
  return {
    code: problem.code,
    key: formatPath(problem.path),
    message: formatProblem(problem),
    ...(problem.position ? { line: problem.position.line, column: problem.position.column } : {}),
  };
}

/**
 * One ConfigError for all problems of a file. `code` is CONFIG_INVALID (validation) or
 * CONFIG_SYNTAX (YAML); `context` names the first problem's key, line and column.
 */
export function problemsError(
  code: 'CONFIG_INVALID' | 'CONFIG_SYNTAX',
  source: string,
  problems: readonly ConfigProblem[],
  cause?: unknown,
): ConfigError {
  const sorted = [...problems].sort(
    (a, b) => (a.position?.line ?? Infinity) - (b.position?.line ?? Infinity) || (a.position?.column ?? 0) - (b.position?.column ?? 0),
  );
  const errors = sorted.map((p) => problemToError(p, source));
  const first = sorted[0];
  // Syntax problems read "invalid YAML: ..." on their own.
  const header =
    problems.length === 1
      ? `${source}: ${code === 'CONFIG_SYNTAX' ? '' : 'invalid configuration: '}${errors[0]?.message ?? ''}`
      : `${source}: ${code === 'CONFIG_SYNTAX' ? 'invalid YAML' : 'invalid configuration'} (${problems.length} problems):\n` +
        errors.map((e) => `  - ${e.message}`).join('\n');
  const aggregate = new AggregateError(errors, header);
  if (cause !== undefined) Object.defineProperty(aggregate, 'cause', { value: cause });
  return new ConfigError(
    code,
    header,
    {
      source,
      problems: problems.length,
      key: first ? formatPath(first.path) : undefined,
      line: first?.position?.line,
      column: first?.position?.column,
    },
    { cause: aggregate },
  );
}

/** The individual problems of a ConfigError thrown by the parsers (the error itself if it has none). */
export function configProblems(err: ConfigError): readonly ConfigError[] {
  const cause = err.cause;
  if (cause instanceof AggregateError && cause.errors.every((e) => e instanceof ConfigError)) {
    return cause.errors as ConfigError[];
  }
  return [err];
}

/** Collects problems and warnings while a file is validated. */
export class ProblemCollector {
  readonly errors: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];

  constructor(private readonly locate: (path: ConfigPath, at?: 'value' | 'key') => Position | undefined) {}

  /** Records an error, unless the same key (or a key inside it, or its parent) already has one. */
  error(path: ConfigPath, code: string, message: string, value?: unknown): void {
    if (this.errors.some((e) => overlaps(e.path, path))) return;
    this.errors.push({ code, path, message, value, position: this.locate(path) });
  }

  warn(path: ConfigPath, code: string, message: string, value?: unknown, at: 'value' | 'key' = 'value'): void {
    this.warnings.push({ code, path, message, value, position: this.locate(path, at) });
  }

  /** Reports as an error when `fatal`, else as a warning (problems in disabled sections). */
  report(fatal: boolean, path: ConfigPath, code: string, message: string, value?: unknown): void {
    if (fatal) this.error(path, code, message, value);
    else this.warn(path, code, `${message}; ignored because this section is disabled`, value);
  }
}

function overlaps(a: ConfigPath, b: ConfigPath): boolean {
  if (a.length === 0 || b.length === 0) return false;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
