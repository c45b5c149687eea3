/**
 * The collector's decode workers, seen from the main thread. The main thread keeps the sockets
 * (UDP cannot be shared between threads) and hands each raw message to the worker that owns its
 * session; sessions are given out to the worker with the fewest, so one exporter's messages stay
 * in order on one thread with its templates, and many exporters spread over all of them.
 *
 * Backpressure: a worker with `maxBacklogOctets` of messages not yet processed, or an output
 * stream that is full, makes dispatch() answer false (a TCP/TLS stream then pauses) and drops UDP
 * datagrams, which are counted (and, from the sequence numbers, the records they held show up as
 * lost).
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import {
  CollectorStats, RateLimitedLog, silentLogger, type CollectorSessionInfo, type TransportLogger,
} from '../../transport/index.ts';
import { recordsBodyOf } from '../http-server.ts';
import type { DecodeWorkerConfig, FromWorker, ToWorker, WorkerCounters } from './protocol.ts';
import { startModuleWorker } from './start-worker.ts';

export interface DecodePoolOptions extends DecodeWorkerConfig {
  readonly workers: number;
  /** Where decode counters are summed (the collecting process's stats). */
  readonly stats: CollectorStats;
  /** Writes printed records; returns false when the output is full (see `outputDrained`). */
  readonly write: (text: string) => boolean;
  /** Octets of messages a worker may have waiting before dispatch() pushes back (default 32 MiB). */
  readonly maxBacklogOctets?: number;
  readonly logger?: TransportLogger;
}

interface Slot {
  worker: Worker;
  /** The thread ended (it should not before close(); its messages are then dropped and counted). */
  exited: boolean;
  sessions: number;
  /** Octets dispatched and not yet processed. */
  backlog: number;
  counters: WorkerCounters;
}

