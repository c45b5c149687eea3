/**
 * IPFIX collecting process (RFC 7011 §10) on TCP, TLS (optionally mutual) or UDP, IPv4 and IPv6,
 * with any number of exporters at once.
 *
 * - Transport sessions: one per TCP/TLS connection (templates live as long as the connection) and
 *   one per UDP exporter address:port (templates expire `templateLifetimeMs` after they were last
 *   sent; the session itself ends after that long without a datagram). Each session has its own
 *   SessionDecoder, so templates are scoped (session, observation domain, template ID).
 * - Decoded messages are delivered with their session, either to an `onMessage` callback (called
 *   synchronously, fastest) or through `batches()`, an async iterator over arrays of messages fed
 *   from a bounded queue. When the queue holds `maxQueuedRecords`, TCP/TLS connections that add to
 *   it are paused (socket.pause()) until the consumer takes the queue; UDP messages that arrive then
 *   are dropped and counted (UDP cannot be paused; the kernel buffer would overflow anyway).
 * - A TCP/TLS stream whose framing is lost (bad version or length) is closed. Nothing a peer sends
 *   crashes the process: every problem is counted by code and logged (rate-limited).
 * - Fair turns: TCP/TLS streams together deliver at most `maxBytesPerTurn` octets per turn of the
 *   event loop; a stream that reads beyond it is paused until the next turn. Without this, many
 *   busy exporters make one turn read everything their sockets hold (seconds of work), and
 *   timers (expiry), sinks' writes and the API only run between such turns.
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { TransportError } from '../errors.ts';
import {
  SessionDecoder, StreamDecoder, StreamFramer, type DataRecord, type DecodedMessage, type MessageHeader, type Template,
} from '../ipfix/index.ts';
import { CollectorStats, countDecodedMessage } from './collector-stats.ts';
import { RateLimitedLog, silentLogger, type TransportLogger } from './logger.ts';
import { SequenceTracker } from './sequence-tracker.ts';
import { realTimers, type CancelTimer, type Timers } from './timers.ts';
import type { TransportProtocol } from './exporting-process.ts';

export interface CollectorTlsOptions {
  /** Server certificate chain and key (PEM). */
  cert: string | Buffer;
  key: string | Buffer;
  /** CA that signs client certificates; with requireClientCert, clients must present one it signed. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Mutual TLS: request a client certificate and reject clients without a valid one. */
  requireClientCert?: boolean;
  /** Lowest TLS version (default and minimum TLSv1.2). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** A handshake that takes longer fails (default 10 s). */
  handshakeTimeoutMs?: number;
}

export interface CollectingProcessOptions {
  transport: TransportProtocol;
  /** Address to listen on (default "::", which also accepts IPv4; "0.0.0.0" where IPv6 is off). */
  address?: string;
  /** Port (default 4739; 0 picks a free one, see `address` after start()). */
  port?: number;
  tls?: CollectorTlsOptions;
  /** UDP template lifetime and session idle timeout (default 1800 s = 3 × the 600 s refresh). */
  templateLifetimeMs?: number;
  /** UDP: hold data sets that arrive before their template this long (default 0: off). */
  holdUnknownMs?: number;
  /** Delivery callback; when set, batches() is not used. Called synchronously: keep it fast. */
  onMessage?: (message: CollectedMessage) => void;
  /**
   * Raw delivery, for consumers that decode elsewhere (worker threads): messages are not decoded
   * here; each UDP datagram, or each message framed out of a TCP/TLS stream, is handed over as
   * octets with its session. Returning false asks for a pause: the TCP/TLS stream stops reading
   * until resumeStreams() (a UDP datagram cannot wait; the receiver decides what to do with it).
   * Decoding statistics (messages, records, templates, losses, decode errors) are then the
   * receiver's to count into `stats`.
   */
  onRawMessage?: (session: CollectorSessionInfo, message: Buffer) => boolean;
  /** Records the queue holds before TCP reads pause / UDP messages are dropped (default 65536). */
  maxQueuedRecords?: number;
  /** TCP/TLS connections beyond this are refused (default 10000). */
  maxSessions?: number;
  /** TCP/TLS octets delivered per turn of the event loop before streams pause until the next (default 1 MiB). */
  maxBytesPerTurn?: number;
  /** UDP socket receive buffer (SO_RCVBUF; the kernel caps it at net.core.rmem_max). Default 8 MiB. */
  recvBufferSize?: number;
  timers?: Timers;
  logger?: TransportLogger;
}

export interface CollectorSessionInfo {
  /** Unique within this collecting process. */
  readonly id: number;
  readonly transport: TransportProtocol;
  /** Exporter address (IPv4-mapped IPv6 addresses are given as IPv4). */
  readonly exporterAddress: string;
  readonly exporterPort: number;
}

