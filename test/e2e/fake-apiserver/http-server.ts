/**
 * HTTP front of the fake Kubernetes API server: discovery documents, CRUD, list and watch.
 *
 * Watch wire format (what kube-apiserver sends for `?watch=true` with Accept: application/json):
 *   HTTP/1.1 200 OK, Content-Type: application/json, Transfer-Encoding: chunked
 *   {"type":"ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR","object":{...}}\n   (one event per line)
 * A watch resuming from a resourceVersion older than the retained history receives
 *   {"type":"ERROR","object":{"kind":"Status",...,"reason":"Expired","code":410}}
 * and the stream ends (or, in 'http' mode, the request fails with HTTP 410 Gone).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Allocator, applyDefaults } from './defaults.ts';
import { mergePatch } from './merge-patch.ts';
import {
  matchesFilter,
  ObjectStore,
  StoreError,
  eventForWatcher,
  type KubeObject,
  type Watcher,
  type WatchEventType,
  type WatchFilter,
} from './object-store.ts';
import {
  apiGroups,
  apiVersionOf,
  findByGroupVersionPlural,
  RESOURCE_TYPES,
  VERBS,
  type ResourceType,
} from './resources.ts';
import { parseFieldSelector, parseLabelSelector, SelectorParseError, type FieldRequirement } from './selectors.ts';

export type ExpiredWatchMode = 'event' | 'http';

const MAX_BODY = 3 * 1024 * 1024;

interface Route {
  rt: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: 'status' | undefined;
}

function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(res, code, statusBody(code, reason, message));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type.includes('protobuf') || type.includes('cbor')) {
    req.resume();
    throw new StoreError(415, 'UnsupportedMediaType', `this fake API server only accepts JSON bodies, not ${type}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new StoreError(413, 'RequestEntityTooLarge', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new StoreError(400, 'BadRequest', 'the request body is not valid JSON');
  }
}

function asKubeObject(body: unknown): KubeObject {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new StoreError(400, 'BadRequest', 'the request body must be a JSON object');
  }
  const obj = body as KubeObject;
  if (obj.metadata === undefined || obj.metadata === null || typeof obj.metadata !== 'object') obj.metadata = {};
  return obj;
}

function resourceList(groupVersion: string): object {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: RESOURCE_TYPES.filter((rt) => apiVersionOf(rt) === groupVersion).flatMap((rt) => {
      const main = {
        name: rt.plural,
        singularName: rt.singular,
        namespaced: rt.namespaced,
        kind: rt.kind,
        verbs: [...VERBS],
        ...(rt.shortNames.length > 0 ? { shortNames: [...rt.shortNames] } : {}),
      };
      if (!rt.hasStatus) return [main];
      return [main, { name: `${rt.plural}/status`, singularName: '', namespaced: rt.namespaced, kind: rt.kind, verbs: ['get', 'patch', 'update'] }];
    }),
  };
}

/**
 * OpenAPI v3, reduced to what kubectl reads: one document per group-version whose PATCH operations
 * name their GroupVersionKind and accept the `fieldValidation` query parameter. kubectl then relies on
 * server-side field validation (this server accepts unknown fields) instead of downloading schemas.
 */
function groupVersions(): string[] {
  return [...new Set(RESOURCE_TYPES.map(apiVersionOf))];
}

function gvPath(gv: string): string {
  return gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
}

