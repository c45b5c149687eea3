/**
 * TLS settings spelled the Go way in Antrea's files (apiServer.tlsMinVersion "VersionTLS12",
 * apiServer.tlsCipherSuites "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,..."), and their Node.js
 * (OpenSSL) equivalents for tls.createServer / tls.connect.
 */

export const TLS_VERSIONS = ['VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];

/** Versions accepted where Antrea accepts only TLS 1.2 and 1.3 (flowCollector.tls.minVersion). */
export const MODERN_TLS_VERSIONS = ['VersionTLS12', 'VersionTLS13'] as const;

const NODE_TLS_VERSION: Readonly<Record<TlsVersionName, 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'>> = {
  VersionTLS10: 'TLSv1',
  VersionTLS11: 'TLSv1.1',
  VersionTLS12: 'TLSv1.2',
  VersionTLS13: 'TLSv1.3',
};

/** Node's `minVersion` for a Go version name; TLS 1.2 when unset (the Go/Antrea default). */
export function nodeTlsMinVersion(name: TlsVersionName | undefined): 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3' {
  return NODE_TLS_VERSION[name ?? 'VersionTLS12'];
}

/**
 * Go crypto/tls cipher suite names (TLS 1.0–1.2) → OpenSSL names. TLS 1.3 suites are not
 * configurable (Go always enables them), as the Antrea configuration comments say.
 */
export const GO_CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  // Legacy Go aliases of the two above.
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};

const TLS13_SUITES = new Set(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']);

export type CipherSuiteListResult =
  | { readonly ok: true; readonly suites: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/** Splits and checks a comma-separated list of Go cipher suite names ("" is the empty list). */
export function parseCipherSuiteList(text: string): CipherSuiteListResult {
  const suites = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const suite of suites) {
    if (TLS13_SUITES.has(suite)) {
      return { ok: false, reason: `${suite} is a TLS 1.3 cipher suite, which cannot be configured (TLS 1.3 suites are always enabled)` };
    }
    if (!(suite in GO_CIPHER_SUITES)) return { ok: false, reason: `unknown cipher suite ${JSON.stringify(suite)}` };
  }
  return { ok: true, suites };
}

/** OpenSSL cipher list for Node's `ciphers` option; undefined means Node's default list. */
export function nodeCipherList(goSuites: readonly string[]): string | undefined {
  if (goSuites.length === 0) return undefined;
  return goSuites.map((s) => GO_CIPHER_SUITES[s] ?? s).join(':');
}
