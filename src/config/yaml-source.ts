/**
 * YAML text → plain data, with positions for error messages.
 *
 * Scalars resolve like Go's gopkg.in/yaml.v2, which Antrea uses to read both files (YAML 1.1
 * booleans yes/no/on/off/y/n, 0x/0b/0-octal integers), except that YAML 1.1 sexagesimal numbers
 * ("1:30") and timestamps stay strings, as they do in yaml.v2. Duplicate keys are tolerated (the
 * last one wins, like Antrea's lenient decoding) and reported as warnings by the caller.
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node, Pair, Tags } from 'yaml';
import { ConfigError } from '../errors.ts';
import type { ConfigProblem, ConfigPath, Position } from './problems.ts';
import { problemsError } from './problems.ts';

/** Refuse inputs far larger than any real configuration file. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const MAX_ALIAS_COUNT = 100;

export type { Position };

export interface YamlSource {
  /** The document as plain data: null for an empty document. */
  readonly data: unknown;
  /** Where the value at `path` (or, with at = 'key', its key) is written, or its nearest present parent. */
  locate(path: ConfigPath, at?: 'value' | 'key'): Position | undefined;
  /** Keys that occur more than once in one mapping (the last occurrence wins). */
  readonly duplicateKeys: ReadonlyArray<{ readonly path: ConfigPath; readonly position: Position | undefined }>;
}

function withoutSexagesimalAndTimestamps(tags: Tags): Tags {
  return tags.filter((tag) => {
    if (typeof tag !== 'object') return true;
    if (tag.tag === 'tag:yaml.org,2002:timestamp') return false;
    return tag.format !== 'TIME';
  });
}

/** Parses YAML text; syntax errors become one ConfigError (code CONFIG_SYNTAX) with line/column. */
export function parseYamlSource(text: string, source: string): YamlSource {
  if (text.length > MAX_CONFIG_BYTES) {
    throw new ConfigError('CONFIG_TOO_LARGE', `${source}: configuration is larger than ${MAX_CONFIG_BYTES} bytes`, {
      source,
      size: text.length,
    });
  }
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, {
      version: '1.1',
      customTags: withoutSexagesimalAndTimestamps,
      uniqueKeys: false,
      lineCounter,
      prettyErrors: false,
    });
  } catch (err) {
    throw syntaxError(source, [{ message: `YAML parser failed: ${errorMessage(err)}` }], err);
  }
  if (doc.errors.length > 0) {
    throw syntaxError(
      source,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { message: e.message, position: { line: pos.line, column: pos.col } };
      }),
    );
  }
  const position = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined;
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };

  keepKeysAsWritten(doc);
  const nonScalarKey = findNonScalarKey(doc);
  if (nonScalarKey !== undefined) {
    throw syntaxError(source, [
      { message: 'mapping keys must be plain scalars, not lists or mappings', position: position(nonScalarKey) },
    ]);
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw syntaxError(source, [{ message: errorMessage(err) }], err);
  }

  const locate = (path: ConfigPath, at: 'value' | 'key' = 'value'): Position | undefined => {
    let node: unknown = doc.contents;
    let best: number | undefined = rangeStart(node);
    for (const [i, segment] of path.entries()) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (pair === undefined) return position(best);
        best = rangeStart(pair.key) ?? best;
        if (at === 'key' && i === path.length - 1) return position(best);
        node = pair.value;
        if (node === null || isAlias(node)) return position(best);
        best = rangeStart(node) ?? best;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
        if (node === undefined || node === null) return position(best);
        best = rangeStart(node) ?? best;
      } else {
        return position(best);
      }
    }
    return position(best);
  };

  return { data, locate, duplicateKeys: findDuplicateKeys(doc, position) };
}

function rangeStart(node: unknown): number | undefined {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const range = (node as Node).range;
    return range?.[0];
  }
  return undefined;
}

/** Keys stay text ("y", "on", "010"), as Go's yaml.v2 reads them into struct field names. */
function keepKeysAsWritten(doc: Document.Parsed): void {
  visit(doc, {
    Pair(_key, pair) {
      const key = pair.key;
      const resolved = isScalar(key) ? key.value : undefined;
      const nonText = resolved === null || typeof resolved === 'number' || typeof resolved === 'boolean';
      if (isScalar(key) && nonText && typeof key.source === 'string' && key.source !== '') {
        key.value = key.source;
      }
    },
  });
}

function findNonScalarKey(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  visit(doc, {
    Pair(_key, pair) {
      // Aliases as keys are refused too: Antrea's files never use them.
      if (pair.key !== null && !isScalar(pair.key)) {
        offset = rangeStart(pair.key) ?? 0;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return offset;
}

function findDuplicateKeys(
  doc: Document.Parsed,
  position: (offset: number | undefined) => Position | undefined,
): YamlSource['duplicateKeys'] {
  const found: Array<{ path: ConfigPath; position: Position | undefined }> = [];
  const walk = (node: unknown, path: ConfigPath): void => {
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items as Pair[]) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (seen.has(key)) found.push({ path: [...path, key], position: position(rangeStart(pair.key)) });
        seen.add(key);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(doc.contents, []);
  return found;
}

function syntaxError(
  source: string,
  issues: ReadonlyArray<{ message: string; position?: Position | undefined }>,
  cause?: unknown,
): ConfigError {
  const problems: ConfigProblem[] = issues.map((issue) => ({
    code: 'YAML_SYNTAX',
    path: [],
    message: `invalid YAML: ${firstLine(issue.message)}`,
    position: issue.position,
  }));
  return problemsError('CONFIG_SYNTAX', source, problems, cause);
}

function firstLine(message: string): string {
  // The yaml library appends " at line L, column C:" and a source excerpt; we print our own.
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
