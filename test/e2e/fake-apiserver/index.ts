/**
 * A fake Kubernetes API server over plain HTTP for tests and demos. It speaks the real list/watch
 * protocol for Pods, Services, Endpoints, EndpointSlices, Nodes, Namespaces, NetworkPolicies,
 * ConfigMaps and Secrets, serves the discovery documents kubectl needs, and lets the test drive it:
 *
 *   const api = await start();
 *   api.upsert({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'a', namespace: 'default' }, ... });
 *   // point a client at api.kubeconfigPath, then:
 *   api.dropWatches();  api.compact();  api.delete('Pod', 'default', 'a');  await api.stop();
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiHandler, type ExpiredWatchMode } from './http-server.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import type { KubeObject } from './object-store.ts';
import { findResourceType, type ResourceType } from './resources.ts';

export type { KubeObject } from './object-store.ts';
export type { ExpiredWatchMode } from './http-server.ts';
export { kubeconfigYaml } from './kubeconfig.ts';

export interface StartOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Address to listen on; default 127.0.0.1. */
  host?: string;
  /** Events kept for watches that resume from a resourceVersion; older ones get 410 Gone. */
  historyLimit?: number;
  /** Objects to create before serving. */
  objects?: readonly KubeObject[];
}

export interface FakeApiServer {
  readonly url: string;
  readonly port: number;
  readonly kubeconfigPath: string;
  /** Creates the object, or replaces it (MODIFIED) when it exists; namespaces are created on demand. */
  upsert<T extends KubeObject>(obj: T): T;
  /** Deletes an object (DELETED event); false when it did not exist. `kind` is a Kind, plural or short name. */
  delete(kind: string, namespace: string | undefined, name: string): boolean;
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(kind: string, namespace?: string): KubeObject[];
  /** Ends open watch streams (of one kind when given); abrupt resets the TCP connections. Returns how many. */
  dropWatches(opts?: { abrupt?: boolean; kind?: string }): number;
  /** Drops the event history: resuming a watch from any earlier resourceVersion yields 410 Gone. */
  compact(): void;
  /** How an expired watch is refused: an ERROR event with code 410 (like kube-apiserver) or HTTP 410. */
  setExpiredWatchMode(mode: ExpiredWatchMode): void;
  /** Sends a BOOKMARK to every watcher that set allowWatchBookmarks=true. */
  bookmark(): void;
  /** Number of open watch streams (of one kind when given). */
  activeWatches(kind?: string): number;
  /** Resolves once a new watch of `kind` has started (after this call); rejects after timeoutMs. */
  nextWatch(kind: string, timeoutMs?: number): Promise<void>;
  readonly resourceVersion: number;
  readonly requestLog: readonly { method: string; url: string; status?: number }[];
  stop(): Promise<void>;
}

function resourceType(kind: string): ResourceType {
  const rt = findResourceType(kind);
  if (rt === undefined) throw new Error(`fake API server: unknown kind ${kind}`);
  return rt;
}

export async function start(opts: StartOptions = {}): Promise<FakeApiServer> {
  const handler = new ApiHandler(opts.historyLimit);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) handler.ensureNamespace(ns);
  for (const obj of opts.objects ?? []) handler.upsert(resourceType(obj.kind ?? ''), obj);

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => handler.handle(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  const url = `http://${host}:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'fake-apiserver-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, url);

  return {
    url,
    port,
    kubeconfigPath,
    upsert: <T extends KubeObject>(obj: T) => handler.upsert(resourceType(obj.kind ?? ''), obj) as T,
    delete: (kind, namespace, name) => {
      const rt = resourceType(kind);
      if (handler.store.get(rt, namespace, name) === undefined) return false;
      handler.deleteObject(rt, namespace, name);
      return true;
    },
    get: (kind, namespace, name) => handler.store.get(resourceType(kind), namespace, name),
    list: (kind, namespace) => handler.store.list(resourceType(kind), namespace),
    dropWatches: (o = {}) => handler.dropWatches(o.abrupt ?? false, o.kind ? resourceType(o.kind) : undefined),
    compact: () => handler.store.compact(),
    setExpiredWatchMode: (mode) => {
      handler.expiredWatchMode = mode;
    },
    bookmark: () => handler.bookmark(),
    activeWatches: (kind) => {
      const rt = kind ? resourceType(kind) : undefined;
      let n = 0;
      for (const w of handler.store.watchers) if (rt === undefined || w.rt === rt) n++;
      return n;
    },
    nextWatch: (kind, timeoutMs = 5000) => {
      const rt = resourceType(kind);
      return new Promise<void>((resolve, reject) => {
        const onWatch = (started: ResourceType): void => {
          if (started !== rt) return;
          clearTimeout(timer);
          handler.off('watch', onWatch);
          resolve();
        };
        const timer = setTimeout(() => {
          handler.off('watch', onWatch);
          reject(new Error(`no new ${rt.plural} watch within ${timeoutMs} ms`));
        }, timeoutMs);
        handler.on('watch', onWatch);
      });
    },
    get resourceVersion() {
      return handler.store.resourceVersion;
    },
    requestLog: handler.requestLog,
    stop: async () => {
      handler.dropWatches(false);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
