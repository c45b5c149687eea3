import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentRecordValues } from './record-builder.ts';
import { EMPTY_CONTEXT, type Connection } from './connection.ts';
import { agentElementNames, agentTemplate, MessageWriter, SessionDecoder } from '../ipfix/index.ts';

const conn: Connection = {
  family: 4, flowStartSeconds: 100, flowEndSeconds: 105, flowEndReason: 2, sourceIP: '10.244.1.10', destinationIP: '10.244.2.10',
  sourceTransportPort: 40000, destinationTransportPort: 8080, protocolIdentifier: 6,
  packetTotalCount: 10n, octetTotalCount: 1000n, packetDeltaCount: 4n, octetDeltaCount: 400n,
  reversePacketTotalCount: 8n, reverseOctetTotalCount: 800n, reversePacketDeltaCount: 3n, reverseOctetDeltaCount: 300n,
  tcpState: 'ESTABLISHED', destinationClusterIP: '',
  context: { ...EMPTY_CONTEXT, sourcePodName: 'client', sourcePodNamespace: 'web', sourceNodeName: 'node-1', flowType: 2,
    egressNetworkPolicyName: 'allow-out', egressNetworkPolicyNamespace: 'web', egressNetworkPolicyType: 1, egressNetworkPolicyRuleName: 'egress-0', egressNetworkPolicyRuleAction: 1 },
};

test('every agent template element gets its value, by name', () => {
  const values = agentRecordValues(conn);
  const names = agentElementNames(4);
  assert.equal(values.length, 42);
  const byName = Object.fromEntries(names.map((n, i) => [n, values[i]]));
  assert.equal(byName.sourceIPv4Address, '10.244.1.10');
  assert.equal(byName.reverseOctetDeltaCount, 300n);
  assert.equal(byName.sourcePodName, 'client');
  assert.equal(byName.egressNetworkPolicyRuleName, 'egress-0');
  assert.equal(byName.destinationClusterIPv4, '0.0.0.0');
  assert.equal(byName.flowType, 2);
  assert.ok(values.every((v) => v !== undefined));
  // And it encodes and decodes through the template.
  const t = agentTemplate(4);
  const w = new MessageWriter({ observationDomainId: 1 });
  w.addTemplate(t);
  w.addRecord(t, values);
  w.flush();
  const r = new SessionDecoder({ transport: 'tcp' }).decodeMessage(w.drain()[0]);
  assert.deepEqual(r.records[0].values, values);
});

test('IPv6 connections use the IPv6 template layout', () => {
  const v = agentRecordValues({ ...conn, family: 6, sourceIP: 'fd00::1', destinationIP: 'fd00::2', destinationClusterIP: 'fd00:96::a' });
  const names = agentElementNames(6);
  assert.equal(v[names.indexOf('sourceIPv6Address')], 'fd00::1');
  assert.equal(v[names.indexOf('destinationClusterIPv6')], 'fd00:96::a');
});
