/**
 * The fake API server's storage: objects per resource type, one cluster-wide resourceVersion counter
 * (like etcd's revision), a bounded event history for watches that resume from a resourceVersion,
 * and the live watchers. Watch semantics follow the API server's watch cache: an object that starts
 * matching a watcher's selectors arrives as ADDED, one that stops matching as DELETED (carrying the
 * previous content with the new resourceVersion).
 */
import { randomUUID } from 'node:crypto';
import { apiVersionOf, type ResourceType } from './resources.ts';
import { fieldValue, type FieldRequirement, type LabelPredicate } from './selectors.ts';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  readonly rv: number;
  readonly rt: ResourceType;
  readonly type: WatchEventType;
  readonly object: KubeObject;
  readonly prev: KubeObject | undefined;
}

export interface WatchFilter {
  readonly rt: ResourceType;
  readonly namespace: string | undefined;
  readonly labels: LabelPredicate;
  readonly fields: readonly FieldRequirement[];
}

export interface Watcher extends WatchFilter {
  send(type: WatchEventType | 'BOOKMARK', object: KubeObject): void;
  close(abrupt: boolean): void;
  readonly wantsBookmarks: boolean;
}

export class StoreError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const deepCopy = <T>(v: T): T => structuredClone(v);

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function nowRfc3339(): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function matchesFilter(f: WatchFilter, obj: KubeObject): boolean {
  if (f.namespace !== undefined && obj.metadata.namespace !== f.namespace) return false;
  if (!f.labels(obj.metadata.labels ?? {})) return false;
  for (const req of f.fields) {
    const v = fieldValue(obj, req.field);
    if (req.op === '=' ? v !== req.value : v === req.value) return false;
  }
  return true;
}

/** Translates one stored event into what a watcher with this filter sees (or nothing). */
export function eventForWatcher(
  f: WatchFilter,
  ev: StoredEvent,
): { type: WatchEventType; object: KubeObject } | undefined {
  if (ev.rt !== f.rt) return undefined;
  const now = matchesFilter(f, ev.object);
  const before = ev.prev !== undefined && matchesFilter(f, ev.prev);
  switch (ev.type) {
    case 'ADDED':
      return now ? { type: 'ADDED', object: ev.object } : undefined;
    case 'DELETED':
      return now ? { type: 'DELETED', object: ev.object } : undefined;
    case 'MODIFIED':
      if (now && before) return { type: 'MODIFIED', object: ev.object };
      if (now) return { type: 'ADDED', object: ev.object };
      if (before && ev.prev !== undefined) {
        const gone = deepCopy(ev.prev);
        gone.metadata.resourceVersion = String(ev.rv);
        return { type: 'DELETED', object: gone };
      }
      return undefined;
  }
}

export class ObjectStore {
  private rv = 1000;
  private readonly objects = new Map<ResourceType, Map<string, KubeObject>>();
  private history: StoredEvent[] = [];
  /** Events with rv <= compactedRV are no longer in the history. */
  private compactedRV = 1000;
  readonly watchers = new Set<Watcher>();

  constructor(private readonly historyLimit = 10_000) {}

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestResumableRV(): number {
    return this.compactedRV;
  }

  private bucket(rt: ResourceType): Map<string, KubeObject> {
    let b = this.objects.get(rt);
    if (b === undefined) {
      b = new Map();
      this.objects.set(rt, b);
    }
    return b;
  }

  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.bucket(rt).get(objectKey(rt.namespaced ? namespace : undefined, name));
    return obj === undefined ? undefined : deepCopy(obj);
  }

  /** Objects sorted by namespace/name, optionally limited to one namespace. */
  list(rt: ResourceType, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const obj of this.bucket(rt).values()) {
      if (namespace === undefined || obj.metadata.namespace === namespace) out.push(obj);
    }
    out.sort((a, b) => {
      const ka = objectKey(a.metadata.namespace, a.metadata.name ?? '');
      const kb = objectKey(b.metadata.namespace, b.metadata.name ?? '');
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    return out.map(deepCopy);
  }

  create(rt: ResourceType, input: KubeObject): KubeObject {
    const obj = deepCopy(input);
    obj.apiVersion = apiVersionOf(rt);
    obj.kind = rt.kind;
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomUUID().slice(0, 5);
    if (!meta.name) throw new StoreError(422, 'Invalid', `${rt.kind} is invalid: metadata.name: Required value`);
    if (rt.namespaced && !meta.namespace) meta.namespace = 'default';
    if (!rt.namespaced) delete meta.namespace;
    const key = objectKey(meta.namespace, meta.name);
    if (this.bucket(rt).has(key)) {
      throw new StoreError(409, 'AlreadyExists', `${rt.plural} "${meta.name}" already exists`);
    }
    meta.uid = meta.uid ?? randomUUID();
    meta.creationTimestamp = meta.creationTimestamp ?? nowRfc3339();
    meta.resourceVersion = String(++this.rv);
    this.bucket(rt).set(key, obj);
    this.record({ rv: this.rv, rt, type: 'ADDED', object: obj, prev: undefined });
    return deepCopy(obj);
  }

  /** Replaces an existing object; a resourceVersion in the input must match the stored one. */
  update(rt: ResourceType, input: KubeObject): KubeObject {
    const meta = input.metadata;
    const key = objectKey(rt.namespaced ? meta.namespace : undefined, meta.name ?? '');
    const prev = this.bucket(rt).get(key);
    if (prev === undefined) throw new StoreError(404, 'NotFound', `${rt.plural} "${meta.name}" not found`);
    if (meta.resourceVersion && meta.resourceVersion !== prev.metadata.resourceVersion) {
      throw new StoreError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${rt.plural} "${meta.name}": the object has been modified; ` +
          'please apply your changes to the latest version and try again',
      );
    }
    const obj = deepCopy(input);
    obj.apiVersion = apiVersionOf(rt);
    obj.kind = rt.kind;
    obj.metadata.uid = prev.metadata.uid;
    obj.metadata.creationTimestamp = prev.metadata.creationTimestamp;
    if (!rt.namespaced) delete obj.metadata.namespace;
    obj.metadata.resourceVersion = prev.metadata.resourceVersion;
    // A no-op update changes nothing and bumps no resourceVersion, as in the real API server.
    if (JSON.stringify(obj) === JSON.stringify(prev)) return deepCopy(prev);
    obj.metadata.resourceVersion = String(++this.rv);
    this.bucket(rt).set(key, obj);
    this.record({ rv: this.rv, rt, type: 'MODIFIED', object: obj, prev });
    return deepCopy(obj);
  }

  delete(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const key = objectKey(rt.namespaced ? namespace : undefined, name);
    const prev = this.bucket(rt).get(key);
    if (prev === undefined) throw new StoreError(404, 'NotFound', `${rt.plural} "${name}" not found`);
    this.bucket(rt).delete(key);
    const obj = deepCopy(prev);
    obj.metadata.resourceVersion = String(++this.rv);
    this.record({ rv: this.rv, rt, type: 'DELETED', object: obj, prev });
    return deepCopy(obj);
  }

  /** Forgets the whole event history: every watch that resumes from an older resourceVersion gets 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedRV = this.rv;
  }

  /** Stored events after `rv`, or undefined when some of them were compacted away. */
  eventsSince(rv: number): readonly StoredEvent[] | undefined {
    if (rv < this.compactedRV) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  private record(ev: StoredEvent): void {
    this.history.push(ev);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRV = dropped[dropped.length - 1].rv;
    }
    for (const w of this.watchers) {
      const out = eventForWatcher(w, ev);
      if (out !== undefined) w.send(out.type, out.object);
    }
  }
}
