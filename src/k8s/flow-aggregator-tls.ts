/**
 * The TLS material the Flow Aggregator publishes for agents (as Antrea does): the CA certificate
 * in ConfigMap `flow-aggregator-ca` (key `ca.crt`) and the client certificate and key in Secret
 * `flow-aggregator-client-tls` (keys `tls.crt`, `tls.key`), both in namespace flow-aggregator.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { MetadataError } from '../errors.ts';

export const FLOW_AGGREGATOR_TLS = {
  namespace: 'flow-aggregator',
  caConfigMap: 'flow-aggregator-ca',
  clientSecret: 'flow-aggregator-client-tls',
} as const;

export interface AggregatorTlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

export async function readAggregatorTlsMaterial(kc: KubeConfig, namespace: string = FLOW_AGGREGATOR_TLS.namespace): Promise<AggregatorTlsMaterial> {
  const api = kc.makeApiClient(CoreV1Api);
  const where = `${namespace}/${FLOW_AGGREGATOR_TLS.caConfigMap} and ${namespace}/${FLOW_AGGREGATOR_TLS.clientSecret}`;
  try {
    const cm = await api.readNamespacedConfigMap({ name: FLOW_AGGREGATOR_TLS.caConfigMap, namespace });
    const secret = await api.readNamespacedSecret({ name: FLOW_AGGREGATOR_TLS.clientSecret, namespace });
    const ca = cm.data?.['ca.crt'];
    const cert = secret.data?.['tls.crt'];
    const key = secret.data?.['tls.key'];
    if (!ca || !cert || !key) throw new Error('ca.crt, tls.crt or tls.key is missing');
    return { ca, cert: Buffer.from(cert, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') };
  } catch (e) {
    throw new MetadataError('AGGREGATOR_TLS_UNAVAILABLE', `cannot read the flow aggregator's TLS material (${where}): ${(e as Error).message}`, { namespace }, { cause: e });
  }
}
