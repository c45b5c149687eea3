/**
 * KubernetesMetadataSource against the in-repo fake API server: initial sync, add/modify/delete,
 * re-watch after a clean end, restart after a connection reset, relist after 410 Gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { namespace, networkPolicy, node, pod, service } from '../../test/e2e/fake-apiserver/fixtures.ts';
import { start, type FakeApiServer } from '../../test/e2e/fake-apiserver/index.ts';
import { MetadataError } from '../errors.ts';
import { KubernetesMetadataSource } from './kubernetes-source.ts';

/** Resolves once `check()` holds, re-checking on every metadata change; rejects after timeoutMs. */
function until(src: KubernetesMetadataSource, what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    const off = src.onChange(() => {
      if (check()) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}

describe('KubernetesMetadataSource', () => {
  let api: FakeApiServer;
  let src: KubernetesMetadataSource;
  // The source's clock starts at the real time (the fake server stamps creationTimestamp with it), then the test moves it.
  const clock = { ms: Date.now() };
  const errors: MetadataError[] = [];

  before(async () => {
    api = await start({
      objects: [
        namespace('shop', { team: 'blue' }),
        node('node1', { podCIDRs: ['10.244.1.0/24'], internalIPs: ['172.18.0.2'] }),
        node('node2', { podCIDRs: ['10.244.2.0/24'], internalIPs: ['172.18.0.3'] }),
        pod('shop', 'web-1', { ip: '10.244.1.10', node: 'node1', labels: { app: 'web' }, ports: [{ name: 'http', containerPort: 8080 }] }),
        pod('shop', 'db-1', { ips: ['10.244.2.10', 'fd00::a'], node: 'node2', labels: { app: 'db' } }),
        pod('kube-system', 'host-agent', { ip: '172.18.0.2', node: 'node1', hostNetwork: true }),
        service('shop', 'web', { clusterIPs: ['10.96.0.10'], type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
        networkPolicy('shop', 'allow-web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: {} }] }] }),
      ],
    });
    src = new KubernetesMetadataSource({
      kubeconfigPath: api.kubeconfigPath,
      localNodeName: 'node1',
      clock: () => clock.ms,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      onError: (e) => errors.push(e),
    });
    await src.start();
    await src.waitForSync(5000);
  });
  after(async () => {
    await src.stop();
    await api.stop();
  });

  test('the initial lists fill every index', () => {
    assert.equal(src.synced, true);
    const web = src.getPodByIPAndTime('10.244.1.10', clock.ms / 1000)!;
    assert.equal(web.name, 'web-1');
    assert.equal(src.isLocalPod(web), true);
    assert.deepEqual(web.labels, { app: 'web' });
    assert.deepEqual(web.containerPorts, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    assert.equal(src.getPodByIP('fd00::a')?.name, 'db-1');
    assert.equal(src.isLocalPod(src.getPod('shop', 'db-1')!), false);
    assert.equal(src.getPodByIP('172.18.0.2'), undefined, 'hostNetwork Pods are not indexed');
    assert.equal(src.lookupService('10.96.0.10', 80, 6)?.servicePortName, 'shop/web:http');
    assert.equal(src.lookupService('172.18.0.3', 30080, 6)?.servicePortName, 'shop/web:http');
    assert.deepEqual(src.lookupPodSubnet('10.244.2.1'), { inPodSubnet: true, isGateway: true, nodeName: 'node2' });
    assert.deepEqual(src.getNode('node1')?.internalIPs, ['172.18.0.2']);
    assert.equal(src.getNamespace('shop')?.labels.team, 'blue');
    assert.equal(src.getNamespace('default')?.labels['kubernetes.io/metadata.name'], 'default');
    const [np] = src.listNetworkPolicies();
    assert.equal(np.name, 'allow-web');
    assert.deepEqual(np.ingress[0].peers, [{ podSelector: { matchLabels: {}, matchExpressions: [] } }]);
  });

  test('adds, modifications and deletions arrive through the watch', async () => {
    api.upsert(pod('shop', 'web-2', { ip: '10.244.1.11', node: 'node1', labels: { app: 'web' } }));
    await until(src, 'web-2 added', () => src.getPod('shop', 'web-2') !== undefined);
    api.upsert(pod('shop', 'web-2', { ip: '10.244.1.11', node: 'node1', labels: { app: 'web', v: '2' } }));
    await until(src, 'web-2 relabelled', () => src.getPod('shop', 'web-2')?.labels.v === '2');
    const gen = src.namespaceGeneration;
    api.upsert(namespace('shop', { team: 'red' }));
    await until(src, 'namespace relabelled', () => src.getNamespace('shop')?.labels.team === 'red');
    assert.ok(src.namespaceGeneration > gen);
    const pgen = src.policyGeneration;
    api.upsert(networkPolicy('shop', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'] }));
    await until(src, 'policy added', () => src.listNetworkPolicies().length === 2);
    assert.ok(src.policyGeneration > pgen);
    api.upsert(service('shop', 'web', { clusterIPs: ['10.96.0.10'], ports: [{ name: 'https', port: 443 }] }));
    await until(src, 'service updated', () => src.lookupService('10.96.0.10', 443, 6) !== undefined);
    assert.equal(src.lookupService('10.96.0.10', 80, 6), undefined);

    clock.ms += 10_000;
    const deletedAt = clock.ms / 1000;
    api.delete('Pod', 'shop', 'web-2');
    await until(src, 'web-2 deleted', () => src.getPod('shop', 'web-2') === undefined);
    assert.equal(src.getPodByIPAndTime('10.244.1.11', deletedAt - 1)?.name, 'web-2', 'kept for late flow records');
    // The IP is reused by a new (Pending) Pod: old flows still map to the old Pod.
    clock.ms += 5_000;
    api.upsert(pod('shop', 'web-3', { ip: '10.244.1.11', node: 'node1', phase: 'Pending' }));
    await until(src, 'web-3 added', () => src.getPod('shop', 'web-3') !== undefined);
    assert.equal(src.getPodByIPAndTime('10.244.1.11', deletedAt - 1)?.name, 'web-2');
    assert.equal(src.getPodByIPAndTime('10.244.1.11', clock.ms / 1000)?.name, 'web-3');
    clock.ms += 301_000;
    assert.equal(src.getPodByIPAndTime('10.244.1.11', deletedAt - 1)?.name, 'web-3', 'after 5 minutes only web-3 remains');
  });

  test('a watch the server ends cleanly is resumed without a relist', async () => {
    const resumed = api.nextWatch('pods');
    api.dropWatches({ kind: 'pods' });
    await resumed;
    const resumedWatch = api.requestLog.filter((r) => r.url.startsWith('/api/v1/pods?')).at(-1);
    assert.match(resumedWatch?.url ?? '', /watch=true/);
    assert.match(resumedWatch?.url ?? '', /resourceVersion=\d+/);
    api.upsert(pod('shop', 'after-drop', { ip: '10.244.1.20', node: 'node1' }));
    await until(src, 'after-drop added', () => src.getPodByIP('10.244.1.20') !== undefined);
  });

  test('a reset connection is an error; the source restarts the informer after a backoff', async () => {
    const before = src.stats().pods.restarts;
    const errorsBefore = errors.length;
    const resumed = api.nextWatch('pods');
    api.dropWatches({ kind: 'pods', abrupt: true });
    await resumed;
    assert.ok(errors.length > errorsBefore);
    assert.equal(errors.at(-1)?.code, 'INFORMER_ERROR');
    assert.equal(errors.at(-1)?.context.resource, 'pods');
    assert.equal(src.stats().pods.restarts, before + 1);
    api.upsert(pod('shop', 'after-reset', { ip: '10.244.1.21', node: 'node1' }));
    await until(src, 'after-reset added', () => src.getPodByIP('10.244.1.21') !== undefined);
  });

  for (const mode of ['event', 'http'] as const) {
    test(`410 Gone (${mode === 'event' ? 'ERROR event' : 'HTTP status'}) makes the informer relist and report deletions`, async () => {
      api.setExpiredWatchMode(mode);
      try {
        api.upsert(pod('shop', `doomed-${mode}`, { ip: mode === 'event' ? '10.244.1.30' : '10.244.1.31', node: 'node1' }));
        await until(src, 'doomed added', () => src.getPod('shop', `doomed-${mode}`) !== undefined);
        const relisted = api.nextWatch('pods');
        api.dropWatches({ kind: 'pods' });
        // While the informer reconnects: a deletion it will miss, then the history is compacted.
        api.delete('Pod', 'shop', `doomed-${mode}`);
        api.compact();
        await relisted;
        await until(src, 'doomed deleted after relist', () => src.getPod('shop', `doomed-${mode}`) === undefined);
        const lists = api.requestLog.filter((r) => /^\/api\/v1\/pods(\?(?!.*watch=true).*)?$/.test(r.url));
        assert.ok(lists.length >= 2, 'a second list happened');
      } finally {
        api.setExpiredWatchMode('event');
      }
    });
  }
});

describe('KubernetesMetadataSource without a reachable server', () => {
  test('waitForSync times out with a MetadataError naming the pending resources, and keeps retrying', async () => {
    const api = await start();
    const kubeconfigPath = api.kubeconfigPath;
    const dead = new KubernetesMetadataSource({
      kubeconfigPath,
      resources: { services: false, namespaces: false, networkPolicies: false },
      reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    try {
      // Stop the server but keep the kubeconfig: point the source at a port nothing listens on.
      await api.stop().catch(() => undefined);
      await dead.start();
      await assert.rejects(dead.waitForSync(300), (err: unknown) => {
        assert.ok(err instanceof MetadataError);
        assert.equal(err.code, 'SYNC_TIMEOUT');
        assert.match(String(err.context.pending), /pods/);
        assert.match(String(err.context.pending), /nodes/);
        return true;
      });
      assert.ok(dead.stats().pods.restarts >= 1);
      assert.equal(dead.synced, false);
    } finally {
      await dead.stop();
    }
  });

  test('a bad kubeconfig is a MetadataError', () => {
    assert.throws(
      () => new KubernetesMetadataSource({ kubeconfigPath: '/nonexistent/kubeconfig' }),
      (err: unknown) => err instanceof MetadataError && err.code === 'KUBECONFIG_INVALID',
    );
  });
});
