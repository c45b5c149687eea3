import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterState } from './cluster-state.ts';
import { serviceFromApi } from './from-api-objects.ts';
import { formatServicePortName, ServiceIndex, servicePorts } from './service-index.ts';

describe('Service port names', () => {
  test('format exactly as Kubernetes ServicePortName.String()', () => {
    assert.equal(formatServicePortName('default', 'web', 'http'), 'default/web:http');
    assert.equal(formatServicePortName('default', 'web', ''), 'default/web');
    assert.equal(formatServicePortName('kube-system', 'kube-dns', 'dns-tcp'), 'kube-system/kube-dns:dns-tcp');
  });
});

describe('ServiceIndex', () => {
  const web = {
    namespace: 'default',
    name: 'web',
    clusterIPs: ['10.96.0.10', 'fd00:96::10'],
    externalIPs: ['192.0.2.10'],
    ports: servicePorts('default', 'web', [
      { name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ]),
  };

  test('looks up ClusterIPs (both families) and external IPs by port and protocol number', () => {
    const idx = new ServiceIndex();
    idx.upsert(web);
    assert.equal(idx.lookup('10.96.0.10', 80, 6)?.servicePortName, 'default/web:http');
    assert.equal(idx.lookup('fd00:96::10', 53, 17)?.servicePortName, 'default/web:dns');
    assert.equal(idx.lookup('192.0.2.10', 80, 6)?.portName, 'http');
    assert.equal(idx.lookup('10.96.0.10', 80, 17), undefined, 'protocol must match');
    assert.equal(idx.lookup('10.96.0.10', 81, 6), undefined);
    assert.equal(idx.lookupNodePort(30080, 6)?.servicePortName, 'default/web:http');
  });

  test('an update re-indexes; a delete removes every address', () => {
    const idx = new ServiceIndex();
    idx.upsert(web);
    assert.equal(idx.upsert({ ...web, clusterIPs: ['10.96.0.11'] }), 'update');
    assert.equal(idx.lookup('10.96.0.10', 80, 6), undefined);
    assert.equal(idx.lookup('10.96.0.11', 80, 6)?.name, 'web');
    assert.equal(idx.delete('default', 'web'), true);
    assert.equal(idx.lookup('10.96.0.11', 80, 6), undefined);
    assert.equal(idx.lookupNodePort(30080, 6), undefined);
    assert.equal(idx.size, 0);
  });

  test('from API objects: unnamed ports, headless and ExternalName Services, load-balancer IPs', () => {
    const state = new ClusterState();
    const svc = serviceFromApi({
      metadata: { name: 'api', namespace: 'prod' },
      spec: { clusterIP: '10.96.1.1', ports: [{ port: 443, targetPort: 8443 }] },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } },
    })!;
    state.upsertService(svc);
    assert.equal(state.lookupService('10.96.1.1', 443, 6)?.servicePortName, 'prod/api');
    assert.equal(state.lookupService('203.0.113.7', 443, 6)?.servicePortName, 'prod/api');
    const headless = serviceFromApi({ metadata: { name: 'h', namespace: 'prod' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } })!;
    assert.deepEqual(headless.clusterIPs, []);
    assert.equal(serviceFromApi({ metadata: { name: 'x', namespace: 'p' }, spec: { type: 'ExternalName', externalName: 'a.b' } }), undefined);
  });

  test('NodePorts resolve on Node addresses only', () => {
    const state = new ClusterState();
    state.upsertService(web);
    state.upsertNode({ name: 'n1', uid: 'u', internalIPs: ['172.18.0.2'], externalIPs: [], podCIDRs: [], gatewayIPs: [] });
    assert.equal(state.lookupService('172.18.0.2', 30080, 6)?.servicePortName, 'default/web:http');
    assert.equal(state.lookupService('172.18.0.9', 30080, 6), undefined);
    assert.equal(state.lookupService('not-an-ip', 80, 6), undefined);
  });
});