/** One decoded message with the session it came from. */
export interface CollectedMessage {
  readonly session: CollectorSessionInfo;
  readonly header: MessageHeader;
  readonly records: DataRecord[];
  readonly templates: readonly Template[];
  readonly withdrawals: readonly number[];
}

interface CollectorEvents {
  sessionOpen: [CollectorSessionInfo];
  sessionClose: [CollectorSessionInfo, string];
}

interface UdpSession {
  info: CollectorSessionInfo;
  decoder: SessionDecoder;
  sequence: SequenceTracker;
  lastSeen: number;
}

const DEFAULT_PORT = 4739;

/** "::ffff:10.0.0.1" → "10.0.0.1"; other addresses unchanged. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export class CollectingProcess extends EventEmitter<CollectorEvents> {
  readonly stats = new CollectorStats();
  readonly transport: TransportProtocol;
  private opts: CollectingProcessOptions;
  private readonly timers: Timers;
  private readonly log: TransportLogger;
  private readonly maxQueued: number;
  private readonly lifetimeMs: number;
  private readonly errorLog: RateLimitedLog;
  private readonly dropLog: RateLimitedLog;
  private server: net.Server | null = null;
  private udp: dgram.Socket | null = null;
  private readonly streams = new Set<net.Socket>();
  private readonly paused = new Set<net.Socket>();
  /** Streams paused until the next turn of the event loop (their turn's share was read). */
  private readonly throttled = new Set<net.Socket>();
  private readonly maxBytesPerTurn: number;
  private turnBytes = 0;
  private turnEndScheduled = false;
  private readonly udpSessions = new Map<string, UdpSession>();
  private nextSessionId = 1;
  private queue: CollectedMessage[] = [];
  private queuedRecords = 0;
  private wake: (() => void) | null = null;
  private cancelSweep: CancelTimer | null = null;
  private bound: net.AddressInfo | null = null;
  private closed = false;
  private consuming = false;

  constructor(options: CollectingProcessOptions) {
    super();
    if (!['tcp', 'udp', 'tls'].includes(options.transport)) {
      throw new TransportError('BAD_TRANSPORT', `transport "${String(options.transport)}" is not one of tcp, udp, tls`, { transport: String(options.transport) });
    }
    if (options.transport === 'tls' && (!options.tls?.cert || !options.tls.key)) {
      throw new TransportError('TLS_CONFIG', 'a TLS collector needs a certificate and a key', {});
    }
    if (options.tls?.requireClientCert && !options.tls.ca) {
      throw new TransportError('TLS_CONFIG', 'requiring client certificates needs the CA that signs them', {});
    }
    const port = options.port ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TransportError('BAD_PORT', `port ${port} is outside 0..65535`, { port });
    }
    this.opts = options;
    this.transport = options.transport;
    this.timers = options.timers ?? realTimers;
    this.log = options.logger ?? silentLogger;
    this.maxQueued = options.maxQueuedRecords ?? 65536;
    this.maxBytesPerTurn = options.maxBytesPerTurn ?? 1024 * 1024;
    this.lifetimeMs = options.templateLifetimeMs ?? 1_800_000;
    this.errorLog = new RateLimitedLog(5000, () => this.timers.now());
    this.dropLog = new RateLimitedLog(5000, () => this.timers.now());
  }

  /** The bound address (after start()). */
  get address(): net.AddressInfo {
    if (!this.bound) throw new TransportError('NOT_LISTENING', 'the collecting process is not listening', {});
    return this.bound;
  }

  /** Messages waiting for the consumer, and their records. */
  get queueDepth(): { messages: number; records: number } {
    return { messages: this.queue.length, records: this.queuedRecords };
  }

  /** The open sessions. */
  sessions(): CollectorSessionInfo[] {
    const out: CollectorSessionInfo[] = [];
    for (const s of this.streams) {
      const info = sessionOf.get(s);
      if (info) out.push(info);
    }
    for (const s of this.udpSessions.values()) out.push(s.info);
    return out;
  }

  /**
   * TLS: switches to new credentials (a renewed server certificate, a new CA for client
   * certificates) for the handshakes from now on; connections already open keep theirs.
   */
  setTlsCredentials(credentials: Pick<CollectorTlsOptions, 'cert' | 'key' | 'ca'>): void {
    if (this.transport !== 'tls') throw new TransportError('TLS_CONFIG', `a ${this.transport} collector has no TLS credentials to replace`, {});
    const next = { ...this.opts.tls!, ...credentials };
    if (!next.cert || !next.key) throw new TransportError('TLS_CONFIG', 'a TLS collector needs a certificate and a key', {});
    this.opts = { ...this.opts, tls: next };
    if (this.server instanceof tls.Server) {
      this.server.setSecureContext({ cert: next.cert, key: next.key, ca: next.ca, minVersion: next.minVersion ?? 'TLSv1.2' });
    }
    this.log.info({ transport: this.transport }, 'IPFIX collector: TLS credentials replaced for new connections');
  }

  /** Resumes the TCP/TLS streams paused because a raw receiver asked for a pause (onRawMessage). */
  resumeStreams(): void {
    if (this.paused.size === 0) return;
    for (const s of this.paused) if (!this.throttled.has(s)) s.resume();
    this.paused.clear();
  }

  /** Binds and listens; resolves with the bound address. */
  async start(): Promise<net.AddressInfo> {
    if (this.bound) return this.bound;
    const port = this.opts.port ?? DEFAULT_PORT;
    const explicit = this.opts.address;
    const candidates = explicit !== undefined ? [explicit] : ['::', '0.0.0.0'];
    let lastError: unknown;
    for (const address of candidates) {
      try {
        this.bound = this.transport === 'udp' ? await this.listenUdp(address, port) : await this.listenStream(address, port);
        break;
      } catch (e) {
        lastError = e;
        const code = (e as NodeJS.ErrnoException).code;
        if (explicit !== undefined || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) break;
      }
    }
    if (!this.bound) {
      const e = lastError as NodeJS.ErrnoException;
      throw new TransportError('LISTEN_FAILED', `cannot listen on ${explicit ?? '::'} port ${port} (${this.transport}): ${e?.message}`, { address: explicit ?? '::', port, transport: this.transport }, { cause: e });
    }
    if (this.transport === 'udp') this.scheduleSweep();
    this.log.info({ ...this.bound, transport: this.transport }, 'IPFIX collector listening');
    return this.bound;
  }

  /**
   * Decoded messages in arrival order, in batches (everything queued when the consumer asks). Ends
   * after close() once the queue is empty. One consumer at a time.
   */
  async *batches(): AsyncGenerator<CollectedMessage[], void, undefined> {
    if (this.consuming) throw new TransportError('ALREADY_CONSUMED', 'batches() is already being consumed; the collecting process has one consumer', {});
    this.consuming = true;
    try {
      for (;;) {
        if (this.queue.length > 0) {
          yield this.takeAll();
          continue;
        }
        if (this.closed) return;
        await new Promise<void>((resolve) => { this.wake = resolve; });
        this.wake = null;
      }
    } finally {
      this.consuming = false;
    }
  }

  /** Decoded messages one by one (see batches()). */
  async *[Symbol.asyncIterator](): AsyncGenerator<CollectedMessage, void, undefined> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** Stops listening and closes every session; queued messages remain readable through batches(). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.cancelSweep) this.cancelSweep();
    this.cancelSweep = null;
    const server = this.server;
    const udp = this.udp;
    const done: Promise<void>[] = [];
    if (server) done.push(new Promise((resolve) => server.close(() => resolve())));
    for (const s of this.streams) s.destroy();
    if (udp) {
      done.push(new Promise((resolve) => udp.close(() => resolve())));
      for (const s of this.udpSessions.values()) this.endUdpSession(s, 'collector closed');
    }
    await Promise.all(done);
    this.server = null;
    this.udp = null;
    this.wake?.();
    this.log.info({ transport: this.transport }, 'IPFIX collector closed');
  }

  // --- TCP / TLS ------------------------------------------------------------------------------

  private listenStream(address: string, port: number): Promise<net.AddressInfo> {
    let server: net.Server;
    if (this.transport === 'tls') {
      const t = this.opts.tls!;
      const requireCert = t.requireClientCert ?? false;
      const tlsServer = tls.createServer({
        cert: t.cert, key: t.key, ca: t.ca, requestCert: requireCert, rejectUnauthorized: requireCert,
        minVersion: t.minVersion ?? 'TLSv1.2', handshakeTimeout: t.handshakeTimeoutMs ?? 10_000,
      });
      tlsServer.on('secureConnection', (s) => this.onStream(s));
      tlsServer.on('tlsClientError', (err, s) => {
        this.stats.tlsHandshakeFailures++;
        this.stats.rejectedConnections++;
        const exporter = normalizeAddress(s.remoteAddress);
        if ((err as NodeJS.ErrnoException).code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|http request/i.test(err.message)) {
          // Plain IPFIX starts with 0x000a: the peer is not speaking TLS at all.
          this.log.warn({ err, exporter, port: s.remotePort }, `IPFIX collector: exporter ${exporter} sent plain TCP (no TLS) to this TLS collector; connection rejected. Configure the exporter for TLS (":tls" in flowCollectorAddr) or run this collector with TCP (aggregatorTransportProtocol: TCP)`);
          return;
        }
        this.log.warn({ err, exporter, port: s.remotePort }, 'IPFIX collector: TLS handshake failed, connection rejected');
      });
      server = tlsServer;
    } else {
      server = net.createServer((s) => this.onStream(s));
    }
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port, ipv6Only: false }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error({ err }, 'IPFIX collector server error'));
        this.server = server;
        resolve(server.address() as net.AddressInfo);
      });
    });
  }

  private onStream(sock: net.Socket): void {
    if (this.closed || this.streams.size >= (this.opts.maxSessions ?? 10_000)) {
      this.stats.rejectedConnections++;
      this.log.warn({ exporter: normalizeAddress(sock.remoteAddress), port: sock.remotePort, sessions: this.streams.size }, 'IPFIX collector: session limit reached, connection rejected');
      sock.destroy();
      return;
    }
    const info = this.openSession(normalizeAddress(sock.remoteAddress), sock.remotePort ?? 0);
    sessionOf.set(sock, info);
    this.streams.add(sock);
    const raw = this.opts.onRawMessage;
    let stream: StreamDecoder | StreamFramer;
    let push: (chunk: Buffer) => boolean;
    if (raw) {
      const framer = new StreamFramer();
      const onMessage = (msg: Buffer): void => {
        if (raw(info, msg) || this.paused.has(sock)) return;
        sock.pause();
        this.paused.add(sock);
        this.stats.backpressurePauses++;
      };
      stream = framer;
      push = (chunk) => framer.push(chunk, onMessage);
    } else {
      const decoder = new StreamDecoder(new SessionDecoder({ transport: this.transport === 'tls' ? 'tls' : 'tcp', now: () => this.timers.now() }));
      const sequence = new SequenceTracker();
      const onDecoded = (m: DecodedMessage): void => this.onDecoded(info, sequence, m, sock);
      stream = decoder;
      push = (chunk) => decoder.push(chunk, onDecoded);
    }
    let reason = 'closed by exporter';
    sock.setKeepAlive(true, 60_000);
    sock.on('data', (chunk: Buffer) => {
      this.countTurnBytes(sock, chunk.length);
      if (push(chunk)) return;
      const err = stream.failed!;
      this.stats.framingErrors++;
      this.stats.countError(err.code);
      reason = `framing error ${err.code}`;
      this.log.warn({ err, exporter: info.exporterAddress, port: info.exporterPort }, 'IPFIX collector: framing lost, closing the connection');
      sock.destroy();
    });
    sock.on('end', () => {
      const err = stream.end();
      if (err && err.code === 'STREAM_TRUNCATED') {
        this.stats.countError(err.code);
        this.logError(info, err);
      }
    });
    sock.on('error', (err) => {
      reason = `socket error ${(err as NodeJS.ErrnoException).code ?? err.message}`;
      this.log.debug({ err, exporter: info.exporterAddress, port: info.exporterPort }, 'IPFIX collector: socket error');
    });
    sock.on('close', () => {
      this.streams.delete(sock);
      this.paused.delete(sock);
      this.throttled.delete(sock);
      this.closeSession(info, this.closed ? 'collector closed' : reason);
    });
  }

  /** Counts what a stream delivered this turn; past the turn's share, pauses it until the next turn. */
  private countTurnBytes(sock: net.Socket, n: number): void {
    this.turnBytes += n;
    if (!this.turnEndScheduled) {
      this.turnEndScheduled = true;
      setImmediate(() => this.endTurn());
    }
    if (this.turnBytes >= this.maxBytesPerTurn && !this.throttled.has(sock)) {
      sock.pause();
      this.throttled.add(sock);
    }
  }

  private endTurn(): void {
    this.turnEndScheduled = false;
    this.turnBytes = 0;
    if (this.throttled.size === 0) return;
    for (const s of this.throttled) if (!this.paused.has(s)) s.resume();
    this.throttled.clear();
  }

  // --- UDP ------------------------------------------------------------------------------------

  private listenUdp(address: string, port: number): Promise<net.AddressInfo> {
    const type = net.isIPv4(address) ? 'udp4' : 'udp6';
    const sock = dgram.createSocket({ type, ipv6Only: false, recvBufferSize: this.opts.recvBufferSize ?? 8 * 1024 * 1024 });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address, port }, () => {
        sock.off('error', reject);
        sock.on('error', (err) => this.log.error({ err }, 'IPFIX collector UDP socket error'));
        sock.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
        this.udp = sock;
        resolve(sock.address());
      });
    });
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const key = rinfo.address + '|' + rinfo.port;
    let s = this.udpSessions.get(key);
    const now = this.timers.now();
    if (!s) {
      s = {
        info: this.openSession(normalizeAddress(rinfo.address), rinfo.port),
        decoder: new SessionDecoder({ transport: 'udp', templateLifetimeMs: this.lifetimeMs, holdUnknownMs: this.opts.holdUnknownMs, now: () => this.timers.now() }),
        sequence: new SequenceTracker(),
        lastSeen: now,
      };
      this.udpSessions.set(key, s);
    }
    s.lastSeen = now;
    const raw = this.opts.onRawMessage;
    if (raw) raw(s.info, msg);
    else this.onDecoded(s.info, s.sequence, s.decoder.decodeMessage(msg), null);
  }

  private scheduleSweep(): void {
    const every = Math.max(1000, Math.min(60_000, this.lifetimeMs / 4));
    this.cancelSweep = this.timers.setTimeout(() => {
      this.cancelSweep = null;
      this.sweepUdpSessions();
      if (!this.closed) this.scheduleSweep();
    }, every);
  }

  /** Ends UDP sessions idle for the template lifetime; returns how many ended. */
  sweepUdpSessions(): number {
    const now = this.timers.now();
    let n = 0;
    for (const [key, s] of this.udpSessions) {
      if (now - s.lastSeen >= this.lifetimeMs) {
        this.udpSessions.delete(key);
        this.endUdpSession(s, 'idle for the template lifetime');
        n++;
      } else {
        s.decoder.expireHeld();
      }
    }
    return n;
  }

  private endUdpSession(s: UdpSession, reason: string): void {
    this.closeSession(s.info, reason);
  }

  // --- decoding and delivery ------------------------------------------------------------------

  private openSession(address: string, port: number): CollectorSessionInfo {
    const info: CollectorSessionInfo = { id: this.nextSessionId++, transport: this.transport, exporterAddress: address, exporterPort: port };
    this.stats.sessionsCurrent++;
    this.stats.sessionsTotal++;
    this.log.info({ session: info.id, exporter: address, port, transport: this.transport }, 'IPFIX collector: session opened');
    this.emit('sessionOpen', info);
    return info;
  }

  private closeSession(info: CollectorSessionInfo, reason: string): void {
    this.stats.sessionsCurrent--;
    this.log.info({ session: info.id, exporter: info.exporterAddress, port: info.exporterPort, reason }, 'IPFIX collector: session closed');
    this.emit('sessionClose', info, reason);
  }

  private onDecoded(info: CollectorSessionInfo, sequence: SequenceTracker, m: DecodedMessage, sock: net.Socket | null): void {
    const stats = this.stats;
    for (const err of m.errors) this.logError(info, err);
    const header = m.header;
    if (!countDecodedMessage(stats, sequence, m) || !header) return;
    const message: CollectedMessage = { session: info, header, records: m.records, templates: m.templates, withdrawals: m.withdrawals };
    const deliver = this.opts.onMessage;
    if (deliver) {
      deliver(message);
      return;
    }
    if (sock === null && this.queuedRecords >= this.maxQueued) {
      stats.messagesDropped++;
      stats.recordsDropped += m.records.length;
      this.dropLog.hit((n) => this.log.warn({ droppedMessages: n, totalDroppedRecords: stats.recordsDropped, queuedRecords: this.queuedRecords }, 'IPFIX collector: consumer too slow, UDP messages dropped'));
      return;
    }
    this.queue.push(message);
    this.queuedRecords += m.records.length;
    if (sock !== null && this.queuedRecords >= this.maxQueued && !this.paused.has(sock)) {
      sock.pause();
      this.paused.add(sock);
      stats.backpressurePauses++;
    }
    if (this.wake) this.wake();
  }

  private takeAll(): CollectedMessage[] {
    const batch = this.queue;
    this.queue = [];
    this.queuedRecords = 0;
    this.resumeStreams();
    return batch;
  }

  private logError(info: CollectorSessionInfo, err: Error & { code?: string; context?: object }): void {
    this.errorLog.hit((n) => this.log.warn({ code: err.code, message: err.message, context: err.context, occurrences: n, session: info.id, exporter: info.exporterAddress, port: info.exporterPort }, 'IPFIX collector: decode error'));
  }
}

/** Session of each TCP/TLS socket (kept off the socket object itself). */
const sessionOf = new WeakMap<net.Socket, CollectorSessionInfo>();
