/**
 * The PKI in Kubernetes (namespace flow-aggregator by default), through the CoreV1 API:
 *
 *   ConfigMap flow-aggregator-ca          ca.crt                   the CA agents trust (upstream)
 *   Secret    flow-aggregator-client-tls  tls.crt, tls.key, ca.crt the agents' client pair (upstream)
 *   Secret    flow-aggregator-ca          tls.crt, tls.key         the CA and its key (Antrea HEAD),
 *                                                                  so a restart keeps the CA
 *   Secret    flow-aggregator-server-tls  tls.crt, tls.key         the server pair (Antrea HEAD)
 *
 * Each object is created when missing and updated (with its resourceVersion, retried on a
 * conflict) only when its content differs. The aggregator's ServiceAccount needs get, create and
 * update on these ConfigMaps and Secrets in its namespace.
 */
import type { CoreV1Api, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { MetadataError } from '../../errors.ts';
import { FLOW_AGGREGATOR_TLS } from '../../k8s/flow-aggregator-tls.ts';
import { FLOW_AGGREGATOR_NAMESPACE, type PemPair, type Pki } from './pki.ts';
import type { PkiStore } from './store.ts';

export const CA_CONFIGMAP_NAME = FLOW_AGGREGATOR_TLS.caConfigMap;
export const CA_CONFIGMAP_KEY = 'ca.crt';
export const CLIENT_SECRET_NAME = FLOW_AGGREGATOR_TLS.clientSecret;
export const CA_SECRET_NAME = 'flow-aggregator-ca';
export const SERVER_SECRET_NAME = 'flow-aggregator-server-tls';
const LABELS = { app: 'flow-aggregator' };

/** The CoreV1Api calls used here (a real CoreV1Api satisfies it). */
export type CoreV1Subset = Pick<
  CoreV1Api,
  'readNamespacedConfigMap' | 'createNamespacedConfigMap' | 'replaceNamespacedConfigMap' | 'readNamespacedSecret' | 'createNamespacedSecret' | 'replaceNamespacedSecret'
>;

export type UpsertResult = 'created' | 'updated' | 'unchanged';

function httpCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function failure(action: string, kind: string, ns: string, name: string, e: unknown): MetadataError {
  const status = httpCode(e);
  return new MetadataError('K8S_WRITE', `${action} ${kind} ${ns}/${name} failed${status ? ` (HTTP ${status})` : ''}: ${(e as Error).message}`, { kind, namespace: ns, name, status }, { cause: e });
}

async function readOrUndefined<T>(read: () => Promise<T>, kind: string, ns: string, name: string): Promise<T | undefined> {
  try {
    return await read();
  } catch (e) {
    if (httpCode(e) === 404) return undefined;
    throw failure('reading', kind, ns, name, e);
  }
}

function sameData(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a?.[k] === b[k]);
}

/**
 * Creates or updates an object: read; create when absent; replace when its data differs. A 409
 * (created meanwhile, or changed since read) starts over, up to three times.
 */
async function upsert<T extends { data?: Record<string, string>; metadata?: { resourceVersion?: string } }>(
  kind: string, ns: string, name: string, data: Record<string, string>,
  ops: { read: () => Promise<T>; create: () => Promise<unknown>; replace: (existing: T) => Promise<unknown> },
): Promise<UpsertResult> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await readOrUndefined(ops.read, kind, ns, name);
    try {
      if (existing === undefined) {
        await ops.create();
        return 'created';
      }
      if (sameData(existing.data, data)) return 'unchanged';
      await ops.replace(existing);
      return 'updated';
    } catch (e) {
      if (httpCode(e) !== 409) throw failure(existing === undefined ? 'creating' : 'updating', kind, ns, name, e);
      lastError = e;
    }
  }
  throw failure('writing', kind, ns, name, lastError);
}

