import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StaticInventorySource } from '../k8s/static-inventory.ts';
import { createContextResolver } from './context-resolver.ts';
import type { NewConnection } from './connection.ts';

const INVENTORY = `
nodes:
  - {name: node1, podCIDR: 10.244.1.0/24, ips: [172.18.0.2]}
  - {name: node2, podCIDR: 10.244.2.0/24, ips: [172.18.0.3]}
pods:
  - {name: web-1, namespace: shop, ip: 10.244.1.10, node: node1, labels: {app: web}}
  - {name: client-1, namespace: shop, ip: 10.244.1.11, node: node1, labels: {app: client}}
  - {name: db-1, namespace: data, ip: 10.244.2.10, node: node2, labels: {app: db}, containerPorts: [{name: pg, containerPort: 5432}]}
services:
  - {namespace: data, name: db, clusterIP: 10.96.0.20, ports: [{name: pg, port: 5432, protocol: TCP, targetPort: pg}]}
namespaces:
  - {name: shop, labels: {team: blue}}
  - {name: data}
networkPolicies:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: db-from-shop, namespace: data}
    spec:
      podSelector: {matchLabels: {app: db}}
      ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}], ports: [{port: pg}]}]
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: web-egress, namespace: shop}
    spec:
      podSelector: {matchLabels: {app: web}}
      policyTypes: [Egress]
      egress: [{to: [{ipBlock: {cidr: 10.244.0.0/16}}]}]
`;

const conn = (over: Partial<NewConnection>): NewConnection => ({
  family: 4, sourceIP: '10.244.1.10', destinationIP: '10.244.1.11', protocolIdentifier: 6, sourceTransportPort: 40000,
  destinationTransportPort: 80, originalDestinationIP: over.destinationIP ?? '10.244.1.11', originalDestinationPort: over.destinationTransportPort ?? 80,
  mark: 0, startSeconds: 1_700_000_000, ...over,
});

const on = (node: string) => createContextResolver({ metadata: new StaticInventorySource({ text: INVENTORY, localNodeName: node }) });

test('intra-node: both Pods named with this Node, flowType 1, egress policy of the source', () => {
  const c = on('node1')(conn({}))!;
  assert.equal(c.sourcePodName, 'web-1');
  assert.equal(c.destinationPodName, 'client-1');
  assert.equal(c.sourceNodeName, 'node1');
  assert.equal(c.destinationNodeName, 'node1');
  assert.equal(c.flowType, 1);
  assert.equal(c.egressNetworkPolicyName, 'web-egress');
  assert.equal(c.egressNetworkPolicyRuleAction, 1);
  assert.equal(c.egressNetworkPolicyRuleName, 'egress-0');
  assert.equal(c.ingressNetworkPolicyName, '');
});

test('inter-node through a Service: each Node names its own Pod and reports its own direction', () => {
  const via = { sourceIP: '10.244.1.11', destinationIP: '10.244.2.10', destinationTransportPort: 5432, originalDestinationIP: '10.96.0.20', originalDestinationPort: 5432 };
  const src = on('node1')(conn(via))!;
  assert.equal(src.sourcePodName, 'client-1');
  assert.equal(src.destinationPodName, '');
  assert.equal(src.destinationNodeName, '');
  assert.equal(src.flowType, 2);
  assert.equal(src.destinationServicePortName, 'data/db:pg');
  assert.equal(src.destinationServicePort, 5432);
  assert.equal(src.ingressNetworkPolicyName, '', 'ingress rules are the destination Node\'s');
  const dst = on('node2')(conn(via))!;
  assert.equal(dst.sourcePodName, '');
  assert.equal(dst.destinationPodName, 'db-1');
  assert.equal(dst.destinationNodeName, 'node2');
  assert.equal(dst.ingressNetworkPolicyName, 'db-from-shop');
  assert.equal(dst.ingressNetworkPolicyNamespace, 'data');
  assert.equal(dst.ingressNetworkPolicyType, 1);
  assert.equal(dst.ingressNetworkPolicyRuleAction, 1);
});

test('a connection the policies would deny is reported with action Drop', () => {
  // web-1 may only reach 10.244.0.0/16: 8.8.8.8 is denied by its egress isolation.
  const c = on('node1')(conn({ destinationIP: '192.0.2.1' }))!;
  assert.equal(c.flowType, 3);
  assert.equal(c.egressNetworkPolicyRuleAction, 2);
});

test('no local Pod, gateway addresses and remote-source to-external are not tracked', () => {
  const r = on('node1');
  assert.equal(r(conn({ sourceIP: '10.244.2.10', destinationIP: '192.0.2.1' })), null);
  assert.equal(r(conn({ destinationIP: '10.244.1.1' })), null);
  assert.equal(r.stats.noLocalPod + r.stats.unsupported, 2);
});

test('from external to a local Pod is flowType 4; contexts are interned', () => {
  const r = on('node2');
  const a = r(conn({ sourceIP: '192.0.2.7', destinationIP: '10.244.2.10', destinationTransportPort: 5432 }))!;
  const b = r(conn({ sourceIP: '192.0.2.7', sourceTransportPort: 40001, destinationIP: '10.244.2.10', destinationTransportPort: 5432 }))!;
  assert.equal(a.flowType, 4);
  assert.equal(a, b);
  assert.equal(a.ingressNetworkPolicyRuleAction, 2, 'not from a blue namespace');
});
