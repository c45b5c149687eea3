/**
 * The embedded store's dictionaries: every endpoint seen — a Pod (namespace, Pod, Node) or, when a
 * record has no Pod on that side, an address (Node, IP) — and every Service name, each with a
 * small integer id stored in the flows table. They live in memory (for
 * resolving ids on insert and matching free text without scanning the flows) and in the tables
 * flow_endpoints / flow_services (so the ids survive restarts and SQL can join names back).
 *
 * Ids are resolved in two steps so that memory never runs ahead of the database: resolve() looks
 * up a batch and reserves ids for unknown names; commit() makes them known once their rows are
 * in the tables.
 */
import type { FlowRow } from '../flow-row.ts';
import { workloadOf } from './workload.ts';

export interface EndpointEntry {
  readonly id: number;
  readonly namespace: string;
  readonly podName: string;
  readonly nodeName: string;
  readonly workload: string;
  /** The IP of an endpoint without a Pod (external hosts, host network); "" for Pods. */
  readonly ip: string;
}

export interface ServiceEntry {
  readonly id: number;
  readonly name: string;
}

export interface ResolvedBatch {
  readonly sourceIds: Uint32Array;
  readonly destinationIds: Uint32Array;
  readonly serviceIds: Uint32Array;
  readonly newEndpoints: EndpointEntry[];
  readonly newServices: ServiceEntry[];
}

/**
 * Endpoints by Pod name (then namespace and Node), or by IP (then Node) when there is no Pod: no
 * key strings are built on the hot path, and a Pod name or IP nearly always has one entry.
 */
class EndpointIndex {
  private readonly byPod = new Map<string, EndpointEntry[]>();
  private readonly byIP = new Map<string, EndpointEntry[]>();

  get(namespace: string, podName: string, nodeName: string, ip: string): EndpointEntry | undefined {
    const list = podName === '' ? this.byIP.get(ip) : this.byPod.get(podName);
    if (list === undefined) return undefined;
    for (const e of list) if (e.namespace === namespace && e.nodeName === nodeName) return e;
    return undefined;
  }

  add(e: EndpointEntry): void {
    const map = e.podName === '' ? this.byIP : this.byPod;
    const key = e.podName === '' ? e.ip : e.podName;
    const list = map.get(key);
    if (list === undefined) map.set(key, [e]);
    else list.push(e);
  }

  delete(e: EndpointEntry): void {
    const map = e.podName === '' ? this.byIP : this.byPod;
    const key = e.podName === '' ? e.ip : e.podName;
    const rest = (map.get(key) ?? []).filter((x) => x.id !== e.id);
    if (rest.length === 0) map.delete(key);
    else map.set(key, rest);
  }
}

export class NameDictionary {
  private readonly endpointIndex = new EndpointIndex();
  private readonly endpointsById = new Map<number, EndpointEntry>();
  private readonly serviceIds = new Map<string, number>();
  private readonly servicesById = new Map<number, ServiceEntry>();
  private nextEndpointId = 0;
  private nextServiceId = 0;

  /** Loads entries read from the tables. */
  load(endpoints: readonly EndpointEntry[], services: readonly ServiceEntry[]): void {
    for (const e of endpoints) this.addEndpoint(e);
    for (const s of services) this.addService(s);
  }

  get endpointCount(): number {
    return this.endpointsById.size;
  }

  get serviceCount(): number {
    return this.servicesById.size;
  }

  endpoint(id: number): EndpointEntry | undefined {
    return this.endpointsById.get(id);
  }

  service(id: number): ServiceEntry | undefined {
    return this.servicesById.get(id);
  }

  endpoints(): IterableIterator<EndpointEntry> {
    return this.endpointsById.values();
  }

  services(): IterableIterator<ServiceEntry> {
    return this.servicesById.values();
  }

  resolve(rows: readonly FlowRow[]): ResolvedBatch {
    const n = rows.length;
    const sourceIds = new Uint32Array(n);
    const destinationIds = new Uint32Array(n);
    const serviceIds = new Uint32Array(n);
    const pending = new EndpointIndex();
    const newEndpoints: EndpointEntry[] = [];
    const pendingServices = new Map<string, ServiceEntry>();
    const endpointId = (namespace: string, pod: string, node: string, labels: string, address: string): number => {
      const ip = pod === '' ? address : '';
      const known = this.endpointIndex.get(namespace, pod, node, ip) ?? pending.get(namespace, pod, node, ip);
      if (known !== undefined) return known.id;
      const entry: EndpointEntry = { id: this.nextEndpointId++, namespace, podName: pod, nodeName: node, workload: workloadOf(pod, labels), ip };
      pending.add(entry);
      newEndpoints.push(entry);
      return entry.id;
    };
    for (let i = 0; i < n; i++) {
      const r = rows[i] as FlowRow;
      sourceIds[i] = endpointId(str(r.sourcePodNamespace), str(r.sourcePodName), str(r.sourceNodeName), str(r.sourcePodLabels), str(r.sourceIP));
      destinationIds[i] = endpointId(
        str(r.destinationPodNamespace),
        str(r.destinationPodName),
        str(r.destinationNodeName),
        str(r.destinationPodLabels),
        str(r.destinationIP),
      );
      const service = str(r.destinationServicePortName);
      let sid = this.serviceIds.get(service) ?? pendingServices.get(service)?.id;
      if (sid === undefined) {
        sid = this.nextServiceId++;
        pendingServices.set(service, { id: sid, name: service });
      }
      serviceIds[i] = sid;
    }
    return {
      sourceIds,
      destinationIds,
      serviceIds,
      newEndpoints,
      newServices: [...pendingServices.values()],
    };
  }

  /** The batch's new names are stored: make them known. */
  commit(batch: ResolvedBatch): void {
    for (const e of batch.newEndpoints) this.addEndpoint(e);
    for (const s of batch.newServices) this.addService(s);
  }

  /** Forgets entries whose rows expired (ids returned by the store's clean-up). */
  forget(endpointIds: Iterable<number>, serviceIds: Iterable<number>): void {
    for (const id of endpointIds) {
      const e = this.endpointsById.get(id);
      if (e === undefined) continue;
      this.endpointsById.delete(id);
      this.endpointIndex.delete(e);
    }
    for (const id of serviceIds) {
      const s = this.servicesById.get(id);
      if (s === undefined) continue;
      this.servicesById.delete(id);
      this.serviceIds.delete(s.name);
    }
  }

  private addEndpoint(e: EndpointEntry): void {
    this.endpointIndex.add(e);
    this.endpointsById.set(e.id, e);
    if (e.id >= this.nextEndpointId) this.nextEndpointId = e.id + 1;
  }

  private addService(s: ServiceEntry): void {
    this.serviceIds.set(s.name, s.id);
    this.servicesById.set(s.id, s);
    if (s.id >= this.nextServiceId) this.nextServiceId = s.id + 1;
  }
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
