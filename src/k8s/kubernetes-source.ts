/**
 * KubernetesMetadataSource: Pods, Services, Nodes, Namespaces and NetworkPolicies from the API
 * server through @kubernetes/client-node informers (list, then watch from the list's
 * resourceVersion).
 *
 * Reconnection: the client's ListWatch re-watches by itself when the server ends a watch cleanly,
 * and relists when told its resourceVersion is too old (HTTP 410 or a watch ERROR event with code
 * 410). Any other failure (connection refused or reset, a failed list) stops it; this source then
 * restarts it after a backoff (initialDelayMs doubling up to maxDelayMs, reset after a successful
 * start). Objects deleted while disconnected are reported as deleted by the relist.
 *
 * Memory: the informer cache keeps the API objects; the fields we never read (managedFields, the
 * last-applied annotation, Pod volumes, probes, env, statuses) are removed from them in place.
 */
import {
  CoreV1Api,
  KubeConfig,
  ListWatch,
  NetworkingV1Api,
  Watch,
  makeInformer,
  type Informer,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import { MetadataError } from '../errors.ts';
import { ClusterState, type ClusterStateOptions } from './cluster-state.ts';
import {
  namespaceFromApi,
  networkPolicyFromApi,
  nodeFromApi,
  podFromApi,
  serviceFromApi,
} from './from-api-objects.ts';
import type { MetadataSource } from './metadata-source.ts';

export const INFORMER_RESOURCES = ['pods', 'services', 'nodes', 'namespaces', 'networkPolicies'] as const;
export type InformerResource = (typeof INFORMER_RESOURCES)[number];

export interface KubernetesSourceOptions extends ClusterStateOptions {
  /** A loaded KubeConfig; else `kubeconfigPath`; else the default (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeConfig?: KubeConfig;
  kubeconfigPath?: string;
  /** Resources to watch (all by default). The aggregator, for example, needs no NetworkPolicies. */
  resources?: Partial<Record<InformerResource, boolean>>;
  /** Field selector for the Pod informer, e.g. `spec.nodeName=node1` for an agent that only needs its own Pods. */
  podFieldSelector?: string;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Called for every informer failure (the source keeps retrying). */
  onError?: (err: MetadataError) => void;
}

export interface InformerStats {
  readonly synced: boolean;
  readonly errors: number;
  readonly restarts: number;
}

interface Handle {
  readonly resource: InformerResource;
  readonly informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  synced: boolean;
  errors: number;
  restarts: number;
  backoffMs: number;
  restartTimer: NodeJS.Timeout | undefined;
  readonly syncPromise: Promise<void>;
  resolveSync: () => void;
}

type Obj = Record<string, unknown>;

/** Removes, in place, the parts of cached API objects that nothing here reads. */
function slim(resource: InformerResource, o: KubernetesObject): void {
  const meta = o.metadata as Obj | undefined;
  if (meta !== undefined) {
    delete meta.managedFields;
    const ann = meta.annotations as Obj | undefined;
    if (ann !== undefined) delete ann['kubectl.kubernetes.io/last-applied-configuration'];
  }
  if (resource !== 'pods') return;
  const spec = (o as Obj).spec as Obj | undefined;
  const status = (o as Obj).status as Obj | undefined;
  if (spec !== undefined) {
    delete spec.volumes;
    for (const list of [spec.containers, spec.initContainers]) {
      if (!Array.isArray(list)) continue;
      for (const c of list as Obj[]) {
        for (const k of ['env', 'envFrom', 'volumeMounts', 'command', 'args', 'resources', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
          delete c[k];
        }
      }
    }
  }
  if (status !== undefined) {
    for (const k of ['conditions', 'containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) delete status[k];
  }
}

export class KubernetesMetadataSource extends ClusterState implements MetadataSource {
  readonly kind = 'kubernetes' as const;
  private readonly kc: KubeConfig;
  private readonly handles: Handle[] = [];
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onError: ((err: MetadataError) => void) | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: KubernetesSourceOptions = {}) {
    super(opts);
    if (opts.kubeConfig !== undefined) {
      this.kc = opts.kubeConfig;
    } else {
      this.kc = new KubeConfig();
      try {
        if (opts.kubeconfigPath !== undefined) this.kc.loadFromFile(opts.kubeconfigPath);
        else this.kc.loadFromDefault();
      } catch (err) {
        throw new MetadataError('KUBECONFIG_INVALID', `cannot load kubeconfig: ${(err as Error).message}`, {
          path: opts.kubeconfigPath,
        }, { cause: err });
      }
    }
    this.initialDelayMs = opts.reconnect?.initialDelayMs ?? 500;
    this.maxDelayMs = opts.reconnect?.maxDelayMs ?? 30_000;
    this.onError = opts.onError;
  }

  /** Creates the informers and starts them; returns without waiting for the initial lists (see waitForSync). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const core = this.kc.makeApiClient(CoreV1Api);
    const networking = this.kc.makeApiClient(NetworkingV1Api);
    const enabled = (r: InformerResource): boolean => this.opts.resources?.[r] ?? true;
    type ListFn = () => Promise<KubernetesListObject<KubernetesObject>>;
    const defs: { resource: InformerResource; path: string; list: ListFn; fieldSelector?: string }[] = [
      {
        resource: 'pods',
        path: '/api/v1/pods',
        list: () => core.listPodForAllNamespaces({ fieldSelector: this.opts.podFieldSelector }),
        fieldSelector: this.opts.podFieldSelector,
      },
      { resource: 'services', path: '/api/v1/services', list: () => core.listServiceForAllNamespaces() },
      { resource: 'nodes', path: '/api/v1/nodes', list: () => core.listNode() },
      { resource: 'namespaces', path: '/api/v1/namespaces', list: () => core.listNamespace() },
      {
        resource: 'networkPolicies',
        path: '/apis/networking.k8s.io/v1/networkpolicies',
        list: () => networking.listNetworkPolicyForAllNamespaces(),
      },
    ];
    for (const def of defs) {
      if (!enabled(def.resource)) continue;
      const informer =
        def.fieldSelector === undefined
          ? makeInformer(this.kc, def.path, def.list)
          : new ListWatch(def.path, new Watch(this.kc), def.list, false, undefined, def.fieldSelector);
      let resolveSync!: () => void;
      const syncPromise = new Promise<void>((resolve) => (resolveSync = resolve));
      const h: Handle = {
        resource: def.resource,
        informer,
        synced: false,
        errors: 0,
        restarts: 0,
        backoffMs: this.initialDelayMs,
        restartTimer: undefined,
        syncPromise,
        resolveSync,
      };
      informer.on('add', (o) => this.apply(h.resource, 'upsert', o));
      informer.on('update', (o) => this.apply(h.resource, 'upsert', o));
      informer.on('delete', (o) => this.apply(h.resource, 'delete', o));
      informer.on('error', (err) => this.informerFailed(h, err));
      this.handles.push(h);
    }
    for (const h of this.handles) void this.run(h);
  }

  private async run(h: Handle): Promise<void> {
    if (this.stopped) return;
    const errorsBefore = h.errors;
    try {
      await h.informer.start();
    } catch (err) {
      this.informerFailed(h, err);
      return;
    }
    if (this.stopped || h.errors !== errorsBefore) return;
    h.backoffMs = this.initialDelayMs;
    if (!h.synced) {
      h.synced = true;
      h.resolveSync();
    }
  }

  private informerFailed(h: Handle, err: unknown): void {
    if (this.stopped) return;
    h.errors++;
    const status = (err as { statusCode?: number; code?: number | string } | undefined)?.statusCode;
    const message = err instanceof Error ? err.message : String(err);
    this.onError?.(
      new MetadataError('INFORMER_ERROR', `${h.resource} informer failed: ${message}`, {
        resource: h.resource,
        status,
        retryInMs: h.restartTimer === undefined ? h.backoffMs : undefined,
      }, { cause: err }),
    );
    if (h.restartTimer !== undefined) return;
    const delay = h.backoffMs;
    h.backoffMs = Math.min(h.backoffMs * 2, this.maxDelayMs);
    h.restartTimer = setTimeout(() => {
      h.restartTimer = undefined;
      h.restarts++;
      void this.run(h);
    }, delay);
  }

  private apply(resource: InformerResource, op: 'upsert' | 'delete', o: KubernetesObject): void {
    if (op === 'upsert') slim(resource, o);
    const ns = o.metadata?.namespace ?? '';
    const name = o.metadata?.name ?? '';
    switch (resource) {
      case 'pods': {
        const p = podFromApi(o);
        if (p === undefined || p.hostNetwork) return;
        if (op === 'delete') this.deletePod(p.pod);
        else this.upsertPod(p.pod, { pending: p.pending, creationTimestamp: p.creationTimestamp });
        return;
      }
      case 'services': {
        if (op === 'delete') return this.deleteService(ns, name);
        const svc = serviceFromApi(o);
        if (svc !== undefined) this.upsertService(svc);
        // A Service that became ExternalName no longer has addresses of its own.
        else this.deleteService(ns, name);
        return;
      }
      case 'nodes': {
        if (op === 'delete') return this.deleteNode(name);
        const node = nodeFromApi(o);
        if (node !== undefined) this.upsertNode(node);
        return;
      }
      case 'namespaces': {
        if (op === 'delete') return this.deleteNamespace(name);
        const nsInfo = namespaceFromApi(o);
        if (nsInfo !== undefined) this.upsertNamespace(nsInfo);
        return;
      }
      case 'networkPolicies': {
        if (op === 'delete') return this.deleteNetworkPolicy(ns, name);
        const np = networkPolicyFromApi(o);
        if (np !== undefined) this.upsertNetworkPolicy(np);
        return;
      }
    }
  }

  get synced(): boolean {
    return this.started && this.handles.every((h) => h.synced);
  }

  async waitForSync(timeoutMs = 60_000): Promise<void> {
    if (!this.started) await this.start();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const pending = this.handles.filter((h) => !h.synced).map((h) => h.resource);
        reject(
          new MetadataError('SYNC_TIMEOUT', `Kubernetes informers not synced after ${timeoutMs} ms: ${pending.join(', ')}`, {
            pending: pending.join(','),
            timeoutMs,
          }),
        );
      }, timeoutMs);
    });
    try {
      await Promise.race([Promise.all(this.handles.map((h) => h.syncPromise)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  stats(): Record<string, InformerStats> {
    const out: Record<string, InformerStats> = {};
    for (const h of this.handles) out[h.resource] = { synced: h.synced, errors: h.errors, restarts: h.restarts };
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const h of this.handles) {
      if (h.restartTimer !== undefined) clearTimeout(h.restartTimer);
      h.restartTimer = undefined;
    }
    await Promise.all(this.handles.map((h) => h.informer.stop()));
  }
}