export function upsertConfigMap(api: CoreV1Subset, namespace: string, name: string, data: Record<string, string>): Promise<UpsertResult> {
  return upsert<V1ConfigMap>('ConfigMap', namespace, name, data, {
    read: () => api.readNamespacedConfigMap({ name, namespace }),
    create: () => api.createNamespacedConfigMap({ namespace, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: LABELS }, data } }),
    replace: (cm) => api.replaceNamespacedConfigMap({ name, namespace, body: { ...cm, data } }),
  });
}

/** `data` as plain text; it is base64-encoded here. */
export function upsertTlsSecret(api: CoreV1Subset, namespace: string, name: string, data: Record<string, string>): Promise<UpsertResult> {
  const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));
  return upsert<V1Secret>('Secret', namespace, name, encoded, {
    read: () => api.readNamespacedSecret({ name, namespace }),
    create: () => api.createNamespacedSecret({
      namespace, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels: LABELS }, type: 'kubernetes.io/tls', data: encoded },
    }),
    replace: (s) => api.replaceNamespacedSecret({ name, namespace, body: { ...s, data: encoded } }),
  });
}

export interface PublishResult {
  readonly caConfigMap: UpsertResult;
  readonly clientSecret: UpsertResult;
}

/** Publishes what exporters need: the CA ConfigMap and the client Secret (as upstream does). */
export async function publishExporterMaterials(api: CoreV1Subset, pki: Pki, namespace = FLOW_AGGREGATOR_NAMESPACE): Promise<PublishResult> {
  const caConfigMap = await upsertConfigMap(api, namespace, CA_CONFIGMAP_NAME, { [CA_CONFIGMAP_KEY]: pki.ca.cert });
  const clientSecret = await upsertTlsSecret(api, namespace, CLIENT_SECRET_NAME, { 'tls.crt': pki.client.cert, 'tls.key': pki.client.key, 'ca.crt': pki.ca.cert });
  return { caConfigMap, clientSecret };
}

function decodePair(secret: V1Secret | undefined): PemPair | undefined {
  const cert = secret?.data?.['tls.crt'];
  const key = secret?.data?.['tls.key'];
  if (!cert || !key) return undefined;
  return { cert: Buffer.from(cert, 'base64').toString('utf8'), key: Buffer.from(key, 'base64').toString('utf8') };
}

export class KubernetesPkiStore implements PkiStore {
  /** Results of the last save(), for logs and tests. */
  lastSave: (PublishResult & { caSecret: UpsertResult; serverSecret: UpsertResult }) | undefined;

  constructor(private readonly api: CoreV1Subset, readonly namespace = FLOW_AGGREGATOR_NAMESPACE) {}

  get description(): string {
    return `Kubernetes namespace ${this.namespace}`;
  }

  async load(): Promise<Partial<Pki>> {
    const ns = this.namespace;
    const read = (name: string): Promise<V1Secret | undefined> => readOrUndefined(() => this.api.readNamespacedSecret({ name, namespace: ns }), 'Secret', ns, name);
    const [ca, server, client] = await Promise.all([read(CA_SECRET_NAME), read(SERVER_SECRET_NAME), read(CLIENT_SECRET_NAME)]);
    const out: { -readonly [K in keyof Pki]?: PemPair } = {};
    const pairs = { ca: decodePair(ca), server: decodePair(server), client: decodePair(client) };
    for (const part of ['ca', 'server', 'client'] as const) if (pairs[part]) out[part] = pairs[part];
    return out;
  }

  async save(pki: Pki): Promise<void> {
    const ns = this.namespace;
    // The CA and its key first: if a later write fails, the next start still finds the CA.
    const caSecret = await upsertTlsSecret(this.api, ns, CA_SECRET_NAME, { 'tls.crt': pki.ca.cert, 'tls.key': pki.ca.key });
    const serverSecret = await upsertTlsSecret(this.api, ns, SERVER_SECRET_NAME, { 'tls.crt': pki.server.cert, 'tls.key': pki.server.key });
    const published = await publishExporterMaterials(this.api, pki, ns);
    this.lastSave = { caSecret, serverSecret, ...published };
  }
}
