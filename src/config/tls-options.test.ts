import assert from 'node:assert/strict';
import { getCiphers } from 'node:tls';
import { describe, it } from 'node:test';
import { GO_CIPHER_SUITES, nodeCipherList, nodeTlsMinVersion, parseCipherSuiteList } from './tls-options.ts';

describe('TLS options', () => {
  it('splits and checks Go cipher suite lists', () => {
    assert.deepEqual(parseCipherSuiteList(''), { ok: true, suites: [] });
    assert.deepEqual(parseCipherSuiteList(' TLS_RSA_WITH_AES_128_GCM_SHA256 ,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,'), {
      ok: true,
      suites: ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
    });
    const unknown = parseCipherSuiteList('TLS_NOPE');
    assert.equal(unknown.ok, false);
    const tls13 = parseCipherSuiteList('TLS_CHACHA20_POLY1305_SHA256');
    assert.ok(!tls13.ok && /TLS 1\.3/.test(tls13.reason));
  });

  it('maps to OpenSSL names that this Node.js knows (modern suites)', () => {
    assert.equal(nodeCipherList([]), undefined);
    assert.equal(
      nodeCipherList(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256']),
      'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305',
    );
    const known = new Set(getCiphers().map((c) => c.toUpperCase()));
    for (const [go, openssl] of Object.entries(GO_CIPHER_SUITES)) {
      if (/RC4|3DES|DES-CBC3/.test(go + openssl)) continue; // removed from modern OpenSSL builds
      assert.ok(known.has(openssl), `${go} → ${openssl}`);
    }
  });

  it('maps Go version names to Node minVersion values', () => {
    assert.equal(nodeTlsMinVersion(undefined), 'TLSv1.2');
    assert.equal(nodeTlsMinVersion('VersionTLS13'), 'TLSv1.3');
    assert.equal(nodeTlsMinVersion('VersionTLS10'), 'TLSv1');
  });
});
