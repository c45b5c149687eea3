/**
 * IPFIX exporting process (RFC 7011 §10) over TCP, TLS (over TCP) or UDP.
 *
 * - Connects, and reconnects after any failure with exponential backoff; every successful
 *   (re)connect is counted (like Antrea's flow_collector_reconnection_count).
 * - A new connection starts a new transport session: a new MessageWriter (sequence numbers from 0)
 *   whose first message carries every template, so templates always precede data. Over UDP the
 *   templates are re-sent every `templateRefreshTimeoutMs` (RFC 7011 §8.4).
 * - Records are packed many per message; a message leaves when full (maxMessageSize) or when
 *   `flushIntervalMs` has passed since its first record.
 * - Records that cannot be written (no connection, or the socket applies backpressure) wait in a
 *   bounded queue; on overflow the oldest record is dropped, counted and logged. Records of a
 *   message that was still being built when the connection failed go back to the queue's front.
 *   Messages already handed to the kernel when a TCP connection fails cannot be recovered.
 * - close() sends what is queued (when connected), flushes, ends the connection and waits for it.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { IpfixError, TransportError } from '../errors.ts';
import { MessageWriter, type FieldValue, type Template } from '../ipfix/index.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { RateLimitedLog, silentLogger, type TransportLogger } from './logger.ts';
import { checkMessageSizeOverride, MAX_MESSAGE_SIZE, mtuOfLocalAddress, udpMessageSizeForMtu } from './message-size.ts';
import { RecordQueue, type QueuedRecord } from './record-queue.ts';
import { realTimers, type CancelTimer, type Timers } from './timers.ts';

export type TransportProtocol = 'tcp' | 'udp' | 'tls';
export const TRANSPORT_PROTOCOLS: readonly TransportProtocol[] = ['tcp', 'udp', 'tls'];

export interface ExporterTlsOptions {
  /** CA certificate(s) that sign the collector's certificate (default: Node's root store). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate and key, for collectors that require mutual TLS. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to verify the server certificate against and to send as SNI (default: the host). */
  servername?: string;
  /** Verify the collector's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Lowest TLS version (default and minimum TLSv1.2). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
}

/**
 * Opens a TCP or TLS connection to a collector; `ready` names the event that says it can carry
 * data ('connect', or 'secureConnect' once the TLS handshake is done).
 */
export function connectStream(host: string, port: number, transport: 'tcp' | 'tls', t: ExporterTlsOptions = {}): { sock: net.Socket; ready: 'connect' | 'secureConnect' } {
  if (transport === 'tcp') return { sock: net.connect({ host, port }), ready: 'connect' };
  const sock = tls.connect({
    host, port, ca: t.ca, cert: t.cert, key: t.key,
    servername: t.servername ?? (net.isIP(host) ? undefined : host),
    rejectUnauthorized: t.rejectUnauthorized ?? true,
    minVersion: t.minVersion ?? 'TLSv1.2',
  });
  return { sock, ready: 'secureConnect' };
}

export interface ExportingProcessOptions {
  /** Collector host name or IPv4/IPv6 address. */
  host: string;
  /**
   * Called before every connection attempt to find the collector's address (e.g. a Service's
   * ClusterIP, which may appear or change while the exporter runs); `host` is used when absent. A
   * failure counts as a failed connection attempt and is retried with backoff.
   */
  resolveHost?: () => string | Promise<string>;
  port: number;
  transport: TransportProtocol;
  observationDomainId: number;
  /** Templates to announce on every (re)connect; more can be added with addTemplate(). */
  templates?: readonly Template[];
  tls?: ExporterTlsOptions;
  /** Override of the maximum message size, 512..65535 (default: 65535 on TCP/TLS, MTU-derived on UDP). */
  maxMessageSize?: number;
  /** UDP: path MTU to derive the message size from (default: MTU of the sending interface). */
  mtu?: number;
  /** A message that is not full leaves this long after its first record (default 1000 ms). */
  flushIntervalMs?: number;
  /** UDP: templates are re-sent this often (default 600 s, as go-ipfix). */
  templateRefreshTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** A connection attempt fails after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Records waiting for the connection or for the socket to drain (default 65536). */
  maxQueuedRecords?: number;
  /** TCP/TLS: stop writing once this many octets wait in the socket's buffer (default 512 KiB). */
  maxBufferedBytes?: number;
  /** UDP: stop sending once this many datagrams wait for their send callback (default 1024). */
  maxInflightDatagrams?: number;
  timers?: Timers;
  logger?: TransportLogger;
}

