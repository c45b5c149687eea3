/**
 * The aggregator's PKI: names, key type, validity, the renewal rules (with an injected clock), the
 * directory store (reuse on restart, file modes) and a real mutual-TLS handshake with the result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { DirectoryPkiStore } from './directory-store.ts';
import { CertificateManager } from './manager.ts';
import {
  BACKDATE_MS, DEFAULT_CA_VALIDITY_MS, DEFAULT_LEAF_VALIDITY_MS, generatePki, issueServerCertificate, planRenewal, serverNames, type Pki, type RenewalPlan,
} from './pki.ts';
import { defaultPkiDir, defaultStateDir, defaultTokenFile } from './paths.ts';
import { parseCertificate } from './x509.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2031, 5, 1);

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'flowvis-pki-'));
}

test('server names: flowAggregatorAddress, the Service names, loopback and extras, deduplicated', () => {
  assert.deepEqual(serverNames({ flowAggregatorAddress: 'fa.example.com', extraDnsNames: ['Other.Name', 'localhost'], extraIpAddresses: ['10.0.0.9', '::FFFF:10.0.0.9'] }), {
    dnsNames: ['fa.example.com', 'flow-aggregator', 'flow-aggregator.flow-aggregator', 'flow-aggregator.flow-aggregator.svc',
      'flow-aggregator.flow-aggregator.svc.cluster.local', 'localhost', 'other.name'],
    ipAddresses: ['127.0.0.1', '::1', '10.0.0.9', '::ffff:10.0.0.9'],
  });
  const v6 = serverNames({ flowAggregatorAddress: '[fd00:10::5]', namespace: 'fa' });
  assert.deepEqual(v6.ipAddresses, ['fd00:10::5', '127.0.0.1', '::1']);
  assert.ok(v6.dnsNames.includes('flow-aggregator.fa.svc'));
});

test('generatePki: ECDSA P-256 everywhere, SANs, usages, validity backdated by an hour', () => {
  const pki = generatePki({ flowAggregatorAddress: '10.96.0.50', now: () => T0 });
  for (const part of ['ca', 'server', 'client'] as const) {
    const k = createPrivateKey(pki[part].key);
    assert.equal(k.asymmetricKeyDetails?.namedCurve, 'prime256v1', part);
    assert.match(pki[part].key, /^-----BEGIN PRIVATE KEY-----/);
  }
  const ca = parseCertificate(pki.ca.cert);
  const server = parseCertificate(pki.server.cert);
  const client = parseCertificate(pki.client.cert);
  assert.equal(ca.isCa, true);
  assert.equal(ca.notBefore, T0 - BACKDATE_MS);
  assert.equal(ca.notAfter, T0 - BACKDATE_MS + DEFAULT_CA_VALIDITY_MS);
  assert.equal(server.notAfter - server.notBefore, DEFAULT_LEAF_VALIDITY_MS);
  assert.deepEqual(server.ipAddresses, ['10.96.0.50', '127.0.0.1', '::1']);
  assert.ok(server.dnsNames.includes('flow-aggregator.flow-aggregator.svc'));
  assert.deepEqual([server.extKeyUsage, client.extKeyUsage], [['serverAuth'], ['clientAuth']]);
  assert.deepEqual(client.dnsNames, []);
  assert.match(client.subjectCommonName, /^flow-aggregator-client-certificate@\d+$/);
  assert.deepEqual(planRenewal(pki, { flowAggregatorAddress: '10.96.0.50', now: () => T0 }), {});
});

test('planRenewal: leaves renewed when under a third of their life remains, the CA kept', () => {
  const opts = { now: () => T0 };
  const pki = generatePki(opts);
  const at = (ms: number): RenewalPlan => planRenewal(pki, { now: () => ms });
  const leafStart = T0 - BACKDATE_MS;
  assert.deepEqual(at(leafStart + (DEFAULT_LEAF_VALIDITY_MS * 2) / 3 - 1000), {});
  assert.deepEqual(at(leafStart + (DEFAULT_LEAF_VALIDITY_MS * 2) / 3 + 1000), { server: 'expiring', client: 'expiring' });
  assert.deepEqual(at(leafStart + DEFAULT_LEAF_VALIDITY_MS + DAY), { server: 'expiring', client: 'expiring' });
  assert.deepEqual(at(leafStart + (DEFAULT_CA_VALIDITY_MS * 2) / 3 + DAY), { ca: 'expiring', server: 'ca-renewed', client: 'ca-renewed' });
  assert.deepEqual(at(leafStart - 1000), { ca: 'not-yet-valid', server: 'ca-renewed', client: 'ca-renewed' });
});

test('planRenewal: missing, unreadable, mismatched, foreign-signed and renamed parts', () => {
  const opts = { now: () => T0 };
  const pki = generatePki(opts);
  const other = generatePki(opts);
  assert.deepEqual(planRenewal(undefined, opts), { ca: 'missing', server: 'ca-renewed', client: 'ca-renewed' });
  assert.deepEqual(planRenewal({ ca: pki.ca }, opts), { server: 'missing', client: 'missing' });
  assert.deepEqual(planRenewal({ ...pki, client: { cert: 'garbage', key: pki.client.key } }, opts), { client: 'unreadable' });
  assert.deepEqual(planRenewal({ ...pki, server: { cert: pki.server.cert, key: pki.client.key } }, opts), { server: 'key-mismatch' });
  assert.deepEqual(planRenewal({ ...pki, client: other.client }, opts), { client: 'not-signed-by-ca' });
  assert.deepEqual(planRenewal({ ...pki, ca: pki.server }, opts), { ca: 'unreadable', server: 'ca-renewed', client: 'ca-renewed' }, 'a leaf is not a CA');
  assert.deepEqual(planRenewal(pki, { ...opts, flowAggregatorAddress: 'fa.example.com' }), { server: 'names-changed' });
  const renamed = issueServerCertificate(pki.ca, { ...opts, flowAggregatorAddress: 'fa.example.com' });
  assert.deepEqual(planRenewal({ ...pki, server: renamed }, { ...opts, flowAggregatorAddress: 'FA.example.com' }), {});
});

test('directory store: written with 0600 keys, reused on restart, leaves rotated with the CA kept', async () => {
  const dir = await tempDir();
  try {
    let now = T0;
    const make = (): CertificateManager => new CertificateManager({ store: new DirectoryPkiStore(join(dir, 'pki')), now: () => now, caFile: join(dir, 'cli', 'ca.crt') });
    const first = make();
    assert.deepEqual(await first.start(), { ca: 'missing', server: 'ca-renewed', client: 'ca-renewed' });
    const pki = first.current;
    for (const [f, mode] of [['ca.key', 0o600], ['tls.key', 0o600], ['client.key', 0o600], ['ca.crt', 0o644], ['tls.crt', 0o644], ['client.crt', 0o644]] as const) {
      assert.equal((await stat(join(dir, 'pki', f))).mode & 0o777, mode, f);
    }
    assert.equal(await readFile(join(dir, 'pki', 'client.key'), 'utf8'), pki.client.key);
    assert.equal(await readFile(join(dir, 'cli', 'ca.crt'), 'utf8'), pki.ca.cert);

    now += 100 * DAY;
    const restarted = make();
    assert.deepEqual(await restarted.start(), {});
    assert.deepEqual(restarted.current, pki, 'same files after a restart');

    const seen: [Pki, RenewalPlan][] = [];
    restarted.onRenew((p, why) => seen.push([p, why]));
    now = T0 + 250 * DAY; // under a third of the year left
    assert.deepEqual(await restarted.check(), { server: 'expiring', client: 'expiring' });
    const rotated = restarted.current;
    assert.deepEqual(rotated.ca, pki.ca, 'the CA is kept');
    assert.notEqual(rotated.server.cert, pki.server.cert);
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0][1], { server: 'expiring', client: 'expiring' });
    assert.equal(await readFile(join(dir, 'pki', 'tls.crt'), 'utf8'), rotated.server.cert);
    assert.equal(await readFile(join(dir, 'pki', 'ca.crt'), 'utf8'), pki.ca.cert);
    assert.deepEqual(await restarted.check(), {}, 'nothing more to do');
    assert.equal(restarted.counters.renewals, 1);

    // A key replaced by hand (e.g. a corrupted file) is repaired on the next start.
    await writeFile(join(dir, 'pki', 'client.key'), 'broken');
    assert.deepEqual(await make().start(), { client: 'unreadable' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the generated pair works for mutual TLS with the Service name agents use', async () => {
  const pki = generatePki();
  const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
    s.end(`hello ${(s.getPeerCertificate().subject as { CN?: string }).CN ?? ''}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const talk = (opts: tls.ConnectionOptions): Promise<string> => new Promise((resolve, reject) => {
    const c = tls.connect({ port, host: '127.0.0.1', ...opts }, () => undefined);
    let text = '';
    c.on('data', (d: Buffer) => (text += d.toString()));
    c.on('end', () => resolve(text));
    c.on('error', reject);
  });
  try {
    const reply = await talk({ servername: 'flow-aggregator.flow-aggregator.svc', ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key });
    assert.match(reply, /^hello flow-aggregator-client-certificate@/);
    assert.ok(new X509Certificate(pki.server.cert).checkHost('flow-aggregator.flow-aggregator.svc'));
    await assert.rejects(talk({ servername: 'elsewhere.example', ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key }), /altnames|Hostname/i);
    // A client certificate from another CA: TLS 1.3 reports the server's refusal after the
    // client's handshake, as an error or an empty stream; never a reply.
    const stranger = generatePki();
    const refused = await talk({ servername: 'localhost', ca: pki.ca.cert, cert: stranger.client.cert, key: stranger.client.key }).catch((e: Error) => `error: ${e.message}`);
    assert.doesNotMatch(refused, /^hello/);
  } finally {
    server.close();
  }
});

test('default paths: FLOWVIS_STATE_DIR, root, XDG_STATE_HOME', () => {
  assert.equal(defaultStateDir({ FLOWVIS_STATE_DIR: '/s' }, 1000), '/s');
  assert.equal(defaultStateDir({}, 0), '/var/run/flowvis');
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x' }, 1000), '/x/flowvis');
  assert.equal(defaultPkiDir({}, 0), '/var/run/flowvis/pki');
  assert.equal(defaultTokenFile({}, 0), '/var/run/flowvis/api-token');
});
