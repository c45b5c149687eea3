import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_NFLOG_PREFIX_FORMAT, compileNflogPrefixFormat } from './nflog-prefix.ts';
import type { CompiledNflogPrefix } from './nflog-prefix.ts';

function compile(format: string): CompiledNflogPrefix {
  const r = compileNflogPrefixFormat(format);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.compiled;
}

describe('compileNflogPrefixFormat', () => {
  it('reads the fields of the default format', () => {
    const p = compile(DEFAULT_NFLOG_PREFIX_FORMAT);
    assert.deepEqual(p.placeholders, ['direction', 'action', 'namespace', 'name', 'rule']);
    assert.deepEqual(p.match('fv:Ingress:Drop:default/deny-web:rule1'), {
      direction: 'Ingress',
      action: 'Drop',
      namespace: 'default',
      name: 'deny-web',
      rule: 'rule1',
    });
    assert.deepEqual(p.match('fv:Egress:Reject:/cluster-deny:'), {
      direction: 'Egress',
      action: 'Reject',
      namespace: '',
      name: 'cluster-deny',
      rule: '',
    });
    assert.equal(p.match('DROP9999 '), undefined);
    assert.equal(p.match('fv:Ingress:Drop:default/deny web:r'), undefined);
  });

  it('matches literal text and ignores trailing spaces', () => {
    const p = compile('DENY {action} {namespace}/{name}');
    assert.deepEqual(p.match('DENY Drop prod/db-only '), { action: 'Drop', namespace: 'prod', name: 'db-only' });
    assert.deepEqual(compile('DROP9999 ').match('DROP9999 '), {});
    assert.equal(compile('a.b').match('axb'), undefined, 'literal dots are not wildcards');
  });

  it('refuses bad formats with a reason', () => {
    const reason = (f: string) => {
      const r = compileNflogPrefixFormat(f);
      assert.equal(r.ok, false, f);
      return r.ok ? '' : r.reason;
    };
    assert.match(reason(''), /empty/);
    assert.match(reason('{policy}'), /unknown placeholder \{policy\}/);
    assert.match(reason('{name}-{name}'), /more than once/);
    assert.match(reason('{name'), /unbalanced/);
    assert.match(reason('name}'), /unbalanced/);
    assert.match(reason('x'.repeat(128)), /127-byte/);
  });
});