export interface ExporterStats {
  /** Data records written into messages handed to the socket. */
  recordsSent: number;
  messagesSent: number;
  bytesSent: number;
  templatesSent: number;
  /** Successful connects, the first one included. */
  reconnections: number;
  /** Connection attempts that failed before the connection was up. */
  connectFailures: number;
  /** Established connections that were lost. */
  disconnections: number;
  /** Records dropped: queue overflow, closed while disconnected, template withdrawn while queued. */
  recordsDropped: number;
  /** Records the message writer refused (values that do not fit their template's types). */
  recordsInvalid: number;
  /** UDP datagrams whose send failed (e.g. ICMP port unreachable on a connected socket). */
  sendErrors: number;
}

export type ExporterState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closing' | 'closed';

interface ExporterEvents {
  connect: [{ localAddress: string; localPort: number; maxMessageSize: number }];
  disconnect: [Error | undefined];
  connectFailed: [Error];
  close: [];
}

const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'];

export class ExportingProcess extends EventEmitter<ExporterEvents> {
  /** The address of the last connection attempt (resolveHost's answer, else `host`). */
  private currentHost: string;
  /** When the current connection came up (ms), 0 before the first. */
  private connectedAt = 0;
  readonly stats: ExporterStats = {
    recordsSent: 0, messagesSent: 0, bytesSent: 0, templatesSent: 0, reconnections: 0, connectFailures: 0,
    disconnections: 0, recordsDropped: 0, recordsInvalid: 0, sendErrors: 0,
  };
  private readonly opts: ExportingProcessOptions;
  private readonly timers: Timers;
  private readonly log: TransportLogger;
  private readonly backoff: Backoff;
  private readonly queue: RecordQueue;
  private readonly templates = new Map<number, Template>();
  private readonly flushIntervalMs: number;
  private readonly refreshMs: number;
  private readonly maxBufferedBytes: number;
  private readonly maxInflight: number;
  private readonly dropLog: RateLimitedLog;
  private readonly sendErrorLog: RateLimitedLog;
  private currentState: ExporterState = 'idle';
  private stream: net.Socket | null = null;
  private udp: dgram.Socket | null = null;
  private writer: MessageWriter | null = null;
  /** Records in the message the writer is building (re-queued if the connection fails). */
  private partial: QueuedRecord[] = [];
  private blocked = false;
  private inflight = 0;
  private messageSize = 0;
  private cancelFlush: CancelTimer | null = null;
  private cancelReconnect: CancelTimer | null = null;
  private cancelRefresh: CancelTimer | null = null;
  private cancelConnectTimeout: CancelTimer | null = null;
  private waiters: (() => void)[] = [];

  constructor(options: ExportingProcessOptions) {
    super();
    this.currentHost = options.host;
    if (!TRANSPORT_PROTOCOLS.includes(options.transport)) {
      throw new TransportError('BAD_TRANSPORT', `transport "${String(options.transport)}" is not one of ${TRANSPORT_PROTOCOLS.join(', ')}`, { transport: String(options.transport) });
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new TransportError('BAD_PORT', `collector port ${options.port} is outside 1..65535`, { port: options.port });
    }
    if (options.maxMessageSize !== undefined) checkMessageSizeOverride(options.maxMessageSize);
    if (options.tls?.minVersion !== undefined && !TLS_VERSIONS.includes(options.tls.minVersion)) {
      throw new TransportError('BAD_TLS_VERSION', `minimum TLS version ${String(options.tls.minVersion)} is below TLSv1.2`, {});
    }
    this.opts = options;
    this.timers = options.timers ?? realTimers;
    this.log = options.logger ?? silentLogger;
    this.backoff = new Backoff(options.backoff);
    this.queue = new RecordQueue(options.maxQueuedRecords ?? 65536);
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.refreshMs = options.templateRefreshTimeoutMs ?? 600_000;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 512 * 1024;
    this.maxInflight = options.maxInflightDatagrams ?? 1024;
    this.dropLog = new RateLimitedLog(10_000, () => this.timers.now());
    this.sendErrorLog = new RateLimitedLog(10_000, () => this.timers.now());
    for (const t of options.templates ?? []) this.templates.set(t.id, t);
  }

