/**
 * For tests: a real AggregationProcess fed with Antrea-agent records (encoded to IPFIX and decoded
 * back), served by a real API server over HTTPS on loopback, with a generated PKI and a token file
 * in a temporary directory.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { generatePki, type Pki } from '../../certs/index.ts';
import { AggregationProcess } from '../../core/index.ts';
import { agentRecord, type AgentFields } from '../../core/testing/agent-records.ts';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../api-server.ts';
import { loadOrCreateToken } from '../token.ts';
import type { RecordMetrics } from '../types.ts';

/** 2^63 + 5: survives only as an exact integer. */
export const BIG_OCTETS = 9223372036854775813n;

export const INTRA_TCP: AgentFields = {
  sourceAddress: '10.0.1.2', destinationAddress: '10.0.1.3', protocolIdentifier: 6, sourceTransportPort: 50000, destinationTransportPort: 8080,
  sourcePodName: 'client', sourcePodNamespace: 'ns-a', sourceNodeName: 'n1', destinationPodName: 'server', destinationPodNamespace: 'ns-b',
  destinationNodeName: 'n1', destinationClusterIP: '10.96.0.10', destinationServicePort: 80, destinationServicePortName: 'ns-b/server:http',
  flowType: 1, flowStartSeconds: 1000, flowEndSeconds: 1010, flowEndReason: 2, tcpState: 'ESTABLISHED',
  packetTotalCount: 10n, octetTotalCount: BIG_OCTETS, packetDeltaCount: 10n, octetDeltaCount: 1000n,
};
/** Inter-Node, only the source Node has reported: correlationState "waiting". */
export const INTER_WAITING: AgentFields = {
  sourceAddress: '10.0.1.2', destinationAddress: '10.0.2.9', protocolIdentifier: 6, sourceTransportPort: 45000, destinationTransportPort: 443,
  sourcePodName: 'client', sourcePodNamespace: 'ns-a', sourceNodeName: 'n1', flowType: 2, flowStartSeconds: 1000, flowEndSeconds: 1005, flowEndReason: 2,
};
export const V6_UDP: AgentFields = {
  sourceAddress: 'fd00:10:244:1::5', destinationAddress: 'fd00:10:244:1::7', protocolIdentifier: 17, sourceTransportPort: 5353, destinationTransportPort: 53,
  sourcePodName: 'dns-client', sourcePodNamespace: 'ns-c', sourceNodeName: 'n1', destinationPodName: 'coredns', destinationPodNamespace: 'kube-system',
  destinationNodeName: 'n1', flowType: 1, flowStartSeconds: 1000, flowEndSeconds: 1001, flowEndReason: 2,
};
/** `n` intra-Node UDP flows from 10.0.3.1, source ports 20000.. */
export function bulkFlows(n: number): AgentFields[] {
  return Array.from({ length: n }, (_, i) => ({
    sourceAddress: '10.0.3.1', destinationAddress: '10.0.3.2', protocolIdentifier: 17, sourceTransportPort: 20000 + i, destinationTransportPort: 9000,
    sourcePodName: `bulk-${i}`, sourcePodNamespace: 'ns-bulk', sourceNodeName: 'n3', destinationPodName: 'sink', destinationPodNamespace: 'ns-bulk',
    destinationNodeName: 'n3', flowType: 1, flowStartSeconds: 1000, flowEndSeconds: 1002, flowEndReason: 2,
  }));
}

export interface ApiFixture {
  readonly dir: string;
  readonly pki: Pki;
  readonly caFile: string;
  readonly tokenFile: string;
  readonly token: string;
  readonly process: AggregationProcess;
  readonly registry: Registry;
  readonly server: ApiServer;
  /** What /recordmetrics returns; tests may change it. */
  metrics: RecordMetrics;
  close(): Promise<void>;
}

export async function startApiFixture(options: Partial<ApiServerOptions> & { bulk?: number } = {}): Promise<ApiFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'flowvis-api-'));
  try {
    const pki = generatePki();
    const caFile = join(dir, 'ca.crt');
    await writeFile(caFile, pki.ca.cert);
    const tokenFile = join(dir, 'api-token');
    const token = await loadOrCreateToken(tokenFile);
    const proc = new AggregationProcess({ sink: () => undefined, clusterId: 'cluster-1' });
    for (const fields of [INTRA_TCP, INTER_WAITING, V6_UDP, ...bulkFlows(options.bulk ?? 0)]) {
      const err = proc.ingest(agentRecord(String(fields.sourceAddress).includes(':') ? 6 : 4, fields));
      if (err) throw err;
    }
    const registry = new Registry();
    new Gauge({ name: 'flowvis_test_gauge', help: 'A metric registered by the test.', registers: [registry] }).set(7);
    const fixture: ApiFixture = {
      dir, pki, caFile, tokenFile, token, process: proc, registry,
      metrics: {
        numRecordsExported: 12, numRecordsReceived: 2n ** 64n - 1n, numRecordsDropped: 1, numFlows: proc.numFlows, numConnToCollector: 2,
        withClickHouseExporter: true, withS3Exporter: false, withLogExporter: false, withIPFIXExporter: true,
      },
      server: undefined as unknown as ApiServer,
      close: async () => {
        await fixture.server.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
    const server = await startApiServer({
      queries: proc, recordMetrics: () => fixture.metrics, registry, cert: pki.server.cert, key: pki.server.key, token, port: 0, address: '127.0.0.1',
      ...options,
    });
    return Object.assign(fixture, { server });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
