/**
 * Shares one string instance per distinct value among the flows of the store: Pod, namespace,
 * Node and policy names and addresses repeat across many flows, and a stored string costs only its
 * pointer when it is shared. Bounded: when the table is full it starts afresh (strings already
 * stored stay valid; only future sharing restarts), so names of long-gone Pods cannot pile up.
 */
export class StringInterner {
  private table = new Map<string, string>();

  constructor(private readonly limit = 1 << 17) {}

  intern(s: string): string {
    if (s.length === 0) return '';
    const shared = this.table.get(s);
    if (shared !== undefined) return shared;
    if (this.table.size >= this.limit) this.table = new Map();
    this.table.set(s, s);
    return s;
  }

  get size(): number {
    return this.table.size;
  }
}