const ZERO: WorkerCounters = { messages: 0, bytes: 0, records: 0, templates: 0, unknownTemplateSets: 0, recordsLost: 0, sequenceOutOfOrder: 0, decodeErrors: {} };
const WORKER_MODULE = new URL(`./decode-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class DecodePool extends EventEmitter<{ drained: [] }> {
  private readonly slots: Slot[];
  private readonly owner = new Map<number, Slot>();
  private readonly maxBacklog: number;
  private readonly log: TransportLogger;
  private readonly errorLog = new RateLimitedLog(5000, Date.now);
  private readonly dropLog = new RateLimitedLog(5000, Date.now);
  private readonly pending = new Map<number, { slot: Slot; resolve: (m: FromWorker) => void }>();
  private nextRequest = 1;
  private arrival = 0;
  private outputFull = false;
  private pushedBack = false;
  private closed = false;

  constructor(private readonly options: DecodePoolOptions) {
    super();
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError(`decode workers ${options.workers} must be a positive integer`);
    this.maxBacklog = options.maxBacklogOctets ?? 32 * 1024 * 1024;
    this.log = options.logger ?? silentLogger;
    const config: DecodeWorkerConfig = {
      output: options.output, ringSize: options.ringSize, transport: options.transport,
      templateLifetimeMs: options.templateLifetimeMs, holdUnknownMs: options.holdUnknownMs,
    };
    this.slots = Array.from({ length: options.workers }, (_, i) => {
      const worker = startModuleWorker(WORKER_MODULE, { workerData: { flowvisDecodeWorker: config }, name: `flowvis-decode-${i}` });
      const slot: Slot = { worker, exited: false, sessions: 0, backlog: 0, counters: ZERO };
      worker.on('message', (m: FromWorker) => this.onWorkerMessage(slot, m));
      worker.on('error', (err) => this.log.error({ err, worker: i }, 'collector decode worker failed'));
      worker.on('exit', (code) => this.onWorkerExit(slot, i, code));
      return slot;
    });
  }

  openSession(session: CollectorSessionInfo): void {
    // The live worker with the fewest sessions (any worker when none is alive: messages are then counted as dropped).
    let slot = this.slots.find((s) => !s.exited) ?? (this.slots[0] as Slot);
    for (const s of this.slots) if (!s.exited && s.sessions < slot.sessions) slot = s;
    slot.sessions++;
    this.owner.set(session.id, slot);
    this.post(slot, { t: 'open', session });
  }

  closeSession(sessionId: number): void {
    const slot = this.owner.get(sessionId);
    if (!slot) return;
    this.owner.delete(sessionId);
    slot.sessions--;
    this.post(slot, { t: 'close', id: sessionId });
  }

  /** Hands a raw message to its session's worker; false asks the caller to pause the session. */
  dispatch(session: CollectorSessionInfo, message: Buffer): boolean {
    const slot = this.owner.get(session.id);
    if (!slot || this.closed) return true;
    if (slot.exited) {
      this.options.stats.messagesDropped++;
      return true;
    }
    const full = this.outputFull || slot.backlog >= this.maxBacklog;
    if (full && session.transport === 'udp') {
      const stats = this.options.stats;
      stats.messagesDropped++;
      this.dropLog.hit((n) => this.log.warn({ droppedMessages: n, totalDroppedMessages: stats.messagesDropped }, 'IPFIX collector: decode workers too slow, UDP messages dropped'));
      return true;
    }
    // A datagram arrives in a buffer of its own, which moves to the worker; other messages are copied.
    let octets: ArrayBuffer;
    if (message.byteOffset === 0 && message.buffer.byteLength === message.length && message.buffer instanceof ArrayBuffer) {
      octets = message.buffer;
    } else {
      octets = new ArrayBuffer(message.length);
      new Uint8Array(octets).set(message);
    }
    slot.backlog += message.length;
    slot.worker.postMessage({ t: 'message', id: session.id, arrival: ++this.arrival, octets, length: message.length } satisfies ToWorker, [octets]);
    if (full) this.pushedBack = true;
    return !full;
  }

  /** The output accepted more again (after write() returned false). */
  outputDrained(): void {
    this.outputFull = false;
    this.maybeDrained();
  }

  /** The most recent records of all workers, oldest first, as the body of GET /records. */
  async recentRecords(): Promise<string> {
    const answers = await Promise.all(this.slots.map((s) => this.request(s, (request) => ({ t: 'records', request }))));
    const items: [number, string][] = [];
    for (const a of answers) {
      if (a.t !== 'records') continue;
      for (let i = 0; i < a.arrivals.length; i++) items.push([a.arrivals[i] as number, a.json[i] as string]);
    }
    items.sort((x, y) => x[0] - y[0]);
    return recordsBodyOf(items.slice(-this.options.ringSize).map((x) => x[1]));
  }

  /** Forgets the recent records. */
  resetRecords(): void {
    for (const s of this.slots) this.post(s, { t: 'reset' });
  }

  /** Resolves once every message dispatched before the call is processed and its output written. */
  async sync(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.request(s, (request) => ({ t: 'sync', request }))));
  }

  /** Processes what was dispatched, then stops the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sync();
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private request(slot: Slot, make: (request: number) => ToWorker): Promise<FromWorker> {
    const request = this.nextRequest++;
    if (slot.exited) return Promise.resolve({ t: 'synced', request, counters: slot.counters });
    return new Promise((resolve) => {
      this.pending.set(request, { slot, resolve });
      this.post(slot, make(request));
    });
  }

  /** A thread that ends before close() loses its sessions' state: logged, and nothing waits on it. */
  private onWorkerExit(slot: Slot, index: number, code: number): void {
    slot.exited = true;
    if (!this.closed) this.log.error({ worker: index, exitCode: code }, 'collector decode worker ended; its sessions\' messages are dropped from now on');
    for (const [request, waiting] of this.pending) {
      if (waiting.slot !== slot) continue;
      this.pending.delete(request);
      waiting.resolve({ t: 'synced', request, counters: slot.counters });
    }
  }

  private post(slot: Slot, m: ToWorker): void {
    if (!this.closed && !slot.exited) slot.worker.postMessage(m);
  }

  private onWorkerMessage(slot: Slot, m: FromWorker): void {
    switch (m.t) {
      case 'output':
        slot.backlog -= m.octets;
        this.setCounters(slot, m.counters);
        for (const e of m.errors) {
          this.errorLog.hit((n) => this.log.warn({ code: e.code, message: e.message, occurrences: n, session: e.session, exporter: e.exporter }, 'IPFIX collector: decode error'));
        }
        if (m.text.length > 0 && !this.options.write(m.text)) this.outputFull = true;
        this.maybeDrained();
        return;
      case 'synced':
        this.setCounters(slot, m.counters);
        break;
      case 'records':
        break;
    }
    const waiting = this.pending.get(m.request);
    this.pending.delete(m.request);
    waiting?.resolve(m);
  }

  /** Sums the workers' counters into the shared stats. */
  private setCounters(slot: Slot, counters: WorkerCounters): void {
    slot.counters = counters;
    const stats = this.options.stats;
    stats.messages = 0; stats.bytes = 0; stats.records = 0; stats.templates = 0;
    stats.unknownTemplateSets = 0; stats.recordsLost = 0; stats.sequenceOutOfOrder = 0;
    stats.decodeErrors.clear();
    for (const s of this.slots) {
      const c = s.counters;
      stats.messages += c.messages; stats.bytes += c.bytes; stats.records += c.records; stats.templates += c.templates;
      stats.unknownTemplateSets += c.unknownTemplateSets; stats.recordsLost += c.recordsLost; stats.sequenceOutOfOrder += c.sequenceOutOfOrder;
      for (const [code, n] of Object.entries(c.decodeErrors)) stats.decodeErrors.set(code, (stats.decodeErrors.get(code) ?? 0) + n);
    }
  }

  private maybeDrained(): void {
    if (!this.pushedBack || this.outputFull) return;
    for (const s of this.slots) if (s.backlog >= this.maxBacklog / 2) return;
    this.pushedBack = false;
    this.emit('drained');
  }
}
