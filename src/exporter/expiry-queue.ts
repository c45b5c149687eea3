/**
 * An indexed binary min-heap of (deadline, id) pairs over typed arrays: the expiry queue of the
 * connection store (Antrea's ExpirePriorityQueue). At most one entry per id; `update` moves an
 * entry, `remove` takes it out, all in O(log n), with no per-item objects.
 */
export class ExpiryQueue {
  private keys: Float64Array;
  private ids: Int32Array;
  /** Heap position of each id, -1 when absent. */
  private pos: Int32Array;
  private n = 0;

  constructor(initialCapacity = 1024) {
    this.keys = new Float64Array(initialCapacity);
    this.ids = new Int32Array(initialCapacity);
    this.pos = new Int32Array(initialCapacity).fill(-1);
  }

  get size(): number {
    return this.n;
  }

  has(id: number): boolean {
    return id < this.pos.length && this.pos[id] >= 0;
  }

  /** Deadline of `id`, or NaN when absent. */
  deadlineOf(id: number): number {
    return this.has(id) ? this.keys[this.pos[id]] : NaN;
  }

  /** Inserts `id` or moves it to `deadline`. */
  set(id: number, deadline: number): void {
    if (this.has(id)) {
      const i = this.pos[id];
      const old = this.keys[i];
      this.keys[i] = deadline;
      if (deadline < old) this.up(i);
      else this.down(i);
      return;
    }
    this.ensure(id, this.n + 1);
    const i = this.n++;
    this.keys[i] = deadline;
    this.ids[i] = id;
    this.pos[id] = i;
    this.up(i);
  }

  remove(id: number): boolean {
    if (!this.has(id)) return false;
    const i = this.pos[id];
    this.pos[id] = -1;
    const last = --this.n;
    if (i !== last) {
      this.keys[i] = this.keys[last];
      this.ids[i] = this.ids[last];
      this.pos[this.ids[i]] = i;
      this.down(i);
      this.up(i);
    }
    return true;
  }

  /** Smallest deadline, or Infinity when empty. */
  peekDeadline(): number {
    return this.n > 0 ? this.keys[0] : Infinity;
  }

  /** Id with the smallest deadline, or -1. */
  peekId(): number {
    return this.n > 0 ? this.ids[0] : -1;
  }

  /** Removes and returns the id with the smallest deadline if that deadline is ≤ `now`, else -1. */
  popExpired(now: number): number {
    if (this.n === 0 || this.keys[0] > now) return -1;
    const id = this.ids[0];
    this.remove(id);
    return id;
  }

  clear(): void {
    for (let i = 0; i < this.n; i++) this.pos[this.ids[i]] = -1;
    this.n = 0;
  }

  /** Bytes held by the typed arrays. */
  get byteSize(): number {
    return this.keys.byteLength + this.ids.byteLength + this.pos.byteLength;
  }

  private ensure(id: number, count: number): void {
    if (id >= this.pos.length) {
      let cap = this.pos.length * 2;
      while (cap <= id) cap *= 2;
      const pos = new Int32Array(cap).fill(-1);
      pos.set(this.pos);
      this.pos = pos;
    }
    if (count > this.keys.length) {
      const cap = this.keys.length * 2;
      const keys = new Float64Array(cap);
      keys.set(this.keys);
      this.keys = keys;
      const ids = new Int32Array(cap);
      ids.set(this.ids);
      this.ids = ids;
    }
  }

  private up(i: number): void {
    const { keys, ids, pos } = this;
    const key = keys[i];
    const id = ids[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[i] = keys[parent];
      ids[i] = ids[parent];
      pos[ids[i]] = i;
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
    pos[id] = i;
  }

  private down(i: number): void {
    const { keys, ids, pos } = this;
    const n = this.n;
    const key = keys[i];
    const id = ids[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= key) break;
      keys[i] = keys[child];
      ids[i] = ids[child];
      pos[ids[i]] = i;
      i = child;
    }
    keys[i] = key;
    ids[i] = id;
    pos[id] = i;
  }
}
