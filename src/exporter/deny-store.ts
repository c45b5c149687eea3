/**
 * Denied connections (Antrea's DenyConnectionStore), fed by packets that a dropping firewall rule
 * logged to NFLOG. A dropped packet never creates a conntrack entry, so these connections exist
 * only here. Semantics (reference §1.14):
 * - new 5-tuple: start = stop = last export = now, 1 packet, the packet's IP length in octets;
 *   the Pods and Service are resolved like conntrack connections; the policy comes from the log
 *   prefix (flowExporter.nflog.prefixFormat): direction, action (Drop 2 / Reject 3), namespace,
 *   name and rule. Without a direction, the drop is attributed to ingress when the destination is
 *   a local Pod, else to egress; without a recognised action it is a Drop.
 * - known 5-tuple: +1 packet, + its length, stop = now, idle deadline pushed out.
 * - every export has flowEndReason 3 (end of flow), as upstream; an idle-expired connection is then
 *   ready to delete, one without new packets since its last export leaves the queue. Unlike
 *   upstream, a connection with no new packet since its last export is not exported again.
 * - sweep() (every minute) deletes connections ready to delete or not exported for staleTimeout.
 */
import type { NflogPacket } from '../conntrack/nflog-parser.ts';
import type { CompiledNflogPrefix } from '../config/nflog-prefix.ts';
import { EndReason, type Connection, type ContextResolver, type FlowContext } from './connection.ts';
import { ExpiryQueue } from './expiry-queue.ts';

export interface DenyStoreOptions {
  activeTimeoutMs: number;
  idleTimeoutMs: number;
  staleTimeoutMs: number;
  resolveContext: ContextResolver;
  /** How log prefixes name policies; undefined: no policy names, only the action. */
  prefix?: CompiledNflogPrefix;
  maxConnections?: number;
}

interface DenyConnection {
  id: number;
  key: string;
  family: 4 | 6;
  sourceIP: string;
  destinationIP: string;
  sourceTransportPort: number;
  destinationTransportPort: number;
  protocolIdentifier: number;
  packets: number;
  octets: number;
  prevPackets: number;
  prevOctets: number;
  startMs: number;
  stopMs: number;
  lastExportMs: number;
  activeDeadline: number;
  idleDeadline: number;
  readyToDelete: boolean;
  context: FlowContext;
}

const ACTIONS: Readonly<Record<string, number>> = { allow: 1, drop: 2, reject: 3 };

