/**
 * A throw-away PKI for TLS tests, made with the openssl CLI in a temporary directory (ECDSA P-256
 * keys, valid for one day): a CA with a server certificate (SAN localhost, 127.0.0.1, ::1) and a
 * client certificate, plus a second, unrelated CA with its own client certificate.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
  certPath: string;
  keyPath: string;
}

export interface TestPki {
  dir: string;
  ca: KeyPair;
  server: KeyPair;
  client: KeyPair;
  /** A CA the collector does not trust, and a client certificate it signed. */
  otherCa: KeyPair;
  otherClient: KeyPair;
  cleanup(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 20_000 });
}

async function load(dir: string, name: string): Promise<KeyPair> {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  return { cert: await readFile(certPath), key: await readFile(keyPath), certPath, keyPath };
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, [
    'req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

async function makeLeaf(dir: string, name: string, ca: string, cn: string, extensions: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  await openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`,
  ]);
}

export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'flowvis-pki-'));
  try {
    await Promise.all([makeCa(dir, 'ca', 'flowvis-test-ca'), makeCa(dir, 'other-ca', 'flowvis-other-ca')]);
    await Promise.all([
      makeLeaf(dir, 'server', 'ca', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n'),
      makeLeaf(dir, 'client', 'ca', 'flowvis-test-exporter', 'extendedKeyUsage=clientAuth\n'),
      makeLeaf(dir, 'other-client', 'other-ca', 'flowvis-intruder', 'extendedKeyUsage=clientAuth\n'),
    ]);
    return {
      dir,
      ca: await load(dir, 'ca'),
      server: await load(dir, 'server'),
      client: await load(dir, 'client'),
      otherCa: await load(dir, 'other-ca'),
      otherClient: await load(dir, 'other-client'),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
