import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../errors.ts';
import type { FlowCollectorConfig } from '../../../config/aggregator-types.ts';
import { aggregatorElementNames, type DataRecord } from '../../../ipfix/index.ts';
import { CollectingProcess, ManualTimers, type CollectedMessage } from '../../../transport/index.ts';
import { TcpSink, until } from '../../../transport/testing/peers.ts';
import { generatePki } from '../../certs/pki.ts';
import { toAggregatorValues, type AggregatedFlow } from '../../core/index.ts';
import { sampleFlow } from '../testing/aggregated-flows.ts';
import { ipfixSinkFromConfig, IpfixSink } from './ipfix-sink.ts';
import { clusterObservationDomainId, uuidBytes } from './observation-domain.ts';

const CLUSTER_UUID = '0b7d9c2e-55b6-4a0c-9a64-6b8c3f0e1a2d';
/** FNV-1 32 of the UUID's 16 octets, computed independently (Python: uuid.UUID(...).bytes). */
const CLUSTER_DOMAIN = 796180287;

async function collector(transport: 'tcp' | 'udp'): Promise<{ cp: CollectingProcess; port: number; messages: CollectedMessage[] }> {
  const messages: CollectedMessage[] = [];
  const cp = new CollectingProcess({ transport, address: '127.0.0.1', port: 0, onMessage: (m) => messages.push(m) });
  const { port } = await cp.start();
  return { cp, port, messages };
}

const records = (messages: readonly CollectedMessage[]): DataRecord[] => messages.flatMap((m) => m.records);

function assertRecordsEqualFlows(got: readonly DataRecord[], flows: readonly AggregatedFlow[]): void {
  assert.equal(got.length, flows.length);
  const byPort = new Map(got.map((r) => [`${r.template.id}/${r.values[r.template.indexOf('sourceTransportPort')]}`, r]));
  for (const flow of flows) {
    const r = byPort.get(`${flow.family === 4 ? 256 : 257}/${flow.sourceTransportPort}`);
    assert.ok(r, `record of IPv${flow.family} flow ${flow.sourceTransportPort}`);
    assert.deepEqual(r.template.names, aggregatorElementNames(flow.family));
    assert.deepEqual(r.values, toAggregatorValues(flow));
  }
}

describe('observation domain ID', () => {
  it('is FNV-1 32 of the cluster UUID octets, whatever the UUID spelling', () => {
    assert.equal(clusterObservationDomainId(CLUSTER_UUID), CLUSTER_DOMAIN);
    assert.equal(clusterObservationDomainId(CLUSTER_UUID.toUpperCase()), CLUSTER_DOMAIN);
    assert.equal(clusterObservationDomainId(`{${CLUSTER_UUID}}`), CLUSTER_DOMAIN);
    assert.equal(clusterObservationDomainId(`urn:uuid:${CLUSTER_UUID}`), CLUSTER_DOMAIN);
    assert.equal(clusterObservationDomainId(CLUSTER_UUID.replace(/-/g, '')), CLUSTER_DOMAIN);
    assert.equal(uuidBytes(CLUSTER_UUID).length, 16);
    assert.throws(() => uuidBytes('not-a-uuid'), (e: unknown) => e instanceof ConfigError && e.code === 'UUID_INVALID');
  });
});