  get state(): ExporterState {
    return this.currentState;
  }

  get connected(): boolean {
    return this.currentState === 'connected';
  }

  /** Records waiting in the queue. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Maximum message size of the current connection (0 when not connected). */
  get maxMessageSize(): number {
    return this.connected ? this.messageSize : 0;
  }

  /** Starts connecting (idempotent). Progress is reported by the connect/connectFailed events. */
  start(): this {
    if (this.currentState === 'idle') this.connect();
    return this;
  }

  /** Registers a template; sent at once when connected, and on every reconnect. */
  addTemplate(template: Template): void {
    this.assertOpen();
    const known = this.templates.get(template.id);
    if (known === template) return;
    if (known && !known.sameDefinition(template)) {
      throw new TransportError('TEMPLATE_REDEFINED', `template ${template.id} is already defined differently; withdraw it first`, { templateId: template.id });
    }
    this.templates.set(template.id, template);
    if (known || !this.writer) return;
    this.writer.addTemplate(template);
    this.stats.templatesSent++;
    this.afterWrite(null);
  }

  /**
   * Withdraws a template (RFC 7011 §8.1; TCP/TLS only, UDP just stops announcing it). Records of
   * it still queued are dropped and counted.
   */
  withdrawTemplate(templateId: number): void {
    this.assertOpen();
    if (!this.templates.delete(templateId)) return;
    const dropped = this.queue.removeWhere((r) => r.template.id === templateId);
    if (dropped > 0) this.countDropped(dropped, 'template withdrawn while records were queued');
    if (this.writer && this.opts.transport !== 'udp') {
      this.writer.withdrawTemplate(templateId);
      this.afterWrite(null);
    }
  }

  /**
   * Adds one data record (values in template order). The values array is kept, not copied, until
   * the record is encoded: do not change it afterwards. A template not added before is added now.
   * Throws IpfixError when the values do not fit the template (nothing is sent then).
   */
  addRecord(template: Template, values: readonly (FieldValue | undefined)[]): void {
    this.assertOpen();
    if (this.templates.get(template.id) !== template) this.addTemplate(template);
    const record: QueuedRecord = { template, values };
    if (this.writer && !this.blocked && this.queue.length === 0) {
      const err = this.writeRecord(record);
      if (err) throw err;
      return;
    }
    const dropped = this.queue.push(record);
    if (dropped) this.countDropped(1, 'queue full, oldest record dropped');
  }

  /** Sends the message being built now instead of waiting for the flush interval. */
  flush(): void {
    this.stopFlushTimer();
    const w = this.writer;
    if (!w || !w.hasPendingData) return;
    w.flush();
    this.afterWrite(null);
  }

