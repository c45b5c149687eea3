/**
 * Publishing the PKI in Kubernetes through @kubernetes/client-node's CoreV1Api, against the
 * in-repo fake API server: created on first start, read back on restart (the CA kept), updated on
 * rotation, untouched when nothing changed, and pre-existing objects taken over.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { start, type FakeApiServer, type KubeObject } from '../../../test/e2e/fake-apiserver/index.ts';
import { MetadataError } from '../../errors.ts';
import {
  CA_CONFIGMAP_NAME, CA_SECRET_NAME, CLIENT_SECRET_NAME, KubernetesPkiStore, publishExporterMaterials, SERVER_SECRET_NAME,
} from './kubernetes-store.ts';
import { CertificateManager } from './manager.ts';
import { generatePki } from './pki.ts';

const NS = 'flow-aggregator';
const DAY = 86_400_000;
let api: FakeApiServer;
let core: CoreV1Api;

before(async () => {
  api = await start();
  api.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
});

after(async () => {
  await api.stop();
});

function secretText(obj: KubeObject | undefined, key: string): string {
  const data = (obj as { data?: Record<string, string> } | undefined)?.data ?? {};
  return Buffer.from(data[key] ?? '', 'base64').toString('utf8');
}

function writes(): string[] {
  return api.requestLog.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url.replace(/\?.*$/, '')} ${r.status}`);
}

test('first start creates the ConfigMap and Secrets; a restart reuses them; rotation updates them', async () => {
  let now = Date.UTC(2031, 0, 1);
  const store = new KubernetesPkiStore(core, NS);
  const first = new CertificateManager({ store, now: () => now, flowAggregatorAddress: 'flow-aggregator.example' });
  const logStart = api.requestLog.length;
  assert.deepEqual(await first.start(), { ca: 'missing', server: 'ca-renewed', client: 'ca-renewed' });
  assert.deepEqual(store.lastSave, { caSecret: 'created', serverSecret: 'created', caConfigMap: 'created', clientSecret: 'created' });
  const pki = first.current;

  const cm = api.get('ConfigMap', NS, CA_CONFIGMAP_NAME) as KubeObject & { data: Record<string, string> };
  assert.deepEqual(cm.data, { 'ca.crt': pki.ca.cert });
  assert.deepEqual(cm.metadata?.labels, { app: 'flow-aggregator' });
  const client = api.get('Secret', NS, CLIENT_SECRET_NAME);
  assert.equal((client as { type?: string }).type, 'kubernetes.io/tls');
  assert.deepEqual(['tls.crt', 'tls.key', 'ca.crt'].map((k) => secretText(client, k)), [pki.client.cert, pki.client.key, pki.ca.cert]);
  assert.equal(secretText(api.get('Secret', NS, CA_SECRET_NAME), 'tls.key'), pki.ca.key);
  assert.equal(secretText(api.get('Secret', NS, SERVER_SECRET_NAME), 'tls.crt'), pki.server.cert);
  assert.equal(api.requestLog.slice(logStart).filter((r) => r.method === 'POST').length, 4);

  // Restart: everything is read back, nothing is written.
  now += 30 * DAY;
  const before = writes().length;
  const store2 = new KubernetesPkiStore(core, NS);
  const restarted = new CertificateManager({ store: store2, now: () => now, flowAggregatorAddress: 'flow-aggregator.example' });
  assert.deepEqual(await restarted.start(), {});
  assert.deepEqual(restarted.current, pki);
  assert.equal(writes().length, before);

  // Rotation: the leaves change, the CA stays; only changed objects are updated (PUT).
  now += 250 * DAY;
  const rv = api.get('ConfigMap', NS, CA_CONFIGMAP_NAME)?.metadata?.resourceVersion;
  assert.deepEqual(await restarted.check(), { server: 'expiring', client: 'expiring' });
  assert.deepEqual(store2.lastSave, { caSecret: 'unchanged', serverSecret: 'updated', caConfigMap: 'unchanged', clientSecret: 'updated' });
  assert.equal(api.get('ConfigMap', NS, CA_CONFIGMAP_NAME)?.metadata?.resourceVersion, rv);
  assert.equal(secretText(api.get('Secret', NS, CLIENT_SECRET_NAME), 'tls.crt'), restarted.current.client.cert);
  assert.equal(secretText(api.get('Secret', NS, CLIENT_SECRET_NAME), 'ca.crt'), pki.ca.cert);
  assert.deepEqual(writes().slice(before).map((w) => w.split(' ')[0]), ['PUT', 'PUT']);
});

test('objects created by someone else are taken over (updated, type and labels kept)', async () => {
  const ns = 'fa-takeover';
  api.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  api.upsert({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CA_CONFIGMAP_NAME, namespace: ns, labels: { owner: 'helm' } }, data: { 'ca.crt': 'old' } } as KubeObject);
  api.upsert({ apiVersion: 'v1', kind: 'Secret', metadata: { name: CLIENT_SECRET_NAME, namespace: ns }, type: 'Opaque', data: { other: 'eA==' } } as KubeObject);
  const pki = generatePki();
  assert.deepEqual(await publishExporterMaterials(core, pki, ns), { caConfigMap: 'updated', clientSecret: 'updated' });
  const cm = api.get('ConfigMap', ns, CA_CONFIGMAP_NAME) as KubeObject & { data: Record<string, string> };
  assert.deepEqual([cm.data['ca.crt'], cm.metadata?.labels], [pki.ca.cert, { owner: 'helm' }]);
  const secret = api.get('Secret', ns, CLIENT_SECRET_NAME);
  assert.equal((secret as { type?: string }).type, 'Opaque');
  assert.equal(secretText(secret, 'tls.key'), pki.client.key);
  assert.deepEqual(await publishExporterMaterials(core, pki, ns), { caConfigMap: 'unchanged', clientSecret: 'unchanged' });
});

test('a missing namespace is reported as a MetadataError naming the object', async () => {
  const store = new KubernetesPkiStore(core, 'no-such-namespace');
  await assert.rejects(store.save(generatePki()), (e: unknown) =>
    e instanceof MetadataError && e.code === 'K8S_WRITE' && e.context.name === CA_SECRET_NAME && e.context.status === 404);
});