describe('IpfixSink', () => {
  it('exports IPv4 and IPv6 flows over TCP as 69-element records of templates 256/257, many per message', async () => {
    const { cp, port, messages } = await collector('tcp');
    const sink = new IpfixSink({ host: '127.0.0.1', port, transport: 'tcp', observationDomainId: clusterObservationDomainId(CLUSTER_UUID) });
    try {
      await until(() => messages.length > 0, 5000, 'templates');
      assert.deepEqual(messages[0].templates.map((t) => t.id).sort(), [256, 257], 'both templates announced first');
      assert.equal(messages[0].records.length, 0);
      const flows = Array.from({ length: 40 }, (_, i) => sampleFlow(i % 2 === 0 ? 4 : 6, i));
      for (const f of flows) sink.offer(f);
      await sink.flush();
      await until(() => records(messages).length === flows.length, 5000, 'records');
      assertRecordsEqualFlows(records(messages), flows);
      const dataMessages = messages.filter((m) => m.records.length > 0);
      assert.ok(dataMessages.length <= 4, `${dataMessages.length} messages for 40 records`);
      for (const m of messages) assert.equal(m.header.observationDomainId, CLUSTER_DOMAIN);
      assert.deepEqual(sink.stats(), { queued: 0, sent: 40, dropped: 0, failures: 0 });
    } finally {
      await sink.close();
      await cp.close();
    }
  });

  it('is built from flowCollector config: configured domain ID, maximum message size', async () => {
    const { cp, port, messages } = await collector('tcp');
    const config: FlowCollectorConfig = {
      enable: true, address: `127.0.0.1:${port}:tcp`,
      collector: { host: '127.0.0.1', port, proto: 'tcp', hostKind: 'ipv4', isServiceRef: false },
      observationDomainID: 1234, recordFormat: 'IPFIX', templateRefreshTimeout: 600_000, maxIPFIXMsgSize: 1400,
      tls: { enable: false, minVersion: 'VersionTLS12', insecureSkipVerify: false },
    };
    const sink = ipfixSinkFromConfig(config, { clusterUUID: CLUSTER_UUID });
    try {
      assert.equal(sink.observationDomainId, 1234);
      const flows = Array.from({ length: 12 }, (_, i) => sampleFlow(4, i));
      for (const f of flows) sink.offer(f);
      await sink.flush();
      await until(() => records(messages).length === flows.length, 5000, 'records');
      assertRecordsEqualFlows(records(messages), flows);
      for (const m of messages) {
        assert.equal(m.header.observationDomainId, 1234);
        assert.ok(m.header.length <= 1400, `message of ${m.header.length} octets`);
      }
      assert.ok(messages.filter((m) => m.records.length > 0).length >= 3, 'records spread over several messages');
    } finally {
      await sink.close();
      await cp.close();
    }
  });

  it('over UDP: respects the datagram size and re-sends both templates every templateRefreshTimeout', async () => {
    const { cp, port, messages } = await collector('udp');
    const timers = new ManualTimers();
    const sink = new IpfixSink({
      host: '127.0.0.1', port, transport: 'udp', observationDomainId: clusterObservationDomainId(CLUSTER_UUID),
      maxMessageSize: 1400, templateRefreshTimeoutMs: 60_000, timers,
    });
    const templateMessages = (): number => messages.filter((m) => m.templates.length === 2).length;
    try {
      await until(() => templateMessages() === 1, 5000, 'first templates');
      const flows = Array.from({ length: 20 }, (_, i) => sampleFlow(i < 10 ? 4 : 6, i));
      for (const f of flows) sink.offer(f);
      await sink.flush();
      await until(() => records(messages).length === flows.length, 5000, 'records');
      assertRecordsEqualFlows(records(messages), flows);
      for (const m of messages) assert.ok(m.header.length <= 1400);
      assert.equal(templateMessages(), 1);
      timers.advance(60_000);
      await until(() => templateMessages() === 2, 5000, 'refreshed templates');
      timers.advance(60_000);
      await until(() => templateMessages() === 3, 5000, 'refreshed templates again');
      const later = sampleFlow(6, 99);
      sink.offer(later);
      await sink.flush();
      await until(() => records(messages).length === 21, 5000, 'record after refresh');
      assert.equal(sink.stats().sent, 21);
    } finally {
      await sink.close();
      await cp.close();
    }
  });

  it('keeps flows while the collector is down and delivers them once it is up', async () => {
    const probe = await collector('tcp');
    const port = probe.port;
    await probe.cp.close();
    const timers = new ManualTimers();
    const sink = new IpfixSink({ host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 7, timers, backoff: { initialMs: 100 } });
    let cp: CollectingProcess | undefined;
    try {
      await until(() => sink.stats().failures >= 1, 5000, 'refused connection');
      const flows = Array.from({ length: 5 }, (_, i) => sampleFlow(4, i));
      for (const f of flows) sink.offer(f);
      await sink.flush();
      assert.equal(sink.stats().queued, 5, 'held by the exporting process');
      const messages: CollectedMessage[] = [];
      cp = new CollectingProcess({ transport: 'tcp', address: '127.0.0.1', port, onMessage: (m) => messages.push(m) });
      await cp.start();
      timers.advance(100);
      await until(() => records(messages).length === 5, 5000, 'records after reconnect');
      assertRecordsEqualFlows(records(messages), flows);
      assert.match(sink.stats().lastError ?? '', /ECONNREFUSED/);
    } finally {
      await sink.close();
      await cp?.close();
    }
  });

  it('takes an expiry pass larger than its queue whole while the collector keeps up', async () => {
    const { cp, port, messages } = await collector('tcp');
    const sink = new IpfixSink({ host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 7, maxQueue: 50 });
    try {
      await until(() => sink.exporter.connected, 5000, 'connected');
      const flows = Array.from({ length: 400 }, (_, i) => sampleFlow(4, i));
      for (const f of flows) sink.offer(f); // one synchronous burst, as from one expiry pass
      await sink.flush();
      await until(() => records(messages).length === flows.length, 5000, 'records');
      assertRecordsEqualFlows(records(messages), flows);
      assert.deepEqual(sink.stats(), { queued: 0, sent: 400, dropped: 0, failures: 0 });
    } finally {
      await sink.close();
      await cp.close();
    }
  });

  it('while the collector pushes back, keeps flows in order and sends the last message once the backlog is gone', async () => {
    const peer = await TcpSink.listen();
    // Manual timers that never advance: the exporting process's own flush timer never fires.
    const sink = new IpfixSink({
      host: '127.0.0.1', port: peer.port, transport: 'tcp', observationDomainId: 7, maxQueue: 20_000, maxBufferedBytes: 16_384,
      timers: new ManualTimers(),
    });
    try {
      await until(() => peer.connections.length === 1 && sink.exporter.connected, 5000, 'connected');
      peer.connections[0].socket.pause();
      const total = 12_000; // ~12 MB: more than the socket buffers hold
      for (let i = 0; i < total; i += 500) {
        for (let k = i; k < i + 500; k++) sink.offer(sampleFlow(4, k));
        await new Promise((r) => setImmediate(r));
      }
      await until(() => sink.exporter.queueDepth > 0, 5000, 'backpressure');
      peer.connections[0].socket.resume();
      await until(() => peer.recordCount === total, 20_000, 'every record');
      const ports = peer.messages.flatMap((m) => m.records.map((r) => r.values[r.template.indexOf('sourceTransportPort')]));
      assert.deepEqual(ports, Array.from({ length: total }, (_, i) => 40_000 + (i % 20_000)));
      assert.equal(sink.stats().dropped, 0);
    } finally {
      await sink.close();
      await peer.close();
    }
  });

  it('exports over mutual TLS with the CA and client pair given as Secret material', async () => {
    const pki = generatePki();
    const messages: CollectedMessage[] = [];
    const cp = new CollectingProcess({
      transport: 'tls', address: '127.0.0.1', port: 0, onMessage: (m) => messages.push(m),
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requireClientCert: true },
    });
    const { port } = await cp.start();
    const config: FlowCollectorConfig = {
      enable: true, address: `127.0.0.1:${port}:tls`,
      collector: { host: '127.0.0.1', port, proto: 'tls', hostKind: 'ipv4', isServiceRef: false },
      recordFormat: 'IPFIX', templateRefreshTimeout: 600_000, maxIPFIXMsgSize: 0,
      tls: { enable: true, caSecretName: 'collector-ca', clientSecretName: 'collector-client', minVersion: 'VersionTLS12', insecureSkipVerify: false },
    };
    const sink = ipfixSinkFromConfig(config, {
      clusterUUID: CLUSTER_UUID, tlsMaterial: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key },
    });
    try {
      const flows = [sampleFlow(4, 1), sampleFlow(6, 2)];
      for (const f of flows) sink.offer(f);
      await sink.flush();
      await until(() => records(messages).length === 2, 5000, 'records over TLS');
      assertRecordsEqualFlows(records(messages), flows);
      assert.equal(messages[0].session.transport, 'tls');
      assert.equal(messages[0].header.observationDomainId, CLUSTER_DOMAIN);
    } finally {
      await sink.close();
      await cp.close();
    }
  });
});
