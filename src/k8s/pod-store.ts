/**
 * Pods indexed by IP and by time, with Antrea's podstore semantics (pkg/util/podstore):
 * - a Pod's window starts at its creation time: the time it was first seen when it was Pending
 *   then, else metadata.creationTimestamp; it ends when its deletion is seen;
 * - deleted Pods stay indexed for `retentionSeconds` (5 minutes) so that late flow records of a
 *   Pod that is gone still resolve, and an IP reused by a new Pod does not capture them;
 * - `getPodByIPAndTime(ip, t)` returns the only Pod that ever had `ip` regardless of `t` (clock skew
 *   between Nodes), otherwise the Pod whose [creation, deletion) window contains `t` (the newest
 *   such Pod when several live Pods share an address);
 * - a Pod that comes back under the same namespace/name with a new UID replaces the old one, which
 *   counts as deleted.
 * hostNetwork Pods never get here (their IP is the Node's).
 */
import type { PodInfo } from './types.ts';

export const DELETED_POD_RETENTION_SECONDS = 300;

interface PodRecord {
  pod: PodInfo;
  createdAt: number;
  deletedAt: number | undefined;
}

export interface PodTimes {
  /** Seconds since the epoch. */
  readonly createdAt: number;
  readonly deletedAt: number | undefined;
}

export interface PodStoreOptions {
  /** Milliseconds since the epoch. */
  clock?: () => number;
  retentionSeconds?: number;
}

export class PodStore {
  private readonly clock: () => number;
  private readonly retentionSeconds: number;
  private readonly byUid = new Map<string, PodRecord>();
  private readonly byIP = new Map<string, PodRecord[]>();
  private readonly live = new Map<string, PodRecord>();
  /** Deleted records in deletion order (deletion times never decrease). */
  private deleted: PodRecord[] = [];
  private deletedHead = 0;

  constructor(opts: PodStoreOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.retentionSeconds = opts.retentionSeconds ?? DELETED_POD_RETENTION_SECONDS;
  }

  private nowSeconds(): number {
    return this.clock() / 1000;
  }

  /**
   * Adds or updates a Pod. `pending` and `creationTimestamp` (seconds) decide the start of its window
   * when it is first seen. Returns what happened.
   */
  upsert(pod: PodInfo, opts: { pending: boolean; creationTimestamp: number | undefined }): 'add' | 'update' {
    this.purgeExpired();
    const key = `${pod.namespace}/${pod.name}`;
    const same = this.live.get(key);
    if (same !== undefined && same.pod.uid !== pod.uid) this.markDeleted(same);
    const existing = this.byUid.get(pod.uid);
    if (existing !== undefined) {
      if (existing.deletedAt !== undefined) existing.deletedAt = undefined;
      this.reindex(existing, pod);
      existing.pod = pod;
      this.live.set(key, existing);
      return 'update';
    }
    const now = this.nowSeconds();
    const createdAt = opts.pending || opts.creationTimestamp === undefined ? now : opts.creationTimestamp;
    const rec: PodRecord = { pod, createdAt, deletedAt: undefined };
    this.byUid.set(pod.uid, rec);
    this.live.set(key, rec);
    for (const ip of pod.ips) this.indexIP(ip, rec);
    return 'add';
  }

  /** Marks a Pod deleted now; it stays resolvable by IP and time for the retention period. */
  delete(uid: string): boolean {
    this.purgeExpired();
    const rec = this.byUid.get(uid);
    if (rec === undefined || rec.deletedAt !== undefined) return false;
    this.markDeleted(rec);
    return true;
  }

  private markDeleted(rec: PodRecord): void {
    rec.deletedAt = this.nowSeconds();
    const key = `${rec.pod.namespace}/${rec.pod.name}`;
    if (this.live.get(key) === rec) this.live.delete(key);
    this.deleted.push(rec);
  }

  private indexIP(ip: string, rec: PodRecord): void {
    const list = this.byIP.get(ip);
    if (list === undefined) this.byIP.set(ip, [rec]);
    else if (!list.includes(rec)) list.push(rec);
  }