function openApiIndex(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions()) paths[gvPath(gv)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=fake` };
  return { paths };
}

function openApiDoc(gvp: string): object | undefined {
  const gv = groupVersions().find((g) => gvPath(g) === gvp);
  if (gv === undefined) return undefined;
  const paths: Record<string, object> = {};
  for (const rt of RESOURCE_TYPES.filter((t) => apiVersionOf(t) === gv)) {
    const ns = rt.namespaced ? '/namespaces/{namespace}' : '';
    const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
    const parameters = [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }];
    paths[`/${gvp}${ns}/${rt.plural}/{name}`] = {
      patch: { operationId: `patch${rt.kind}`, 'x-kubernetes-group-version-kind': gvk, parameters, responses: {} },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0-fake' }, paths };
}

/** The request router and the live watch connections of one fake API server. */
export class ApiHandler extends EventEmitter {
  readonly store: ObjectStore;
  private readonly alloc = new Allocator();
  expiredWatchMode: ExpiredWatchMode = 'event';
  readonly requestLog: { method: string; url: string; status?: number }[] = [];

  constructor(historyLimit?: number) {
    super();
    this.store = new ObjectStore(historyLimit);
  }

  /** Creates or replaces an object as an administrator would (namespaces are created on demand). */
  upsert(rt: ResourceType, input: KubeObject): KubeObject {
    const obj = structuredClone(input);
    obj.metadata ??= {};
    if (rt.namespaced) {
      obj.metadata.namespace ||= 'default';
      this.ensureNamespace(obj.metadata.namespace);
    }
    const prev = this.store.get(rt, obj.metadata.namespace, obj.metadata.name ?? '');
    applyDefaults(rt.kind, obj, this.alloc, prev);
    if (prev === undefined) return this.store.create(rt, obj);
    delete obj.metadata.resourceVersion;
    return this.store.update(rt, obj);
  }

  ensureNamespace(name: string): void {
    const nsType = RESOURCE_TYPES.find((t) => t.kind === 'Namespace') as ResourceType;
    if (this.store.get(nsType, undefined, name) !== undefined) return;
    const ns: KubeObject = { metadata: { name } };
    applyDefaults('Namespace', ns, this.alloc, undefined);
    this.store.create(nsType, ns);
  }

  deleteObject(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const deleted = this.store.delete(rt, namespace, name);
    if (rt.kind === 'Namespace') {
      for (const t of RESOURCE_TYPES) {
        if (!t.namespaced) continue;
        for (const o of this.store.list(t, name)) this.store.delete(t, name, o.metadata.name ?? '');
      }
    }
    return deleted;
  }

  /** Ends every open watch (all of one resource type when given); abrupt = reset the TCP connection. */
  dropWatches(abrupt: boolean, rt?: ResourceType): number {
    let n = 0;
    for (const w of [...this.store.watchers]) {
      if (rt !== undefined && w.rt !== rt) continue;
      w.close(abrupt);
      n++;
    }
    return n;
  }

  /** Sends a BOOKMARK carrying the current resourceVersion to every watcher that asked for bookmarks. */
  bookmark(): void {
    for (const w of this.store.watchers) {
      if (w.wantsBookmarks) w.send('BOOKMARK', this.bookmarkObject(w.rt));
    }
  }

  private bookmarkObject(rt: ResourceType, annotations?: Record<string, string>): KubeObject {
    return {
      kind: rt.kind,
      apiVersion: apiVersionOf(rt),
      metadata: { resourceVersion: String(this.store.resourceVersion), ...(annotations ? { annotations } : {}) },
    };
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const entry: { method: string; url: string; status?: number } = { method: req.method ?? 'GET', url: req.url ?? '/' };
    this.requestLog.push(entry);
    if (this.requestLog.length > 1000) this.requestLog.shift();
    res.on('finish', () => (entry.status = res.statusCode));
    this.route(req, res, url).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
      } else if (err instanceof StoreError) {
        sendStatus(res, err.code, err.reason, err.message);
      } else if (err instanceof SelectorParseError) {
        sendStatus(res, 400, 'BadRequest', err.message);
      } else {
        sendStatus(res, 500, 'InternalError', err instanceof Error ? err.message : String(err));
      }
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (method === 'GET') {
      const doc = this.discovery(path);
      if (doc !== undefined) return sendJson(res, 200, doc);
      if (path === '/healthz' || path === '/readyz' || path === '/livez') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
        return;
      }
    }
    const parsed = this.parseResourcePath(path);
    if (parsed === undefined) return sendStatus(res, 404, 'NotFound', `the server could not find the requested resource`);
    const { route, watchPrefix } = parsed;
    const q = url.searchParams;
    if (route.namespace !== undefined && !route.rt.namespaced) {
      return sendStatus(res, 404, 'NotFound', `the server could not find the requested resource`);
    }
    const watching = watchPrefix || q.get('watch') === 'true' || q.get('watch') === '1';
    if (method === 'GET' && watching) return this.watch(req, res, route, q);
    if (method === 'GET' && route.name === undefined) return this.list(res, route, q);
    if (method === 'GET') return sendJson(res, 200, this.mustGet(route));
    if (method === 'POST' && route.name === undefined) return this.create(req, res, route);
    if (method === 'PUT' && route.name !== undefined) return this.replace(req, res, route);
    if (method === 'PATCH' && route.name !== undefined) return this.patch(req, res, route);
    if (method === 'DELETE' && route.name !== undefined) {
      return sendJson(res, 200, this.deleteObject(route.rt, route.namespace, route.name));
    }
    if (method === 'DELETE') return this.deleteCollection(res, route, q);
    sendStatus(res, 405, 'MethodNotAllowed', `${method} is not supported on this path`);
  }

  private discovery(path: string): object | undefined {
    if (path === '/version') {
      return {
        major: '1', minor: '32', gitVersion: 'v1.32.0-fake', gitCommit: 'fake', gitTreeState: 'clean',
        buildDate: '2025-01-01T00:00:00Z', goVersion: 'go1.23', compiler: 'gc', platform: 'linux/amd64',
      };
    }
    if (path === '/api') {
      return {
        kind: 'APIVersions', versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }],
      };
    }
    if (path === '/api/v1') return resourceList('v1');
    if (path === '/openapi/v3') return openApiIndex();
    if (path.startsWith('/openapi/v3/')) return openApiDoc(path.slice('/openapi/v3/'.length));
    const groups = apiGroups().map((g) => ({
      name: g.name,
      versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${g.name}/${g.versions[0]}`, version: g.versions[0] },
    }));
    if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups };
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (m === null) return undefined;
    const group = groups.find((g) => g.name === m[1]);
    if (group === undefined) return undefined;
    if (m[2] === undefined) return { kind: 'APIGroup', apiVersion: 'v1', ...group };
    if (!group.versions.some((v) => v.version === m[2])) return undefined;
    return resourceList(`${m[1]}/${m[2]}`);
  }

  private parseResourcePath(path: string): { route: Route; watchPrefix: boolean } | undefined {
    const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 3) {
      group = '';
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1];
      version = parts[2];
      rest = parts.slice(3);
    } else {
      return undefined;
    }
    let watchPrefix = false;
    if (rest[0] === 'watch') {
      watchPrefix = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && findByGroupVersionPlural(group, version, rest[2])?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const rt = findByGroupVersionPlural(group, version, rest[0] ?? '');
    if (rt === undefined || rest.length > 3) return undefined;
    if (rest.length === 3 && rest[2] !== 'status') return undefined;
    return {
      route: { rt, namespace, name: rest[1], subresource: rest.length === 3 ? 'status' : undefined },
      watchPrefix,
    };
  }

  private mustGet(route: Route): KubeObject {
    const obj = this.store.get(route.rt, route.namespace, route.name ?? '');
    if (obj === undefined) throw new StoreError(404, 'NotFound', `${route.rt.plural} "${route.name}" not found`);
    return obj;
  }

  private filterFor(route: Route, q: URLSearchParams): WatchFilter & { fields: FieldRequirement[] } {
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
    for (const f of fields) {
      const ok = f.field === 'metadata.name' || f.field === 'metadata.namespace' || route.rt.fieldLabels.includes(f.field);
      if (!ok) throw new StoreError(400, 'BadRequest', `field label not supported: ${f.field}`);
    }
    return { rt: route.rt, namespace: route.namespace, labels: parseLabelSelector(q.get('labelSelector') ?? ''), fields };
  }

  private list(res: ServerResponse, route: Route, q: URLSearchParams): void {
    const filter = this.filterFor(route, q);
    const rv = this.store.resourceVersion;
    if (q.get('resourceVersionMatch') === 'Exact' && q.get('resourceVersion') !== String(rv)) {
      return sendStatus(res, 410, 'Expired', `too old resource version: ${q.get('resourceVersion')} (${rv})`);
    }
    let items = this.store.list(route.rt, route.namespace).filter((o) => matchesFilter(filter, o));
    const token = q.get('continue');
    if (token) {
      let after: string;
      try {
        after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after: string }).after;
      } catch {
        return sendStatus(res, 400, 'BadRequest', 'invalid continue token');
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > after);
    }
    const limit = Number(q.get('limit') ?? '0');
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1];
      metadata.continue = Buffer.from(
        JSON.stringify({ after: `${last.metadata.namespace ?? ''}/${last.metadata.name}` }),
      ).toString('base64url');
      metadata.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    // As in kube-apiserver, list items carry no kind/apiVersion of their own.
    for (const item of items) {
      delete item.kind;
      delete item.apiVersion;
    }
    sendJson(res, 200, { kind: `${route.rt.kind}List`, apiVersion: apiVersionOf(route.rt), metadata, items });
  }

  private watch(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const filter = this.filterFor(route, q);
    if (route.name !== undefined) {
      filter.fields.push({ field: 'metadata.name', op: '=', value: route.name });
    }
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) {
      return sendStatus(res, 400, 'BadRequest', `invalid resourceVersion: ${rvParam}`);
    }
    const wantsBookmarks = q.get('allowWatchBookmarks') === 'true';
    const initialEvents = q.get('sendInitialEvents') === 'true';
    let replay: { type: WatchEventType; object: KubeObject }[];
    if (rvParam === '' || rvParam === '0' || initialEvents) {
      replay = this.store
        .list(route.rt, route.namespace)
        .filter((o) => matchesFilter(filter, o))
        .map((object) => ({ type: 'ADDED' as const, object }));
    } else {
      const events = this.store.eventsSince(Number(rvParam));
      if (events === undefined) {
        const msg = `too old resource version: ${rvParam} (${this.store.oldestResumableRV + 1})`;
        if (this.expiredWatchMode === 'http') return sendStatus(res, 410, 'Expired', msg);
        res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
        res.end(JSON.stringify({ type: 'ERROR', object: statusBody(410, 'Expired', msg) }) + '\n');
        this.emit('watch-expired', route.rt);
        return;
      }
      replay = [];
      for (const ev of events) {
        const out = eventForWatcher(filter, ev);
        if (out !== undefined) replay.push(out);
      }
    }

    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'no-cache, private',
    });
    res.socket?.setNoDelay(true);
    const watchers = this.store.watchers;
    let timer: NodeJS.Timeout | undefined;
    const watcher: Watcher = {
      ...filter,
      wantsBookmarks,
      send: (type, object) => {
        if (!res.writableEnded) res.write(JSON.stringify({ type, object }) + '\n');
      },
      close: (abrupt) => {
        watchers.delete(watcher);
        if (timer !== undefined) clearTimeout(timer);
        if (abrupt) res.socket?.destroy();
        else res.end();
      },
    };
    for (const ev of replay) watcher.send(ev.type, ev.object);
    if (initialEvents && wantsBookmarks) {
      watcher.send('BOOKMARK', this.bookmarkObject(route.rt, { 'k8s.io/initial-events-end': 'true' }));
    }
    watchers.add(watcher);
    res.flushHeaders();
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
    if (timeoutSeconds > 0) timer = setTimeout(() => watcher.close(false), timeoutSeconds * 1000);
    const gone = (): void => {
      watchers.delete(watcher);
      if (timer !== undefined) clearTimeout(timer);
    };
    res.on('close', gone);
    req.on('close', gone);
    this.emit('watch', route.rt);
  }

  private async create(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const obj = asKubeObject(await readBody(req));
    if (route.rt.namespaced) {
      if (route.namespace === undefined) {
        throw new StoreError(405, 'MethodNotAllowed', `${route.rt.plural} must be created in a namespace`);
      }
      if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== route.namespace) {
        throw new StoreError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = route.namespace;
      this.requireNamespace(route.namespace);
    }
    applyDefaults(route.rt.kind, obj, this.alloc, undefined);
    delete obj.metadata.resourceVersion;
    delete obj.metadata.uid;
    delete obj.metadata.creationTimestamp;
    sendJson(res, 201, this.store.create(route.rt, obj));
  }

  private requireNamespace(namespace: string): void {
    const nsType = RESOURCE_TYPES.find((t) => t.kind === 'Namespace') as ResourceType;
    if (this.store.get(nsType, undefined, namespace) === undefined) {
      throw new StoreError(404, 'NotFound', `namespaces "${namespace}" not found`);
    }
  }

  private storeUpdate(route: Route, next: KubeObject, current: KubeObject): KubeObject {
    if (route.subresource === 'status') {
      // Only the status changes through /status, only the rest through the main resource (as for real types).
      const merged = structuredClone(current);
      merged.status = next.status;
      merged.metadata.resourceVersion = next.metadata.resourceVersion;
      next = merged;
    } else if (route.rt.hasStatus && current.status !== undefined) {
      next.status = current.status;
    }
    next.metadata.name = route.name;
    if (route.rt.namespaced) next.metadata.namespace = route.namespace;
    applyDefaults(route.rt.kind, next, this.alloc, current);
    return this.store.update(route.rt, next);
  }

  private async replace(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const obj = asKubeObject(await readBody(req));
    if (obj.metadata.name !== undefined && obj.metadata.name !== route.name) {
      throw new StoreError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
    }
    const current = this.mustGet(route);
    sendJson(res, 200, this.storeUpdate(route, obj, current));
  }

  private async patch(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
    if (type !== 'application/merge-patch+json' && type !== 'application/strategic-merge-patch+json') {
      await readBody(req).catch(() => undefined);
      throw new StoreError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${type}`);
    }
    const patchDoc = await readBody(req);
    const current = this.mustGet(route);
    const patched = asKubeObject(mergePatch(current, patchDoc));
    const rvInPatch = (patchDoc as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
    if (rvInPatch === undefined) patched.metadata.resourceVersion = current.metadata.resourceVersion;
    sendJson(res, 200, this.storeUpdate(route, patched, current));
  }

  private deleteCollection(res: ServerResponse, route: Route, q: URLSearchParams): void {
    const filter = this.filterFor(route, q);
    const items = this.store
      .list(route.rt, route.namespace)
      .filter((o) => matchesFilter(filter, o))
      .map((o) => this.deleteObject(route.rt, o.metadata.namespace, o.metadata.name ?? ''));
    sendJson(res, 200, {
      kind: `${route.rt.kind}List`,
      apiVersion: apiVersionOf(route.rt),
      metadata: { resourceVersion: String(this.store.resourceVersion) },
      items,
    });
  }
}
