/**
 * The DER/X.509 builder: encodings checked byte for byte, certificates read back by our parser, by
 * Node's X509Certificate and by `openssl verify -x509_strict`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransportError } from '../../errors.ts';
import { objectIdentifier, readNode, readObjectIdentifier, readTime, smallInteger, time, unsignedInteger } from './der.ts';
import { createCertificate, isSignedBy, keyIdentifier, parseCertificate } from './x509.ts';

const T0 = Date.UTC(2030, 0, 2, 3, 4, 5);

function key(): ReturnType<typeof generateKeyPairSync> {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

test('DER primitives: INTEGER minimal, OID base 128, UTCTime/GeneralizedTime', () => {
  assert.equal(smallInteger(0).toString('hex'), '020100');
  assert.equal(smallInteger(127).toString('hex'), '02017f');
  assert.equal(smallInteger(128).toString('hex'), '02020080');
  assert.equal(unsignedInteger(Buffer.from([0, 0, 0x12])).toString('hex'), '020112');
  assert.equal(unsignedInteger(Buffer.from([0xff, 0x01])).toString('hex'), '020300ff01');
  // ecdsa-with-SHA256 as it appears in every certificate
  assert.equal(objectIdentifier('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302');
  assert.equal(readObjectIdentifier(readNode(objectIdentifier('2.5.29.17'), 0)), '2.5.29.17');
  assert.equal(time(T0).toString('ascii', 2), '300102030405Z');
  const late = Date.UTC(2051, 11, 31, 23, 59, 59);
  assert.equal(time(late)[0], 0x18, 'GeneralizedTime from 2050 on');
  assert.equal(time(late).toString('ascii', 2), '20511231235959Z');
  assert.equal(readTime(readNode(time(T0 + 999), 0)), T0, 'whole seconds');
  assert.equal(readTime(readNode(time(late), 0)), late);
});

test('DER reader rejects truncated input with a typed error', () => {
  assert.throws(() => readNode(Buffer.from([0x30, 0x05, 0x01]), 0), (e: unknown) => e instanceof TransportError && e.code === 'BAD_CERTIFICATE');
  assert.throws(() => parseCertificate('not a certificate'), TransportError);
});

test('a CA and a leaf: fields read back, signature verified by Node and openssl -x509_strict', () => {
  const ca = key();
  const caPem = createCertificate({
    commonName: 'test-ca', organization: 'flowvis', publicKey: ca.publicKey, selfSigningKey: ca.privateKey,
    notBefore: T0, notAfter: T0 + 86_400_000 * 3650, isCa: true, keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'],
  });
  const caInfo = parseCertificate(caPem);
  assert.equal(caInfo.isCa, true);
  assert.equal(caInfo.subjectCommonName, 'test-ca');
  assert.deepEqual(caInfo.subjectNameDer, caInfo.issuerNameDer);
  assert.deepEqual(caInfo.subjectKeyId, keyIdentifier(ca.publicKey));
  assert.equal(caInfo.notAfter, T0 + 86_400_000 * 3650);

  const leaf = key();
  const leafPem = createCertificate({
    commonName: 'srv', publicKey: leaf.publicKey,
    issuer: { nameDer: caInfo.subjectNameDer, keyId: keyIdentifier(ca.publicKey), privateKey: ca.privateKey },
    notBefore: T0, notAfter: T0 + 86_400_000, isCa: false, keyUsage: ['digitalSignature'], extKeyUsage: ['serverAuth', 'clientAuth'],
    dnsNames: ['localhost', 'a.b.svc'], ipAddresses: ['127.0.0.1', '0:0:0:0:0:0:0:1', 'FD00::10'],
  });
  const info = parseCertificate(leafPem);
  assert.deepEqual([info.isCa, info.dnsNames, info.ipAddresses, info.extKeyUsage], [false, ['localhost', 'a.b.svc'], ['127.0.0.1', '::1', 'fd00::10'], ['serverAuth', 'clientAuth']]);
  assert.equal(info.serialHex.length, 32);
  assert.ok(isSignedBy(leafPem, caPem));
  assert.equal(isSignedBy(caPem, leafPem), false);

  const x = new X509Certificate(leafPem);
  assert.equal(x.checkHost('a.b.svc'), 'a.b.svc');
  assert.equal(x.checkIP('::1'), '::1');
  assert.equal(x.checkPrivateKey(leaf.privateKey), true);
  assert.equal(x.ca, false);
  assert.equal(new X509Certificate(caPem).ca, true);

  const dir = mkdtempSync(join(tmpdir(), 'flowvis-x509-'));
  try {
    writeFileSync(join(dir, 'ca.crt'), caPem);
    writeFileSync(join(dir, 'leaf.crt'), leafPem);
    const at = String(Math.floor(T0 / 1000) + 60);
    const out = execFileSync('openssl', ['verify', '-x509_strict', '-attime', at, '-purpose', 'sslserver', '-CAfile', join(dir, 'ca.crt'), join(dir, 'leaf.crt')], { encoding: 'utf8' });
    assert.match(out, /leaf\.crt: OK/);
    const text = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf.crt'), '-noout', '-text'], { encoding: 'utf8' });
    assert.match(text, /DNS:localhost, DNS:a\.b\.svc, IP Address:127\.0\.0\.1/);
    assert.match(text, /ecdsa-with-SHA256/);
    assert.match(text, /ASN1 OID: prime256v1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('createCertificate refuses non-P-256 keys and bad names', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const ec = key();
  const base = { commonName: 'x', notBefore: T0, notAfter: T0 + 1000, isCa: false, keyUsage: ['digitalSignature'] as const };
  assert.throws(() => createCertificate({ ...base, publicKey: rsa.publicKey, selfSigningKey: ec.privateKey }), (e: unknown) => e instanceof TransportError && e.code === 'BAD_KEY');
  assert.throws(() => createCertificate({ ...base, publicKey: ec.publicKey, selfSigningKey: ec.privateKey, ipAddresses: ['10.0.0'] }), (e: unknown) => e instanceof TransportError && e.code === 'BAD_NAME');
  assert.throws(() => createCertificate({ ...base, publicKey: ec.publicKey, selfSigningKey: ec.privateKey, dnsNames: ['a b'] }), TransportError);
});
