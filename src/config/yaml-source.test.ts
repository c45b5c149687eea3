import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.ts';
import { configProblems } from './problems.ts';
import { MAX_CONFIG_BYTES, parseYamlSource } from './yaml-source.ts';

function syntaxProblems(text: string): ConfigError[] {
  try {
    parseYamlSource(text, 'test.conf');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CONFIG_SYNTAX');
    return [...configProblems(err)];
  }
  assert.fail(`expected a syntax error for ${JSON.stringify(text)}`);
}

describe('parseYamlSource', () => {
  it('resolves scalars like Go yaml.v2 (YAML 1.1 booleans and integers, no sexagesimal or timestamps)', () => {
    const { data } = parseYamlSource(
      'a: yes\nb: off\nc: Y\nd: 010\ne: 0x1F\nf: 1:30\ng: 2024-01-02\nh: 1e+06\ni: "true"\nj: ~\nk: 0b101\n',
      'x',
    );
    assert.deepEqual(data, { a: true, b: false, c: true, d: 8, e: 31, f: '1:30', g: '2024-01-02', h: 1_000_000, i: 'true', j: null, k: 5 });
  });

  it('gives null for an empty document or one with only comments', () => {
    assert.equal(parseYamlSource('', 'x').data, null);
    assert.equal(parseYamlSource('# nothing\n', 'x').data, null);
  });

  it('locates values and keys by path', () => {
    const src = parseYamlSource('a:\n  b: 1\n  list:\n  - x: 2\n', 'x');
    assert.deepEqual(src.locate(['a', 'b']), { line: 2, column: 6 });
    assert.deepEqual(src.locate(['a', 'b'], 'key'), { line: 2, column: 3 });
    assert.deepEqual(src.locate(['a', 'list', 0, 'x']), { line: 4, column: 8 });
    assert.deepEqual(src.locate(['a', 'missing']), { line: 2, column: 3 }, 'nearest present parent');
    assert.deepEqual(src.locate([]), { line: 1, column: 1 });
  });

  it('lets the last duplicate key win and lists duplicates', () => {
    const src = parseYamlSource('a: 1\nb:\n  c: 1\n  c: 2\na: 3\n', 'x');
    assert.deepEqual(src.data, { a: 3, b: { c: 2 } });
    assert.deepEqual(
      src.duplicateKeys.map((d) => [d.path.join('.'), d.position?.line]),
      [
        ['b.c', 4],
        ['a', 5],
      ],
    );
  });

  it('supports anchors, aliases and merge keys', () => {
    const { data } = parseYamlSource('base: &b {x: 1}\ncopy: *b\nmerged:\n  <<: *b\n  z: 2\n', 'x');
    assert.deepEqual(data, { base: { x: 1 }, copy: { x: 1 }, merged: { x: 1, z: 2 } });
  });

  it('keeps keys as written, as Go yaml.v2 does for struct fields', () => {
    const { data } = parseYamlSource('y: 1\non: 2\n010: 3\n1.5: 4\nnull: 5\n', 'x');
    assert.deepEqual(data, { y: 1, on: 2, '010': 3, '1.5': 4, null: 5 });
  });

  it('reports syntax errors with line and column', () => {
    const [p] = syntaxProblems('a: 1\nb: "open\n');
    assert.match(p?.message ?? '', /^invalid YAML: Missing closing "quote \(line \d, column \d+\)$/);
    assert.equal(typeof p?.context.line, 'number');
    const [q] = syntaxProblems('a:\n  b: 1\n c: 2\n');
    assert.equal(q?.context.line, 3);
    assert.equal(q?.context.column, 1);
  });

  it('refuses several documents, unknown aliases, alias bombs and collection keys', () => {
    assert.match(syntaxProblems('a: 1\n---\nb: 2\n')[0]?.message ?? '', /multiple documents/i);
    assert.match(syntaxProblems('a: *nowhere\n')[0]?.message ?? '', /alias/i);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    assert.match(syntaxProblems(bomb.join('\n'))[0]?.message ?? '', /alias/i);
    assert.match(syntaxProblems('? [a, b]\n: 1\n')[0]?.message ?? '', /keys must be plain scalars/);
    assert.match(syntaxProblems('? {a: 1}\n: 1\n')[0]?.message ?? '', /keys must be plain scalars/);
  });

  it('refuses oversized input', () => {
    assert.throws(
      () => parseYamlSource(`a: "${'x'.repeat(MAX_CONFIG_BYTES)}"`, 'big.conf'),
      (err: unknown) => err instanceof ConfigError && err.code === 'CONFIG_TOO_LARGE',
    );
  });
});