export class DenyStore {
  private readonly conns = new Map<string, DenyConnection>();
  private readonly byId: (DenyConnection | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private readonly queue = new ExpiryQueue(64);
  readonly stats = { packets: 0, added: 0, deleted: 0, skippedNoLocalPod: 0, droppedFull: 0, unmatchedPrefix: 0, exported: 0, skippedUnchanged: 0 };

  constructor(private readonly opts: DenyStoreOptions) {}

  /** Denied connections tracked (antrea_agent_denied_connection_count). */
  get size(): number {
    return this.conns.size;
  }

  nextExpiry(): number {
    return this.queue.peekDeadline();
  }

  add(p: NflogPacket, nowMs: number): void {
    this.stats.packets++;
    const key = `${p.src}|${p.dst}|${p.protocol}|${p.srcPort}|${p.dstPort}`;
    const existing = this.conns.get(key);
    if (existing) {
      existing.packets += 1;
      existing.octets += p.ipLength;
      existing.stopMs = nowMs;
      existing.idleDeadline = nowMs + this.opts.idleTimeoutMs;
      if (!this.queue.has(existing.id)) existing.activeDeadline = nowMs + this.opts.activeTimeoutMs;
      this.queue.set(existing.id, Math.min(existing.activeDeadline, existing.idleDeadline));
      return;
    }
    if (this.conns.size >= (this.opts.maxConnections ?? 100_000)) {
      this.stats.droppedFull++;
      return;
    }
    const family = p.family === 'ipv6' ? 6 : 4;
    const base = this.opts.resolveContext({
      family, sourceIP: p.src, destinationIP: p.dst, originalDestinationIP: p.dst, protocolIdentifier: p.protocol,
      sourceTransportPort: p.srcPort, destinationTransportPort: p.dstPort, originalDestinationPort: p.dstPort,
      mark: p.mark, startSeconds: Math.floor(nowMs / 1000),
    });
    if (base === null) {
      this.stats.skippedNoLocalPod++;
      return;
    }
    const id = this.freeIds.pop() ?? this.byId.length;
    const conn: DenyConnection = {
      id, key, family, sourceIP: p.src, destinationIP: p.dst, sourceTransportPort: p.srcPort, destinationTransportPort: p.dstPort,
      protocolIdentifier: p.protocol, packets: 1, octets: p.ipLength, prevPackets: 0, prevOctets: 0,
      startMs: nowMs, stopMs: nowMs, lastExportMs: nowMs,
      activeDeadline: nowMs + this.opts.activeTimeoutMs, idleDeadline: nowMs + this.opts.idleTimeoutMs,
      readyToDelete: false, context: this.withPolicy(base, p.prefix),
    };
    this.conns.set(key, conn);
    this.byId[id] = conn;
    this.queue.set(id, Math.min(conn.activeDeadline, conn.idleDeadline));
    this.stats.added++;
  }

  popExpired(nowMs: number, max: number, out: Connection[]): number {
    let n = 0;
    while (n < max) {
      const id = this.queue.popExpired(nowMs);
      if (id < 0) break;
      const c = this.byId[id]!;
      if (c.idleDeadline <= nowMs) c.readyToDelete = true;
      const active = c.packets > c.prevPackets;
      if (!active && c.prevPackets > 0) {
        // Beyond upstream: no new packet since the last export, nothing new to say (Antrea
        // re-sends the record with zero deltas). The connection leaves the queue until one comes.
        this.stats.skippedUnchanged++;
        continue;
      }
      out.push({
        family: c.family,
        flowStartSeconds: Math.floor(c.startMs / 1000),
        flowEndSeconds: Math.floor(c.stopMs / 1000),
        flowEndReason: EndReason.end,
        sourceIP: c.sourceIP,
        destinationIP: c.destinationIP,
        sourceTransportPort: c.sourceTransportPort,
        destinationTransportPort: c.destinationTransportPort,
        protocolIdentifier: c.protocolIdentifier,
        packetTotalCount: BigInt(c.packets),
        octetTotalCount: BigInt(c.octets),
        packetDeltaCount: BigInt(c.packets - c.prevPackets),
        octetDeltaCount: BigInt(c.octets - c.prevOctets),
        reversePacketTotalCount: 0n,
        reverseOctetTotalCount: 0n,
        reversePacketDeltaCount: 0n,
        reverseOctetDeltaCount: 0n,
        tcpState: '',
        destinationClusterIP: '',
        context: c.context,
      });
      n++;
      c.prevPackets = c.packets;
      c.prevOctets = c.octets;
      c.lastExportMs = nowMs;
      if (!c.readyToDelete && active) {
        c.activeDeadline = nowMs + this.opts.activeTimeoutMs;
        this.queue.set(id, Math.min(c.activeDeadline, c.idleDeadline));
      }
    }
    this.stats.exported += n;
    return n;
  }

  /** Deletes connections that are ready to delete or stale (RunPeriodicDeletion). */
  sweep(nowMs: number): number {
    let n = 0;
    for (const c of this.conns.values()) {
      const stale = nowMs - c.lastExportMs >= this.opts.staleTimeoutMs;
      if ((c.readyToDelete && !this.queue.has(c.id)) || stale) {
        this.queue.remove(c.id);
        this.conns.delete(c.key);
        this.byId[c.id] = undefined;
        this.freeIds.push(c.id);
        n++;
      }
    }
    this.stats.deleted += n;
    return n;
  }

  private withPolicy(base: FlowContext, prefix: string): FlowContext {
    const fields = this.opts.prefix?.match(prefix);
    if (this.opts.prefix && !fields) this.stats.unmatchedPrefix++;
    const action = ACTIONS[(fields?.action ?? '').toLowerCase()] ?? 2;
    const direction = (fields?.direction ?? '').toLowerCase();
    const ingress = direction === 'ingress' || (direction !== 'egress' && base.destinationPodName !== '');
    const policy = { name: fields?.name ?? '', namespace: fields?.namespace ?? '', rule: fields?.rule ?? '' };
    return ingress
      ? { ...base, ingressNetworkPolicyName: policy.name, ingressNetworkPolicyNamespace: policy.namespace, ingressNetworkPolicyType: 1, ingressNetworkPolicyRuleName: policy.rule, ingressNetworkPolicyRuleAction: action }
      : { ...base, egressNetworkPolicyName: policy.name, egressNetworkPolicyNamespace: policy.namespace, egressNetworkPolicyType: 1, egressNetworkPolicyRuleName: policy.rule, egressNetworkPolicyRuleAction: action };
  }
}
