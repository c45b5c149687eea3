/** Assertions shared by the configuration tests. */
import assert from 'node:assert/strict';
import { ConfigError } from '../errors.ts';
import { configProblems } from './problems.ts';

export interface ExpectedProblem {
  readonly key: string;
  readonly code: string;
  readonly message?: RegExp;
  readonly line?: number;
}

/** Runs `parse`, expects a ConfigError, and checks that its problems are exactly `expected` (any order). */
export function expectProblems(parse: () => unknown, expected: readonly ExpectedProblem[]): ConfigError {
  let caught: unknown;
  try {
    parse();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  const problems = configProblems(caught);
  const summary = problems.map((p) => `${p.code} ${p.message}`).join('\n');
  assert.equal(problems.length, expected.length, `problems:\n${summary}`);
  for (const want of expected) {
    const found = problems.find((p) => p.context.key === want.key && p.code === want.code);
    assert.ok(found, `no ${want.code} problem for ${want.key}; problems:\n${summary}`);
    if (want.message) assert.match(found.message, want.message);
    if (want.line !== undefined) assert.equal(found.context.line, want.line, found.message);
    assert.ok(found.message.startsWith(want.key === '' ? '' : `${want.key}: `), found.message);
  }
  return caught;
}

/** The single problem of a parse that must fail. */
export function expectProblem(parse: () => unknown, expected: ExpectedProblem): ConfigError {
  return expectProblems(parse, [expected]);
}

/** Warning codes by key, for compact assertions. */
export function warningKeys(warnings: ReadonlyArray<{ key: string; code: string }>): string[] {
  return warnings.map((w) => `${w.code} ${w.key}`).sort();
}
