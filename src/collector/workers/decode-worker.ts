/**
 * A decode worker of the standalone collector (a worker thread). It owns the sessions the main
 * thread assigns to it: their decoders (templates), sequence tracking and counters. For each raw
 * message it decodes, counts, keeps the records in its recent-records ring and prints them into
 * an output buffer, which goes back to the main thread once per turn of its event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SessionDecoder, type DataRecord } from '../../ipfix/index.ts';
import { CollectorStats, countDecodedMessage, SequenceTracker, type CollectorSessionInfo } from '../../transport/index.ts';
import { recordJson } from '../http-server.ts';
import { recordPrinter, type CollectedRecord } from '../record-format.ts';
import type { DecodeErrorSample, DecodeWorkerConfig, FromWorker, ToWorker, WorkerCounters } from './protocol.ts';

/** A decoded message kept for GET /records (whole messages: one entry per message, not per record). */
interface RecentMessage {
  readonly arrival: number;
  readonly session: CollectorSessionInfo;
  readonly records: readonly DataRecord[];
}

interface Session {
  readonly info: CollectorSessionInfo;
  readonly decoder: SessionDecoder;
  readonly sequence: SequenceTracker;
}

/** Messages after which a worker reports progress even within one turn. */
const PROGRESS_EVERY_MESSAGES = 8;
/** Errors sampled per output batch for the main thread's (rate-limited) log. */
const MAX_ERROR_SAMPLES = 4;

export class DecodeWorker {
  private readonly sessions = new Map<number, Session>();
  private readonly stats = new CollectorStats();
  /** Recent messages, oldest first, holding at least the last ringSize records. */
  private recent: RecentMessage[] = [];
  private recentRecords = 0;
  private readonly format: ((r: CollectedRecord) => string) | null;
  private text = '';
  private handled = 0;
  private handledOctets = 0;
  private errors: DecodeErrorSample[] = [];
  private flushScheduled = false;

  constructor(
    private readonly config: DecodeWorkerConfig,
    private readonly send: (m: FromWorker) => void,
  ) {
    this.format = recordPrinter(config.output);
  }

  handle(m: ToWorker): void {
    switch (m.t) {
      case 'open':
        this.sessions.set(m.session.id, {
          info: m.session,
          decoder: new SessionDecoder({ transport: this.config.transport, templateLifetimeMs: this.config.templateLifetimeMs, holdUnknownMs: this.config.holdUnknownMs }),
          sequence: new SequenceTracker(),
        });
        return;
      case 'close':
        this.sessions.delete(m.id);
        return;
      case 'message':
        this.acknowledge(m.length);
        this.decode(m.id, m.arrival, Buffer.from(m.octets, 0, m.length));
        return;
      case 'records': {
        const arrivals: number[] = [];
        const json: string[] = [];
        let skip = Math.max(0, this.recentRecords - this.config.ringSize);
        for (const msg of this.recent) {
          for (let i = 0; i < msg.records.length; i++) {
            if (skip > 0) {
              skip--;
              continue;
            }
            const record = msg.records[i] as DataRecord;
            arrivals.push(msg.arrival);
            json.push(recordJson({ session: msg.session, header: record.header, record, recordIdx: i }));
          }
        }
        this.send({ t: 'records', request: m.request, arrivals, json });
        return;
      }
      case 'reset':
        this.recent = [];
        this.recentRecords = 0;
        return;
      case 'sync':
        this.flush();
        this.send({ t: 'synced', request: m.request, counters: this.counters() });
        return;
    }
  }

  /** handle(), except that a failure is counted and reported instead of ending the thread. */
  handleSafely(m: ToWorker): void {
    try {
      this.handle(m);
    } catch (err) {
      // A bug must not stop the thread that owns these sessions: count it, report it, go on.
      this.internalError(err as Error, m);
    }
  }

  /** Counts an unexpected failure while handling `m` (reported with the next output). */
  private internalError(err: Error, m: ToWorker): void {
    this.stats.countError('INTERNAL_ERROR');
    if (this.errors.length < MAX_ERROR_SAMPLES) {
      this.errors.push({ code: 'INTERNAL_ERROR', message: err.stack ?? err.message, session: m.t === 'message' ? m.id : 0, exporter: '' });
    }
    this.scheduleFlush();
  }

  /** Held data sets whose template never came are dropped (UDP, holdUnknownMs). */
  expireHeld(): void {
    for (const s of this.sessions.values()) s.decoder.expireHeld();
  }

  /** Counts a message as handled (whatever becomes of it) for the main thread's backlog. */
  private acknowledge(octets: number): void {
    this.handled++;
    this.handledOctets += octets;
    // A busy worker handles a long run of queued messages in one turn: report progress (and hand
    // over the output) every few messages, so the main thread's view of the backlog stays current.
    if (this.handled >= PROGRESS_EVERY_MESSAGES) this.flush();
    else this.scheduleFlush();
  }

  private decode(id: number, arrival: number, octets: Buffer): void {
    const s = this.sessions.get(id);
    if (!s) return; // closed meanwhile
    const m = s.decoder.decodeMessage(octets);
    for (const err of m.errors) {
      if (this.errors.length < MAX_ERROR_SAMPLES) this.errors.push({ code: err.code, message: err.message, session: id, exporter: s.info.exporterAddress });
    }
    if (!countDecodedMessage(this.stats, s.sequence, m)) return;
    const records = m.records;
    if (records.length === 0) return;
    this.remember({ arrival, session: s.info, records });
    const format = this.format;
    if (!format) return;
    let text = '';
    for (let i = 0; i < records.length; i++) {
      text += format({ session: s.info, header: records[i].header, record: records[i], recordIdx: i });
    }
    this.text += text;
  }

  private remember(msg: RecentMessage): void {
    this.recent.push(msg);
    this.recentRecords += msg.records.length;
    let drop = 0;
    while (drop < this.recent.length && this.recentRecords - (this.recent[drop] as RecentMessage).records.length >= this.config.ringSize) {
      this.recentRecords -= (this.recent[drop] as RecentMessage).records.length;
      drop++;
    }
    // Drop in bulk (splice per message would copy the array each time).
    if (drop > 64 || (drop > 0 && drop * 2 >= this.recent.length)) this.recent = this.recent.slice(drop);
    else if (drop > 0) this.recent.splice(0, drop);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.handled === 0 && this.text === '') return;
    this.send({ t: 'output', text: this.text, messages: this.handled, octets: this.handledOctets, counters: this.counters(), errors: this.errors });
    this.text = '';
    this.handled = 0;
    this.handledOctets = 0;
    this.errors = [];
  }

  private counters(): WorkerCounters {
    const s = this.stats;
    return {
      messages: s.messages, bytes: s.bytes, records: s.records, templates: s.templates, unknownTemplateSets: s.unknownTemplateSets,
      recordsLost: s.recordsLost, sequenceOutOfOrder: s.sequenceOutOfOrder, decodeErrors: Object.fromEntries(s.decodeErrors),
    };
  }
}

if (parentPort && (workerData as { flowvisDecodeWorker?: DecodeWorkerConfig } | null)?.flowvisDecodeWorker) {
  const port = parentPort;
  const config = (workerData as { flowvisDecodeWorker: DecodeWorkerConfig }).flowvisDecodeWorker;
  const worker = new DecodeWorker(config, (m) => port.postMessage(m));
  port.on('message', (m: ToWorker) => worker.handleSafely(m));
  if (config.holdUnknownMs) setInterval(() => worker.expireHeld(), Math.max(250, config.holdUnknownMs / 2)).unref();
}