  /**
   * Graceful close: when connected, waits (at most `timeoutMs`) until queued records are written,
   * flushes and ends the connection. Records that could not be sent are counted as dropped.
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.currentState === 'closed' || this.currentState === 'closing') return;
    const deadline = this.timers.now() + timeoutMs;
    const remaining = (): number => Math.max(0, deadline - this.timers.now());
    while (this.connected && (this.queue.length > 0 || this.blocked) && remaining() > 0) {
      await this.waitForProgress(remaining());
    }
    this.currentState = 'closing';
    this.stopTimer('cancelReconnect');
    this.stopTimer('cancelRefresh');
    if (this.writer && this.writer.hasPendingData) {
      this.writer.flush();
      this.afterWrite(null);
    }
    this.stopFlushTimer();
    const stream = this.stream;
    if (stream) {
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      if (this.cancelConnectTimeout) stream.destroy(); else stream.end();
      const timer = this.timers.setTimeout(() => stream.destroy(), remaining());
      await closed;
      timer();
    }
    const udp = this.udp;
    if (udp) {
      while (this.inflight > 0 && remaining() > 0) await this.waitForProgress(remaining());
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      this.udp = null;
    }
    this.stopTimer('cancelConnectTimeout');
    const left = this.queue.clear() + this.partial.length;
    this.partial = [];
    if (left > 0) this.countDropped(left, 'exporting process closed before they could be sent');
    this.writer = null;
    this.currentState = 'closed';
    this.wakeWaiters();
    this.emit('close');
  }

  // --- connection management ------------------------------------------------------------------

  private connect(): void {
    this.cancelReconnect = null;
    this.currentState = 'connecting';
    const resolve = this.opts.resolveHost;
    if (!resolve) {
      this.connectTo(this.opts.host);
      return;
    }
    Promise.resolve()
      .then(resolve)
      .then((host) => {
        if (this.currentState === 'connecting') this.connectTo(host);
      }, (e: unknown) => {
        if (this.currentState !== 'connecting') return;
        const err = e instanceof Error ? e : new Error(String(e));
        this.onConnectFailed(new TransportError('RESOLVE_FAILED', `cannot find the collector: ${err.message}`, { host: this.opts.host }, { cause: err }));
      });
  }

  private connectTo(host: string): void {
    this.currentHost = host;
    if (this.opts.transport === 'udp') void this.connectUdp(host);
    else this.connectStream(host);
  }

  private connectStream(host: string): void {
    const { port } = this.opts;
    const { sock, ready: readyEvent } = connectStream(host, port, this.opts.transport === 'tls' ? 'tls' : 'tcp', this.opts.tls);
    this.stream = sock;
    let lastError: Error | undefined;
    this.cancelConnectTimeout = this.timers.setTimeout(() => {
      this.cancelConnectTimeout = null;
      sock.destroy(new TransportError('CONNECT_TIMEOUT', `no connection to ${host}:${port} within ${this.opts.connectTimeoutMs ?? 10_000} ms`, { host, port }));
    }, this.opts.connectTimeoutMs ?? 10_000);
    sock.once(readyEvent, () => {
      if (this.stream !== sock) return;
      this.stopTimer('cancelConnectTimeout');
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 30_000);
      this.onConnected(sock.localAddress ?? '', sock.localPort ?? 0, this.opts.maxMessageSize ?? MAX_MESSAGE_SIZE);
    });
    sock.on('error', (e) => { lastError = e; });
    // A collector sends nothing; reading keeps 'end' detectable, and what does arrive says
    // something about the peer (a TLS alert from a TLS collector to a plain-TCP exporter).
    let firstByte = -1;
    sock.on('data', (d: Buffer) => { if (firstByte < 0 && d.length > 0) firstByte = d[0]; });
    sock.on('end', () => sock.destroy());
    sock.on('drain', () => {
      if (this.stream !== sock) return;
      this.blocked = false;
      this.pump();
      this.wakeWaiters();
    });
    sock.on('close', () => this.onStreamClosed(sock, lastError ?? this.explainEarlyClose(firstByte)));
  }

  private async connectUdp(host: string): Promise<void> {
    const { port } = this.opts;
    let address = host;
    let family = net.isIP(host);
    try {
      if (family === 0) {
        const r = await lookup(host);
        address = r.address;
        family = r.family;
      }
    } catch (e) {
      this.onConnectFailed(new TransportError('RESOLVE_FAILED', `cannot resolve collector host ${host}: ${(e as Error).message}`, { host }, { cause: e }));
      return;
    }
    if (this.currentState !== 'connecting') return;
    const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    this.udp = sock;
    sock.on('error', (e) => {
      if (this.udp === sock && this.currentState === 'connecting') {
        this.udp = null;
        sock.close();
        this.onConnectFailed(e);
        return;
      }
      this.log.warn({ err: e, host, port }, 'IPFIX exporter UDP socket error');
    });
    sock.connect(port, address, () => {
      if (this.udp !== sock || this.currentState !== 'connecting') return;
      const local = sock.address();
      const fam = family === 6 ? 6 : 4;
      const size = this.opts.maxMessageSize
        ?? udpMessageSizeForMtu(this.opts.mtu ?? mtuOfLocalAddress(local.address) ?? 0, fam);
      this.onConnected(local.address, local.port, size);
      this.scheduleRefresh();
    });
  }

  private onConnected(localAddress: string, localPort: number, maxMessageSize: number): void {
    this.currentState = 'connected';
    this.connectedAt = this.timers.now();
    this.backoff.reset();
    this.stats.reconnections++;
    this.messageSize = maxMessageSize;
    this.blocked = false;
    this.writer = new MessageWriter({
      observationDomainId: this.opts.observationDomainId,
      maxMessageSize,
      clock: () => Math.floor(this.timers.now() / 1000),
    });
    this.sendTemplates();
    this.log.info({ host: this.currentHost, port: this.opts.port, transport: this.opts.transport, localAddress, localPort, maxMessageSize }, 'IPFIX exporter connected');
    this.emit('connect', { localAddress, localPort, maxMessageSize });
    this.pump();
  }

  private onConnectFailed(err: Error): void {
    this.stats.connectFailures++;
    this.log.warn({ err, host: this.currentHost, port: this.opts.port }, 'IPFIX exporter could not connect');
    this.emit('connectFailed', err);
    this.scheduleReconnect();
  }

  /**
   * A collector that closes a plain-TCP connection at once, or answers with a TLS record (alert
   * 0x15, handshake 0x16), most likely expects TLS: say so instead of a bare "lost connection".
   */
  private explainEarlyClose(firstByte: number): Error | undefined {
    if (this.opts.transport !== 'tcp') return undefined;
    const soon = this.connectedAt > 0 && this.timers.now() - this.connectedAt < 2000;
    if (firstByte === 0x15 || firstByte === 0x16) {
      return new TransportError('PEER_EXPECTS_TLS', `the collector at ${this.currentHost}:${this.opts.port} answered with TLS: it expects TLS; use ":tls" in the collector address (flowCollectorAddr)`, { host: this.currentHost, port: this.opts.port });
    }
    if (soon) {
      return new TransportError('CLOSED_BY_PEER', `the collector at ${this.currentHost}:${this.opts.port} closed the connection right after it opened; if it expects TLS, use ":tls" in the collector address (flowCollectorAddr)`, { host: this.currentHost, port: this.opts.port });
    }
    return undefined;
  }

