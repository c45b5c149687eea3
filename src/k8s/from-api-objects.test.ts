import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { namespaceFromApi, networkPolicyFromApi, nodeFromApi, podFromApi, toEpochSeconds } from './from-api-objects.ts';
import { compileLabelSelector } from './label-selector.ts';

describe('API objects to metadata', () => {
  test('Pods: podIPs, container and init-container ports, hostNetwork, Pending, Date or string timestamps', () => {
    const fromList = podFromApi({
      metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { a: 'b' }, creationTimestamp: new Date('2024-01-01T00:00:10Z') },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] }],
        initContainers: [{ name: 'sidecar', ports: [{ name: 'proxy', containerPort: 15001, protocol: 'TCP' }] }],
      },
      status: { phase: 'Pending', podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }, { ip: 'FD00::0001' }] },
    })!;
    assert.deepEqual(fromList.pod.ips, ['10.0.0.1', 'fd00::1']);
    assert.deepEqual(fromList.pod.containerPorts, [
      { name: 'http', containerPort: 80, protocol: 'TCP' },
      { name: undefined, containerPort: 53, protocol: 'UDP' },
      { name: 'proxy', containerPort: 15001, protocol: 'TCP' },
    ]);
    assert.equal(fromList.pending, true);
    assert.equal(fromList.hostNetwork, false);
    assert.equal(fromList.creationTimestamp, Date.parse('2024-01-01T00:00:10Z') / 1000);
    const fromWatch = podFromApi({
      metadata: { name: 'h', namespace: 'ns', creationTimestamp: '2024-01-01T00:00:10Z' },
      spec: { hostNetwork: true },
      status: { podIP: '172.18.0.2' },
    })!;
    assert.equal(fromWatch.creationTimestamp, fromList.creationTimestamp);
    assert.equal(fromWatch.hostNetwork, true);
    assert.deepEqual(fromWatch.pod.ips, ['172.18.0.2'], 'podIP alone (older servers)');
    assert.equal(podFromApi({ metadata: {} }), undefined);
    assert.equal(toEpochSeconds('garbage'), undefined);
  });

  test('Nodes: InternalIP/ExternalIP, podCIDR(s), gateways', () => {
    const n = nodeFromApi({
      metadata: { name: 'n1', uid: 'nu' },
      spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'] },
      status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }, { type: 'Hostname', address: 'n1' }, { type: 'ExternalIP', address: '203.0.113.2' }] },
    })!;
    assert.deepEqual(n, {
      name: 'n1',
      uid: 'nu',
      internalIPs: ['172.18.0.2'],
      externalIPs: ['203.0.113.2'],
      podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'],
      gatewayIPs: ['10.244.1.1', 'fd00:10:244:1::1'],
    });
  });

  test('Namespaces always carry kubernetes.io/metadata.name', () => {
    assert.deepEqual(namespaceFromApi({ metadata: { name: 'x', labels: { a: 'b' } } })?.labels, { a: 'b', 'kubernetes.io/metadata.name': 'x' });
  });

  test('NetworkPolicies: `_from` of deserialised lists, policyTypes defaulting, unusable ports', () => {
    const np = networkPolicyFromApi({
      metadata: { name: 'np', namespace: 'ns', uid: 'npu' },
      spec: {
        podSelector: { matchLabels: { app: 'a' } },
        ingress: [
          { _from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 80 }] },
          { ports: [{ protocol: 'ICMP', port: 1 }] },
        ],
        egress: [{ to: [{ namespaceSelector: {}, podSelector: { matchExpressions: [{ key: 'k', operator: 'Exists' }] } }] }],
      },
    })!;
    assert.deepEqual(np.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(np.ingress[0].peers, [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }]);
    assert.deepEqual(np.ingress[0].ports, [{ protocol: 'TCP', port: 80, endPort: undefined }]);
    assert.equal(np.ingress[1].ports?.length, 1, 'a rule whose ports are all unusable must not become "all ports"');
    assert.equal(np.egress[0].peers?.[0].namespaceSelector !== undefined, true);
    assert.deepEqual(networkPolicyFromApi({ metadata: { name: 'x', namespace: 'y' }, spec: { podSelector: {}, egress: [] } })?.policyTypes, ['Ingress']);
    assert.deepEqual(networkPolicyFromApi({ metadata: { name: 'x', namespace: 'y' }, spec: { policyTypes: ['Egress'] } })?.policyTypes, ['Egress']);
  });

  test('label selectors: empty matches all, unknown operators and empty value sets match nothing', () => {
    assert.equal(compileLabelSelector({})({ any: 'thing' }), true);
    assert.equal(compileLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] })({ a: 'x' }), false);
    assert.equal(compileLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bogus' as 'In', values: ['x'] }] })({ a: 'x' }), false);
    assert.equal(compileLabelSelector({ matchLabels: { toString: 'x' } })({}), false, 'no prototype keys');
    assert.equal(compileLabelSelector({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] })({}), false);
    const np = networkPolicyFromApi({ metadata: { name: 'n', namespace: 'n' }, spec: { podSelector: { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] } } })!;
    assert.equal(compileLabelSelector(np.podSelector)({ a: '2' }), false);
  });
});
