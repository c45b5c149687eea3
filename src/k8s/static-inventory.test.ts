import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MetadataError } from '../errors.ts';
import type { MetadataChange } from './types.ts';
import { parseInventory, StaticInventorySource, validateInventory } from './static-inventory.ts';

const INVENTORY = `
nodes:
  - name: node1
    podCIDRs: [10.244.1.0/24, "fd00:10:244:1::/64"]
    ips: [172.18.0.2]
  - name: node2
    podCIDR: 10.244.2.0/24
    ips: [172.18.0.3]
    gatewayIPs: [10.244.2.254]
pods:
  - name: web-1
    namespace: shop
    ips: [10.244.1.10, "fd00:10:244:1::a"]
    node: node1
    labels: {app: web}
    containerPorts: [{name: http, containerPort: 8080}]
  - name: db-1
    namespace: shop
    ip: 10.244.2.10
    node: node2
    labels: {app: db}
    creationTimestamp: "2024-05-01T10:00:00Z"
services:
  - namespace: shop
    name: web
    clusterIP: 10.96.0.10
    ports: [{name: http, port: 80, protocol: TCP, targetPort: http, nodePort: 30080}]
namespaces:
  - name: shop
    labels: {team: blue}
networkPolicies:
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: allow-web, namespace: shop}
    spec:
      podSelector: {matchLabels: {app: web}}
      ingress:
        - from: [{namespaceSelector: {matchLabels: {team: blue}}}]
          ports: [{port: http}]
`;

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof MetadataError, `expected MetadataError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the inventory to be rejected');
}

describe('static inventory', () => {
  test('parses every section into metadata', () => {
    const src = new StaticInventorySource({ text: INVENTORY, localNodeName: 'node1' });
    assert.equal(src.synced, true);
    const web = src.getPodByIPAndTime('10.244.1.10', 1)!;
    assert.equal(web.name, 'web-1');
    assert.equal(src.isLocalPod(web), true);
    assert.equal(src.getPodByIP('FD00:10:244:1::A')?.name, 'web-1', 'IPv6 lookups are canonicalised');
    assert.deepEqual(web.containerPorts, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    assert.equal(src.isLocalPod(src.getPod('shop', 'db-1')!), false);
    assert.equal(src.lookupService('10.96.0.10', 80, 6)?.servicePortName, 'shop/web:http');
    assert.equal(src.lookupService('172.18.0.3', 30080, 6)?.servicePortName, 'shop/web:http');
    assert.deepEqual(src.getNode('node1')?.gatewayIPs, ['10.244.1.1', 'fd00:10:244:1::1']);
    assert.deepEqual(src.lookupPodSubnet('10.244.2.254'), { inPodSubnet: true, isGateway: true, nodeName: 'node2' });
    assert.deepEqual(src.lookupPodSubnet('10.244.2.1'), { inPodSubnet: true, isGateway: false, nodeName: 'node2' });
    assert.deepEqual(src.getNamespace('shop')?.labels, { team: 'blue', 'kubernetes.io/metadata.name': 'shop' });
    const [np] = src.listNetworkPolicies();
    assert.equal(np.name, 'allow-web');
    assert.deepEqual(np.policyTypes, ['Ingress']);
    assert.deepEqual(np.ingress[0].ports, [{ protocol: 'TCP', port: 'http', endPort: undefined }]);
  });

  test('Pods without creationTimestamp exist since the epoch; with one, from that time', () => {
    const src = new StaticInventorySource({ text: INVENTORY });
    assert.equal(src.pods.getPodTimes('static:shop/web-1')?.createdAt, 0);
    assert.equal(src.pods.getPodTimes('static:shop/db-1')?.createdAt, Date.parse('2024-05-01T10:00:00Z') / 1000);
  });

  test('an empty document is an empty cluster', () => {
    const inv = parseInventory('');
    assert.deepEqual(inv, { nodes: [], pods: [], services: [], namespaces: [], networkPolicies: [] });
  });

  test('schema errors name the item and the field', () => {
    const msg = problemsOf(() =>
      validateInventory({
        pods: [
          { name: 'ok', ip: '10.0.0.1' },
          { name: 'web-1', namespace: 'shop', ips: ['10.0.0.300'] },
          { name: 'typo', ip: '10.0.0.3', lables: { a: 'b' } },
        ],
        services: [{ name: 'svc', ports: [{ port: 70000 }] }],
        nodes: [{ name: 'n', podCIDRs: ['10.0.0.0/40'] }],
      }),
    );
    assert.match(msg, /pods\[1\] \(shop\/web-1\): ips\[0\]: invalid IP address "10\.0\.0\.300"/);
    assert.match(msg, /pods\[2\] \(default\/typo\): Unrecognized key\(s\) in object: 'lables'/);
    assert.match(msg, /services\[0\] \(default\/svc\): ports\[0\]\.port: Number must be less than or equal to 65535/);
    assert.match(msg, /nodes\[0\] \(n\): podCIDRs\[0\]: invalid CIDR "10\.0\.0\.0\/40"/);
  });

  test('NetworkPolicy errors name the policy', () => {
    const np = (spec: unknown) => ({ networkPolicies: [{ metadata: { name: 'np1', namespace: 'a' }, spec }] });
    assert.match(
      problemsOf(() => validateInventory(np({ ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] }))),
      /networkPolicies\[0\] \(a\/np1\): spec\.ingress\[0\]\.from\[0\]: ipBlock cannot be combined/,
    );
    assert.match(
      problemsOf(() => validateInventory(np({ egress: [{ ports: [{ port: 'http', endPort: 90 }] }] }))),
      /spec\.egress\[0\]\.ports\[0\]\.endPort: endPort needs a numeric port/,
    );
    assert.match(
      problemsOf(() => validateInventory(np({ ingress: [{ ports: [{ port: 100, endPort: 90 }] }] }))),
      /endPort 90 is below port 100/,
    );
    assert.match(
      problemsOf(() => validateInventory(np({ podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }))),
      /spec\.podSelector\.matchExpressions\[0\]\.values: operator In needs at least one value/,
    );
    assert.match(
      problemsOf(() => validateInventory(np({ ingress: [{ from: [{}] }] }))),
      /a peer needs podSelector, namespaceSelector or ipBlock/,
    );
    assert.match(
      problemsOf(() => validateInventory(np({ ingress: [{ ports: [{ protocol: 'ICMP' }] }] }))),
      /ports\[0\]\.protocol: Invalid enum value/,
    );
  });

  test('cross-item errors: duplicates, shared Pod IPs, unknown Nodes', () => {
    const msg = problemsOf(() =>
      validateInventory({
        nodes: [{ name: 'n1' }, { name: 'n1' }],
        pods: [
          { name: 'a', ip: '10.0.0.1', node: 'n1' },
          { name: 'b', ip: '10.0.0.1', node: 'n9' },
          { name: 'a', ip: '10.0.0.2' },
        ],
        services: [
          { name: 's1', clusterIP: '10.96.0.1', ports: [{ port: 80 }] },
          { name: 's2', clusterIP: '10.96.0.1', ports: [{ port: 80 }] },
        ],
      }),
    );
    assert.match(msg, /nodes\[1\] \(n1\): duplicate node n1 \(first defined at nodes\[0\] \(n1\)\)/);
    assert.match(msg, /pods\[1\] \(default\/b\): duplicate pod IP 10\.0\.0\.1/);
    assert.match(msg, /pods\[1\] \(default\/b\): node "n9" is not in nodes/);
    assert.match(msg, /pods\[2\] \(default\/a\): duplicate pod default\/a/);
    assert.match(msg, /services\[1\] \(default\/s2\): duplicate service address 10\.96\.0\.1:80\/TCP/);
  });

  test('YAML syntax errors carry the line', () => {
    try {
      parseInventory('pods:\n  - name: a\n   ip: [', 'inv.yaml');
      assert.fail('expected a YAML error');
    } catch (err) {
      assert.ok(err instanceof MetadataError);
      assert.equal(err.code, 'INVENTORY_YAML');
      assert.equal(err.context.source, 'inv.yaml');
      assert.equal(typeof err.context.line, 'number');
    }
  });

  test('reload applies the difference and notifies listeners', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fvt-inventory-'));
    try {
      const path = join(dir, 'inventory.yaml');
      await writeFile(path, INVENTORY);
      const src = await StaticInventorySource.fromFile(path);
      const changes: MetadataChange[] = [];
      src.onChange((c) => changes.push(c));
      const gen = src.policyGeneration;
      const next = INVENTORY.replace('    ip: 10.244.2.10\n', '    ip: 10.244.2.11\n').replace(/networkPolicies:[\s\S]*$/, '');
      await writeFile(path, next);
      await src.reload();
      assert.equal(src.getPodByIP('10.244.2.11')?.name, 'db-1');
      assert.equal(src.getPodByIP('10.244.2.10'), undefined);
      assert.equal(src.listNetworkPolicies().length, 0);
      assert.ok(src.policyGeneration > gen);
      assert.ok(changes.some((c) => c.resource === 'networkPolicy' && c.type === 'delete' && c.name === 'allow-web'));
      assert.ok(changes.some((c) => c.resource === 'pod' && c.type === 'update' && c.name === 'db-1'));
      await writeFile(path, 'pods: [{name: x, ip: nope}]');
      await assert.rejects(src.reload(), /pods\[0\] \(default\/x\): ip: invalid IP address "nope"/);
      assert.equal(src.getPodByIP('10.244.2.11')?.name, 'db-1', 'an invalid file changes nothing');
      await assert.rejects(StaticInventorySource.fromFile(join(dir, 'missing.yaml')), (e: unknown) => {
        return e instanceof MetadataError && e.code === 'INVENTORY_READ';
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