  private onStreamClosed(sock: net.Socket, err: Error | undefined): void {
    if (this.stream !== sock) return;
    this.stream = null;
    this.stopTimer('cancelConnectTimeout');
    this.stopFlushTimer();
    const wasConnected = this.currentState === 'connected';
    this.loseConnection();
    if (this.currentState === 'closing') return;
    if (!wasConnected) {
      this.onConnectFailed(err ?? new TransportError('CONNECT_FAILED', `connection to ${this.currentHost}:${this.opts.port} closed during setup`, {}));
      return;
    }
    this.stats.disconnections++;
    this.log.warn({ err, host: this.currentHost, port: this.opts.port }, err ? `IPFIX exporter lost its connection: ${err.message}` : 'IPFIX exporter lost its connection');
    this.emit('disconnect', err);
    this.scheduleReconnect();
  }

  /** Forgets the connection's writer; records of the unfinished message go back to the queue. */
  private loseConnection(): void {
    const dropped = this.queue.unshiftAll(this.partial);
    this.partial = [];
    if (dropped > 0) this.countDropped(dropped, 'queue full while re-queueing an unsent message');
    this.writer = null;
    this.blocked = false;
    this.wakeWaiters();
  }

  private scheduleReconnect(): void {
    if (this.currentState === 'closing' || this.currentState === 'closed') return;
    this.currentState = 'backoff';
    const delay = this.backoff.next();
    this.log.info({ delayMs: delay, host: this.opts.host, port: this.opts.port }, 'IPFIX exporter reconnecting after backoff');
    this.cancelReconnect = this.timers.setTimeout(() => this.connect(), delay);
  }

  private scheduleRefresh(): void {
    this.stopTimer('cancelRefresh');
    this.cancelRefresh = this.timers.setTimeout(() => {
      this.cancelRefresh = null;
      if (!this.writer) return;
      if (this.writer.hasPendingData) this.writer.flush();
      this.sendTemplates();
      this.scheduleRefresh();
    }, this.refreshMs);
  }

