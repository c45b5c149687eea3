/**
 * The fake Kubernetes API server (test/e2e/fake-apiserver) run as its own process inside a network
 * namespace of the cluster (e.g. "agg" on 10.0.0.254), so that agents in node namespaces reach it
 * over the underlay, and filled over its HTTP API with the cluster's objects (curl inside the same
 * namespace: the test process itself lives in the root namespace, which cannot reach it).
 */
import { join } from 'node:path';
import type { NetnsCluster } from '../netns/cluster.ts';
import type { ManagedProcess } from '../netns/exec.ts';
import type { KubeObject } from '../fake-apiserver/object-store.ts';
import { apiVersionOf, findResourceType } from '../fake-apiserver/resources.ts';

export interface FakeApiServerProcessOptions {
  /** Logical namespace name (default "agg"). */
  namespace?: string;
  /** Address to listen on (default: the aggregator's underlay IPv4 address). */
  host?: string;
  /** TCP port (default 0: a free one). */
  port?: number;
  /** Where to write the kubeconfig for clients. */
  kubeconfigPath: string;
  startTimeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** REST path of an object's collection (name undefined) or of the object itself. */
export function resourcePath(kind: string, namespace: string | undefined, name?: string): string {
  const rt = findResourceType(kind);
  if (rt === undefined) throw new Error(`fake API server: unknown kind ${kind}`);
  const base = rt.group === '' ? `/api/${rt.version}` : `/apis/${apiVersionOf(rt)}`;
  if (rt.namespaced && namespace === undefined) throw new Error(`${kind} needs a namespace`);
  const ns = rt.namespaced ? `/namespaces/${namespace}` : '';
  return `${base}${ns}/${rt.plural}${name === undefined ? '' : `/${name}`}`;
}

export class FakeApiServerProcess {
  private constructor(
    private readonly cluster: NetnsCluster,
    private readonly namespace: string,
    readonly process: ManagedProcess,
    readonly url: string,
    readonly kubeconfigPath: string,
  ) {}

  /** Starts the server and waits until it listens. The process is killed by `cluster.destroy()`. */
  static async start(cluster: NetnsCluster, o: FakeApiServerProcessOptions): Promise<FakeApiServerProcess> {
    const namespace = o.namespace ?? 'agg';
    const host = o.host ?? cluster.aggregator?.ipv4;
    if (host === undefined) throw new Error('fake API server: give a host (the cluster has no aggregator namespace)');
    const proc = cluster.spawn(namespace, [
      'node', '--import', 'tsx', join('test', 'e2e', 'fake-apiserver', 'main.ts'),
      '--host', host, '--port', String(o.port ?? 0), '--kubeconfig', o.kubeconfigPath,
    ]);
    const m = await proc.waitForOutput(/^\{"url":"([^"]+)"/m, o.startTimeoutMs ?? 20_000);
    return new FakeApiServerProcess(cluster, namespace, proc, m[1], o.kubeconfigPath);
  }

  /** One HTTP request to the server (JSON in and out). */
  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse> {
    const argv = ['curl', '-sS', '--max-time', '10', '-X', method, '-w', '\n%{http_code}'];
    if (body !== undefined) argv.push('-H', `Content-Type: ${contentType}`, '--data-binary', '@-');
    argv.push(`${this.url}${path}`);
    const r = await this.cluster.exec(this.namespace, argv, {
      input: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: 15_000,
    });
    const nl = r.stdout.lastIndexOf('\n');
    const status = Number(r.stdout.slice(nl + 1));
    const text = r.stdout.slice(0, nl);
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status, body: parsed };
  }

  /** Creates an object (POST); rejects unless the server answers 201. */
  async create(obj: KubeObject): Promise<KubeObject> {
    const r = await this.request('POST', resourcePath(obj.kind ?? '', obj.metadata.namespace), obj);
    if (r.status !== 201) throw new Error(`create ${obj.kind} ${obj.metadata.namespace ?? ''}/${obj.metadata.name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as KubeObject;
  }

  /** Creates the object, or merge-patches it when it exists. */
  async apply(obj: KubeObject): Promise<KubeObject> {
    const r = await this.request('POST', resourcePath(obj.kind ?? '', obj.metadata.namespace), obj);
    if (r.status === 201) return r.body as KubeObject;
    if (r.status !== 409) throw new Error(`apply ${obj.kind} ${obj.metadata.name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    const p = await this.request('PATCH', resourcePath(obj.kind ?? '', obj.metadata.namespace, obj.metadata.name), obj, 'application/merge-patch+json');
    if (p.status !== 200) throw new Error(`patch ${obj.kind} ${obj.metadata.name}: HTTP ${p.status} ${JSON.stringify(p.body)}`);
    return p.body as KubeObject;
  }

  /** Creates objects in order (put Namespaces first: namespaced objects need theirs). */
  async createAll(objects: readonly KubeObject[]): Promise<void> {
    for (const obj of objects) await this.create(obj);
  }

  /** Deletes an object; false when it did not exist. */
  async remove(kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    const r = await this.request('DELETE', resourcePath(kind, namespace, name));
    if (r.status === 404) return false;
    if (r.status !== 200) throw new Error(`delete ${kind} ${name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return true;
  }

  /** Lists objects of a kind (in one namespace, or all). */
  async list(kind: string, namespace?: string): Promise<KubeObject[]> {
    const rt = findResourceType(kind);
    const path = rt?.namespaced && namespace === undefined
      ? resourcePath(kind, '_').replace('/namespaces/_', '')
      : resourcePath(kind, namespace);
    const r = await this.request('GET', path);
    if (r.status !== 200) throw new Error(`list ${kind}: HTTP ${r.status}`);
    return (r.body as { items: KubeObject[] }).items;
  }

  async stop(): Promise<void> {
    await this.process.kill();
  }
}