  private unindexIP(ip: string, rec: PodRecord): void {
    const list = this.byIP.get(ip);
    if (list === undefined) return;
    const i = list.indexOf(rec);
    if (i < 0) return;
    if (list.length === 1) this.byIP.delete(ip);
    else list.splice(i, 1);
  }

  private reindex(rec: PodRecord, next: PodInfo): void {
    for (const ip of rec.pod.ips) if (!next.ips.includes(ip)) this.unindexIP(ip, rec);
    for (const ip of next.ips) this.indexIP(ip, rec);
  }

  /** Drops deleted Pods whose retention has passed. Called by every mutation and lookup. */
  purgeExpired(): void {
    if (this.deletedHead >= this.deleted.length) return;
    const cutoff = this.nowSeconds() - this.retentionSeconds;
    while (this.deletedHead < this.deleted.length) {
      const rec = this.deleted[this.deletedHead];
      if (rec.deletedAt !== undefined && rec.deletedAt > cutoff) break;
      this.deletedHead++;
      // A record that came back to life (same UID re-added) is no longer ours to drop.
      if (rec.deletedAt === undefined || this.byUid.get(rec.pod.uid) !== rec) continue;
      this.byUid.delete(rec.pod.uid);
      for (const ip of rec.pod.ips) this.unindexIP(ip, rec);
    }
    if (this.deletedHead > 1024 && this.deletedHead * 2 > this.deleted.length) {
      this.deleted = this.deleted.slice(this.deletedHead);
      this.deletedHead = 0;
    }
  }

  getPodByIPAndTime(ip: string, tSeconds: number): PodInfo | undefined {
    this.purgeExpired();
    const list = this.byIP.get(ip);
    if (list === undefined) return undefined;
    if (list.length === 1) return list[0].pod;
    let best: PodRecord | undefined;
    for (const rec of list) {
      if (rec.createdAt > tSeconds) continue;
      if (rec.deletedAt !== undefined && tSeconds >= rec.deletedAt) continue;
      if (best === undefined || rec.createdAt > best.createdAt) best = rec;
    }
    return best?.pod;
  }

  /** The live Pod with this IP (the newest if several), else the most recently deleted one. */
  getPodByIP(ip: string): PodInfo | undefined {
    this.purgeExpired();
    const list = this.byIP.get(ip);
    if (list === undefined) return undefined;
    let best: PodRecord | undefined;
    for (const rec of list) {
      if (best === undefined) best = rec;
      else if ((rec.deletedAt === undefined) !== (best.deletedAt === undefined)) {
        if (rec.deletedAt === undefined) best = rec;
      } else if (rec.deletedAt === undefined ? rec.createdAt > best.createdAt : (rec.deletedAt ?? 0) > (best.deletedAt ?? 0)) {
        best = rec;
      }
    }
    return best?.pod;
  }

  getPod(namespace: string, name: string): PodInfo | undefined {
    return this.live.get(`${namespace}/${name}`)?.pod;
  }

  getPodTimes(uid: string): PodTimes | undefined {
    const rec = this.byUid.get(uid);
    return rec === undefined ? undefined : { createdAt: rec.createdAt, deletedAt: rec.deletedAt };
  }

  /** Live Pods. */
  list(): PodInfo[] {
    return [...this.live.values()].map((r) => r.pod);
  }

  get liveCount(): number {
    return this.live.size;
  }

  /** Pods deleted but still retained. */
  get retainedDeletedCount(): number {
    return this.byUid.size - this.live.size;
  }

  /** Marks every live Pod whose UID is not in `keep` deleted (used after a relist). */
  retainOnly(keep: ReadonlySet<string>): PodInfo[] {
    const gone: PodInfo[] = [];
    for (const rec of [...this.live.values()]) {
      if (!keep.has(rec.pod.uid)) {
        this.markDeleted(rec);
        gone.push(rec.pod);
      }
    }
    return gone;
  }
}