  // --- writing ------------------------------------------------------------------------------------

  private sendTemplates(): void {
    const w = this.writer;
    if (!w || this.templates.size === 0) return;
    for (const t of this.templates.values()) {
      w.addTemplate(t);
      this.stats.templatesSent++;
    }
    w.flush();
    this.afterWrite(null);
  }

  /** Encodes one record; returns the encoding error instead of throwing. */
  private writeRecord(r: QueuedRecord): IpfixError | null {
    const w = this.writer!;
    try {
      w.addRecord(r.template, r.values);
    } catch (e) {
      this.stats.recordsInvalid++;
      this.afterWrite(null);
      return e instanceof IpfixError ? e : new IpfixError('ENCODE_FAILED', String(e), { templateId: r.template.id });
    }
    this.afterWrite(r);
    return null;
  }

  /**
   * After anything was written into the writer: hands finished messages to the socket. `added` is
   * the data record just added (it is in the open message even when the writer finished others).
   */
  private afterWrite(added: QueuedRecord | null): void {
    const w = this.writer!;
    if (w.pendingMessages === 0) {
      if (added) this.partial.push(added);
    } else {
      const finishedRecords = w.hasPendingData || !added ? this.partial.length : this.partial.length + 1;
      this.stats.recordsSent += finishedRecords;
      this.partial = added && w.hasPendingData ? [added] : [];
      for (const msg of w.drain()) this.sendMessage(msg);
    }
    if (!w.hasPendingData) {
      this.stopFlushTimer();
    } else if (!this.cancelFlush && this.currentState !== 'closing') {
      this.cancelFlush = this.timers.setTimeout(() => {
        this.cancelFlush = null;
        this.flush();
      }, this.flushIntervalMs);
    }
  }

  private sendMessage(msg: Buffer): void {
    this.stats.messagesSent++;
    this.stats.bytesSent += msg.length;
    if (this.stream) {
      const s = this.stream;
      if (!s.write(msg) && s.writableLength >= this.maxBufferedBytes) this.blocked = true;
      return;
    }
    const udp = this.udp!;
    this.inflight++;
    if (this.inflight >= this.maxInflight) this.blocked = true;
    udp.send(msg, (err) => {
      this.inflight--;
      if (err) {
        this.stats.sendErrors++;
        this.sendErrorLog.hit((n) => this.log.warn({ err, count: n, host: this.opts.host, port: this.opts.port }, 'IPFIX exporter could not send UDP messages'));
      }
      if (this.blocked && this.inflight < this.maxInflight / 2 && this.udp === udp) {
        this.blocked = false;
        this.pump();
      }
      this.wakeWaiters();
    });
  }

  /** Moves queued records into messages while the connection accepts more. */
  private pump(): void {
    while (this.writer && !this.blocked && this.queue.length > 0) {
      const r = this.queue.shift()!;
      const err = this.writeRecord(r);
      if (err) this.log.warn({ err, templateId: r.template.id }, 'IPFIX exporter dropped a record it could not encode');
    }
  }

  // --- helpers ----------------------------------------------------------------------------------

  private countDropped(n: number, reason: string): void {
    this.stats.recordsDropped += n;
    this.dropLog.hit((hits) => this.log.warn({ dropped: n, occurrences: hits, totalDropped: this.stats.recordsDropped, queueDepth: this.queue.length, reason }, 'IPFIX exporter dropped records'));
  }

  private assertOpen(): void {
    if (this.currentState === 'closing' || this.currentState === 'closed') {
      throw new TransportError('EXPORTER_CLOSED', 'the exporting process is closed', { host: this.opts.host, port: this.opts.port });
    }
  }

  private waitForProgress(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.timers.setTimeout(() => done(), ms);
      const done = (): void => {
        cancel();
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  private wakeWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private stopFlushTimer(): void {
    this.stopTimer('cancelFlush');
  }

  private stopTimer(name: 'cancelFlush' | 'cancelReconnect' | 'cancelRefresh' | 'cancelConnectTimeout'): void {
    const cancel = this[name];
    this[name] = null;
    if (cancel) cancel();
  }
}
