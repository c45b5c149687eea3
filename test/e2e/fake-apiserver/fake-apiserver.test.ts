/**
 * The fake Kubernetes API server: discovery, list/watch protocol, CRUD, 410 Gone, and the two real
 * clients that must work against it (kubectl, @kubernetes/client-node informers).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { node, pod, networkPolicy } from './fixtures.ts';
import { start, type FakeApiServer } from './index.ts';
import { openWatch } from './watch-client.ts';

const run = promisify(execFile);

// Response bodies are arbitrary Kubernetes JSON; the tests read them field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function getJson(api: FakeApiServer, path: string, init?: RequestInit): Promise<{ status: number; body: Json }> {
  const res = await fetch(api.url + path, init);
  return { status: res.status, body: await res.json() };
}

function send(api: FakeApiServer, method: string, path: string, body: unknown, contentType = 'application/json') {
  return getJson(api, path, { method, headers: { 'Content-Type': contentType }, body: JSON.stringify(body) });
}

describe('fake API server: discovery and list', () => {
  let api: FakeApiServer;
  before(async () => {
    api = await start();
    api.upsert(pod('default', 'a', { ip: '10.244.1.10', node: 'n1', labels: { app: 'web', tier: 'front' } }));
    api.upsert(pod('default', 'b', { ip: '10.244.2.10', node: 'n2', labels: { app: 'db' } }));
    api.upsert(pod('other', 'c', { ip: '10.244.1.11', node: 'n1', labels: { app: 'web' } }));
    api.upsert(node('n1', { podCIDRs: ['10.244.1.0/24'] }));
  });
  after(() => api.stop());

  test('discovery documents describe every served resource', async () => {
    const core = await getJson(api, '/api');
    assert.deepEqual(core.body.versions, ['v1']);
    const v1 = await getJson(api, '/api/v1');
    const pods = v1.body.resources.find((r: { name: string }) => r.name === 'pods');
    assert.equal(pods.namespaced, true);
    assert.ok(pods.verbs.includes('watch'));
    for (const r of ['services', 'endpoints', 'nodes', 'namespaces', 'configmaps', 'secrets']) {
      assert.ok(v1.body.resources.some((x: { name: string }) => x.name === r), r);
    }
    const groups = await getJson(api, '/apis');
    assert.ok(groups.body.groups.some((g: { name: string }) => g.name === 'networking.k8s.io'));
    const net = await getJson(api, '/apis/networking.k8s.io/v1');
    assert.equal(net.body.resources[0].kind, 'NetworkPolicy');
    assert.equal((await getJson(api, '/apis/nope.io/v1')).status, 404);
  });

  test('list carries the resourceVersion and honours label and field selectors', async () => {
    const all = await getJson(api, '/api/v1/pods');
    assert.equal(all.body.kind, 'PodList');
    assert.equal(all.body.metadata.resourceVersion, String(api.resourceVersion));
    assert.deepEqual(all.body.items.map((p: V1Pod) => p.metadata?.name), ['a', 'b', 'c']);
    const ns = await getJson(api, '/api/v1/namespaces/default/pods');
    assert.deepEqual(ns.body.items.map((p: V1Pod) => p.metadata?.name), ['a', 'b']);
    const web = await getJson(api, '/api/v1/pods?labelSelector=' + encodeURIComponent('app in (web),tier'));
    assert.deepEqual(web.body.items.map((p: V1Pod) => p.metadata?.name), ['a']);
    const notWeb = await getJson(api, '/api/v1/pods?labelSelector=' + encodeURIComponent('app!=web'));
    assert.deepEqual(notWeb.body.items.map((p: V1Pod) => p.metadata?.name), ['b']);
    const onN1 = await getJson(api, '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1');
    assert.deepEqual(onN1.body.items.map((p: V1Pod) => p.metadata?.name), ['a', 'c']);
    const byName = await getJson(api, '/api/v1/pods?fieldSelector=metadata.name%3Db');
    assert.deepEqual(byName.body.items.map((p: V1Pod) => p.metadata?.name), ['b']);
    const bad = await getJson(api, '/api/v1/pods?fieldSelector=spec.bogus%3Dx');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /field label not supported/);
    assert.equal((await getJson(api, '/api/v1/pods?labelSelector=' + encodeURIComponent('a in b'))).status, 400);
  });

  test('list pages with limit and continue', async () => {
    const first = await getJson(api, '/api/v1/pods?limit=2');
    assert.equal(first.body.items.length, 2);
    assert.equal(first.body.metadata.remainingItemCount, 1);
    const rest = await getJson(api, `/api/v1/pods?limit=2&continue=${first.body.metadata.continue}`);
    assert.deepEqual(rest.body.items.map((p: V1Pod) => p.metadata?.name), ['c']);
    assert.equal(rest.body.metadata.continue, undefined);
  });

  test('get of a single object, 404 for a missing one', async () => {
    const a = await getJson(api, '/api/v1/namespaces/default/pods/a');
    assert.equal(a.body.kind, 'Pod');
    assert.equal(a.body.apiVersion, 'v1');
    const missing = await getJson(api, '/api/v1/namespaces/default/pods/zz');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.reason, 'NotFound');
    const n1 = await getJson(api, '/api/v1/nodes/n1');
    assert.deepEqual(n1.body.spec.podCIDRs, ['10.244.1.0/24']);
  });
});

describe('fake API server: watch', () => {
  let api: FakeApiServer;
  before(async () => {
    api = await start({ historyLimit: 100 });
  });
  after(() => api.stop());

  test('streams ADDED/MODIFIED/DELETED as chunked newline-delimited JSON from the given resourceVersion', async () => {
    api.upsert(pod('default', 'w1', { ip: '10.0.0.1' }));
    const rv = api.resourceVersion;
    const w = await openWatch(`${api.url}/api/v1/pods?watch=true&resourceVersion=${rv}`);
    assert.equal(w.response.headers['transfer-encoding'], 'chunked');
    assert.equal(w.response.headers['content-type'], 'application/json');
    api.upsert(pod('default', 'w2', { ip: '10.0.0.2' }));
    api.upsert(pod('default', 'w2', { ip: '10.0.0.2', labels: { x: 'y' } }));
    api.delete('Pod', 'default', 'w2');
    const e1 = await w.next();
    const e2 = await w.next();
    const e3 = await w.next();
    assert.deepEqual([e1.type, e2.type, e3.type], ['ADDED', 'MODIFIED', 'DELETED']);
    assert.equal(e1.object.kind, 'Pod');
    assert.ok(Number(e3.object.metadata.resourceVersion) > Number(e2.object.metadata.resourceVersion));
    w.close();
  });

  test('resuming from an older resourceVersion replays the events after it', async () => {
    const rv = api.resourceVersion;
    api.upsert(pod('default', 'r1', { ip: '10.0.0.3' }));
    api.delete('Pod', 'default', 'r1');
    const w = await openWatch(`${api.url}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${rv}`);
    assert.equal((await w.next()).type, 'ADDED');
    assert.equal((await w.next()).type, 'DELETED');
    w.close();
  });

  test('a watch without resourceVersion starts with ADDED for every existing object', async () => {
    const w = await openWatch(`${api.url}/api/v1/pods?watch=true`);
    const names = new Set<string>();
    for (let i = 0; i < api.list('Pod').length; i++) names.add((await w.next()).object.metadata.name ?? '');
    assert.deepEqual([...names].sort(), api.list('Pod').map((p) => p.metadata.name).sort());
    w.close();
  });

  test('field-selected watches see objects entering and leaving the selection', async () => {
    const w = await openWatch(`${api.url}/api/v1/pods?watch=true&resourceVersion=${api.resourceVersion}&fieldSelector=spec.nodeName%3Dn9`);
    api.upsert(pod('default', 's1', { ip: '10.0.0.9' }));
    api.upsert(pod('default', 's1', { ip: '10.0.0.9', node: 'n9' }));
    const added = await w.next();
    assert.equal(added.type, 'ADDED');
    assert.equal(added.object.metadata.name, 's1');
    api.upsert(pod('default', 's1', { ip: '10.0.0.9', node: 'n8' }));
    const left = await w.next();
    assert.equal(left.type, 'DELETED');
    assert.equal((left.object.spec as { nodeName: string }).nodeName, 'n9', 'DELETED carries the last matching state');
    w.close();
  });

  test('BOOKMARK when asked, and the initial-events-end bookmark of sendInitialEvents', async () => {
    const w = await openWatch(
      `${api.url}/api/v1/nodes?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`,
    );
    const initialEnd = await w.next();
    assert.equal(initialEnd.type, 'BOOKMARK');
    assert.equal(initialEnd.object.metadata.annotations?.['k8s.io/initial-events-end'], 'true');
    api.bookmark();
    const bm = await w.next();
    assert.equal(bm.type, 'BOOKMARK');
    assert.equal(bm.object.metadata.resourceVersion, String(api.resourceVersion));
    w.close();
  });

  test('a too-old resourceVersion gets a 410 Expired ERROR event (or HTTP 410 in http mode)', async () => {
    const old = api.resourceVersion;
    api.upsert(pod('default', 'g1', { ip: '10.0.0.4' }));
    api.compact();
    const w = await openWatch(`${api.url}/api/v1/pods?watch=true&resourceVersion=${old}`);
    const err = await w.next();
    assert.equal(err.type, 'ERROR');
    assert.equal(err.object.code, 410);
    assert.equal(err.object.reason, 'Expired');
    await w.ended;
    api.setExpiredWatchMode('http');
    const res = await fetch(`${api.url}/api/v1/pods?watch=true&resourceVersion=${old}`);
    assert.equal(res.status, 410);
    await res.body?.cancel();
    api.setExpiredWatchMode('event');
  });

  test('the history limit compacts old events', async () => {
    const small = await start({ historyLimit: 2 });
    try {
      const rv = small.resourceVersion;
      for (let i = 0; i < 4; i++) small.upsert(pod('default', `h${i}`, {}));
      const w = await openWatch(`${small.url}/api/v1/pods?watch=true&resourceVersion=${rv}`);
      assert.equal((await w.next()).object.code, 410);
      const recent = await openWatch(`${small.url}/api/v1/pods?watch=true&resourceVersion=${small.resourceVersion - 2}`);
      assert.equal((await recent.next()).object.metadata.name, 'h2');
      recent.close();
    } finally {
      await small.stop();
    }
  });

  test('dropWatches ends streams (cleanly or by reset) and timeoutSeconds ends them too', async () => {
    const w = await openWatch(`${api.url}/api/v1/pods?watch=true&resourceVersion=${api.resourceVersion}`);
    assert.equal(api.activeWatches('pods'), 1);
    assert.equal(api.dropWatches(), 1);
    await w.ended;
    assert.equal(api.activeWatches(), 0);
    const t0 = Date.now();
    const timed = await openWatch(`${api.url}/api/v1/pods?watch=true&resourceVersion=${api.resourceVersion}&timeoutSeconds=1`);
    await timed.ended;
    assert.ok(Date.now() - t0 >= 900);
  });
});

describe('fake API server: create, update, patch, delete', () => {
  let api: FakeApiServer;
  before(async () => {
    api = await start();
  });
  after(() => api.stop());

  test('ConfigMap create/get/update/patch with optimistic concurrency', async () => {
    const created = await send(api, 'POST', '/api/v1/namespaces/kube-system/configmaps', {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'flow-aggregator-ca' }, data: { 'ca.crt': 'PEM1' },
    });
    assert.equal(created.status, 201);
    assert.ok(created.body.metadata.uid);
    const dup = await send(api, 'POST', '/api/v1/namespaces/kube-system/configmaps', { metadata: { name: 'flow-aggregator-ca' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.reason, 'AlreadyExists');
    const path = '/api/v1/namespaces/kube-system/configmaps/flow-aggregator-ca';
    const updated = await send(api, 'PUT', path, { ...created.body, data: { 'ca.crt': 'PEM2' } });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.data['ca.crt'], 'PEM2');
    assert.equal(updated.body.metadata.uid, created.body.metadata.uid);
    const stale = await send(api, 'PUT', path, { ...created.body, data: { 'ca.crt': 'PEM3' } });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.reason, 'Conflict');
    const patched = await send(api, 'PATCH', path, { data: { extra: 'x' } }, 'application/merge-patch+json');
    assert.deepEqual(patched.body.data, { 'ca.crt': 'PEM2', extra: 'x' });
    const removed = await send(api, 'PATCH', path, { data: { extra: null } }, 'application/strategic-merge-patch+json');
    assert.deepEqual(removed.body.data, { 'ca.crt': 'PEM2' });
    const jsonPatch = await send(api, 'PATCH', path, [{ op: 'remove', path: '/data' }], 'application/json-patch+json');
    assert.equal(jsonPatch.status, 415);
  });

  test('Secret stringData becomes base64 data', async () => {
    const created = await send(api, 'POST', '/api/v1/namespaces/kube-system/secrets', {
      metadata: { name: 'flow-aggregator-client-tls' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'CERT' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.data['tls.crt'], Buffer.from('CERT').toString('base64'));
    assert.equal(created.body.stringData, undefined);
    const got = await getJson(api, '/api/v1/namespaces/kube-system/secrets/flow-aggregator-client-tls');
    assert.equal(got.body.type, 'kubernetes.io/tls');
  });

  test('creating in a missing namespace is refused; deleting a namespace deletes its objects', async () => {
    const missing = await send(api, 'POST', '/api/v1/namespaces/nowhere/configmaps', { metadata: { name: 'x' } });
    assert.equal(missing.status, 404);
    api.upsert(pod('team-a', 'p', {}));
    assert.equal(api.list('Pod', 'team-a').length, 1);
    const del = await getJson(api, '/api/v1/namespaces/team-a', { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal(api.list('Pod', 'team-a').length, 0);
  });

  test('defaults: Service ClusterIP and NodePort, NetworkPolicy policyTypes, Namespace name label', async () => {
    const svc = await send(api, 'POST', '/api/v1/namespaces/default/services', {
      metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ name: 'http', port: 80 }] },
    });
    assert.match(svc.body.spec.clusterIP, /^10\.96\./);
    assert.deepEqual(svc.body.spec.clusterIPs, [svc.body.spec.clusterIP]);
    assert.equal(svc.body.spec.ports[0].protocol, 'TCP');
    assert.equal(svc.body.spec.ports[0].targetPort, 80);
    assert.ok(svc.body.spec.ports[0].nodePort >= 30000);
    const np = api.upsert(networkPolicy('default', 'np', { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] }));
    assert.deepEqual((np.spec as { policyTypes: string[] }).policyTypes, ['Ingress', 'Egress']);
    assert.equal(api.get('Namespace', undefined, 'default')?.metadata.labels?.['kubernetes.io/metadata.name'], 'default');
  });

  test('status is only written through the status subresource', async () => {
    api.upsert(pod('default', 'st', { ip: '10.0.0.7' }));
    const path = '/api/v1/namespaces/default/pods/st';
    const patched = await send(api, 'PATCH', path, { status: { podIP: '10.0.0.8' }, metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    assert.equal(patched.body.status.podIP, '10.0.0.7');
    assert.equal(patched.body.metadata.labels.a, 'b');
    const viaStatus = await send(api, 'PATCH', `${path}/status`, { status: { podIP: '10.0.0.8', podIPs: [{ ip: '10.0.0.8' }] } }, 'application/merge-patch+json');
    assert.equal(viaStatus.body.status.podIP, '10.0.0.8');
  });

  test('protobuf bodies are refused with 415', async () => {
    const res = await fetch(`${api.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST', headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' }, body: 'k8s\0',
    });
    assert.equal(res.status, 415);
    await res.body?.cancel();
  });
});

describe('fake API server with kubectl', () => {
  let api: FakeApiServer;
  let kubectl: string | undefined;
  before(async () => {
    api = await start();
    kubectl = await run('sh', ['-c', 'command -v kubectl']).then((r) => r.stdout.trim() || undefined, () => undefined);
  });
  after(() => api.stop());

  test('kubectl get / create -f / apply / patch / delete', async (t) => {
    if (kubectl === undefined) {
      t.skip('kubectl is not installed (apt-get install kubectl, or put it on PATH) - nothing to test it with');
      return;
    }
    const k = (...args: string[]) => run(kubectl as string, ['--kubeconfig', api.kubeconfigPath, ...args], { timeout: 20_000 });
    api.upsert(pod('default', 'web-1', { ip: '10.244.1.10', node: 'n1', labels: { app: 'web' } }));
    const pods = JSON.parse((await k('get', 'pods', '-A', '-o', 'json')).stdout) as { items: V1Pod[] };
    assert.deepEqual(pods.items.map((p) => p.metadata?.name), ['web-1']);
    assert.match((await k('get', 'pods', '-l', 'app=web')).stdout, /web-1/);
    const manifest = join(dirname(api.kubeconfigPath), 'np.yaml');
    await writeFile(
      manifest,
      [
        'apiVersion: networking.k8s.io/v1', 'kind: NetworkPolicy', 'metadata: {name: allow-web, namespace: default}',
        'spec:', '  podSelector: {matchLabels: {app: web}}', '  ingress: [{ports: [{port: 80}]}]',
        '---', 'apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: ca, namespace: kube-system}', 'data: {ca.crt: PEM}', '',
      ].join('\n'),
    );
    await k('create', '-f', manifest);
    assert.equal(api.get('NetworkPolicy', 'default', 'allow-web')?.metadata.name, 'allow-web');
    await k('apply', '-f', manifest);
    await k('patch', 'configmap', 'ca', '-n', 'kube-system', '--type', 'merge', '-p', '{"data":{"x":"y"}}');
    assert.deepEqual(api.get('ConfigMap', 'kube-system', 'ca')?.data, { 'ca.crt': 'PEM', x: 'y' });
    assert.match((await k('get', 'networkpolicies', '-n', 'default')).stdout, /allow-web/);
    await k('delete', 'networkpolicy', 'allow-web', '-n', 'default');
    assert.equal(api.get('NetworkPolicy', 'default', 'allow-web'), undefined);
    assert.match((await k('version', '-o', 'json')).stdout, /v1\.32\.0-fake/);
  });
});

describe('fake API server with @kubernetes/client-node informers', () => {
  let api: FakeApiServer;
  before(async () => {
    api = await start({ objects: [pod('default', 'i0', { ip: '10.1.0.1' })] });
  });
  after(() => api.stop());

  test('informer lists, then sees add, update, delete; re-watches after the server ends the watch; relists after 410', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
    const events: string[] = [];
    let wake: (() => void) | undefined;
    const seen = (e: string) => {
      events.push(e);
      wake?.();
    };
    const until = (e: string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${e}; saw ${events.join(' ')}`)), 5000);
        const check = () => {
          if (events.includes(e)) {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          }
        };
        wake = check;
        check();
      });
    informer.on('add', (p) => seen(`add:${p.metadata?.name}`));
    informer.on('update', (p) => seen(`update:${p.metadata?.name}:${p.metadata?.labels?.v ?? ''}`));
    informer.on('delete', (p) => seen(`delete:${p.metadata?.name}`));
    const watching = api.nextWatch('pods');
    await informer.start();
    await watching;
    try {
      await until('add:i0');
      api.upsert(pod('default', 'i1', { ip: '10.1.0.2' }));
      await until('add:i1');
      api.upsert(pod('default', 'i1', { ip: '10.1.0.2', labels: { v: '2' } }));
      await until('update:i1:2');
      api.delete('Pod', 'default', 'i1');
      await until('delete:i1');

      const rewatch = api.nextWatch('pods');
      api.dropWatches();
      await rewatch;
      api.upsert(pod('default', 'i2', { ip: '10.1.0.3' }));
      await until('add:i2');

      // Resource version expiry: the informer must relist and report what changed meanwhile.
      api.setExpiredWatchMode('http');
      const relisted = api.nextWatch('pods');
      api.dropWatches({ abrupt: false });
      api.delete('Pod', 'default', 'i2');
      api.compact();
      await relisted;
      await until('delete:i2');
      assert.equal(informer.list().length, 1);
    } finally {
      await informer.stop();
    }
  });
});
