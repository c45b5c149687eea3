/** The API's small parts: exact-integer JSON, /flowrecords parameters, the token file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../errors.ts';
import { parseFlowRecordsQuery } from './flow-query.ts';
import { formatJson, parseJson } from './json.ts';
import { loadOrCreateToken, readTokenFile, tokenMatches } from './token.ts';

test('parseJson: integers beyond 2^53 become bigints, everything else as JSON.parse', () => {
  const text = '{"a":18446744073709551615,"b":-9223372036854775808,"c":9007199254740991,"d":1.5e3,"e":[true,false,null,"x\\"\\u00e9"],"f":{},"g":[]}';
  assert.deepEqual(parseJson(text), {
    a: 18446744073709551615n, b: -9223372036854775808n, c: 9007199254740991, d: 1500, e: [true, false, null, 'x"é'], f: {}, g: [],
  });
  assert.deepEqual(parseJson(' [ 1 , {"__proto__": 2} ] '), [1, JSON.parse('{"__proto__": 2}')]);
  for (const bad of ['', '{', '[1,]', '{"a" 1}', '"\u0001"', '01', 'tru', '[1] x', '"abc']) {
    assert.throws(() => parseJson(bad), (e: unknown) => e instanceof ApiError && e.code === 'BAD_RESPONSE', JSON.stringify(bad));
  }
});

test('formatJson: indented or compact, bigints exact, round-trips through parseJson', () => {
  const v = { n: 2n ** 64n - 1n, s: 'a', list: [1, { x: null }], empty: [], skip: undefined };
  assert.equal(formatJson(v, 0), '{"n":18446744073709551615,"s":"a","list":[1,{"x":null}],"empty":[]}');
  assert.equal(formatJson([{ a: 1n }]), '[\n  {\n    "a": 1\n  }\n]');
  assert.deepEqual(parseJson(formatJson(v)), { n: 2n ** 64n - 1n, s: 'a', list: [1, { x: null }], empty: [] });
});

test('flowrecords parameters: canonical addresses, protocol names, any-values, complete tuple, limit', () => {
  const q = (s: string): ReturnType<typeof parseFlowRecordsQuery> => parseFlowRecordsQuery(new URLSearchParams(s), 100, 20);
  assert.deepEqual(q('srcip=FD00::0:1&dstip=10.0.0.2&proto=TCP&srcport=1&dstport=65535'), {
    filter: { srcip: 'fd00::1', dstip: '10.0.0.2', proto: 6, srcport: 1, dstport: 65535 }, complete: true, limit: 20,
  });
  assert.deepEqual(q('srcip=&proto=0&srcport=0&limit=100'), { filter: { srcip: '', dstip: '', proto: 0, srcport: 0, dstport: 0 }, complete: false, limit: 100 });
  assert.equal(q('proto=icmpv6').filter.proto, 58);
  assert.equal(q('proto=sctp').filter.proto, 132);
  assert.equal(q('srcip=10.0.0.1&dstip=10.0.0.2&proto=6&srcport=1&dstport=0').complete, false, 'port 0 means any');
  assert.throws(() => q('limit=101'), (e: unknown) => e instanceof ApiError && e.context.parameter === 'limit');
  assert.throws(() => q('srcport=1e3'), (e: unknown) => e instanceof ApiError && e.context.parameter === 'srcport');
});

test('token file: created random with mode 0600, reused, checked; clients get clear errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flowvis-token-'));
  try {
    const path = join(dir, 'sub', 'api-token');
    const token = await loadOrCreateToken(path);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(await readFile(path, 'utf8'), token + '\n');
    assert.equal(await loadOrCreateToken(path), token, 'reused');
    assert.equal(await readTokenFile(path), token);
    assert.ok(tokenMatches(token, token));
    assert.equal(tokenMatches(token.slice(0, -1), token), false);

    await writeFile(path, 'my-own-token-of-sufficient-length\n', { mode: 0o644 });
    assert.equal(await loadOrCreateToken(path), 'my-own-token-of-sufficient-length');
    assert.equal((await stat(path)).mode & 0o777, 0o600, 'permissions tightened');
    await writeFile(path, 'short');
    await assert.rejects(loadOrCreateToken(path), (e: unknown) => e instanceof ApiError && e.code === 'TOKEN_FILE');
    await writeFile(path, '');
    assert.notEqual(await loadOrCreateToken(path), token, 'an empty file gets a new token');
    await assert.rejects(readTokenFile(join(dir, 'missing')), /token file .*missing does not exist/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
