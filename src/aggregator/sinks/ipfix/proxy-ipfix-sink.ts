/**
 * The IPFIX sink of Proxy mode: every record an agent sent, completed by the proxy process, goes
 * out at once in the 49-element proxy template (IPv4 ID 256, IPv6 ID 257, both announced on every
 * connection). Same endpoint, TLS, observation domain, message size and template refresh as the
 * aggregate-mode IPFIX sink; messages leave when full or after 1 s (the exporting process's flush
 * interval, upstream's proxy flush). While the collector is away, records wait in the exporting
 * process's bounded queue, which drops the oldest (counted).
 */
import { IpfixError } from '../../../errors.ts';
import { proxyTemplate, type IpFamily, type Template } from '../../../ipfix/index.ts';
import type { ExportingProcess } from '../../../transport/index.ts';
import type { ProxiedRecord } from '../../service/proxy-process.ts';
import type { SinkStats } from '../sink.ts';
import { sinkExportingProcess, type IpfixSinkOptions } from './ipfix-sink.ts';

export class ProxyIpfixSink {
  readonly name = 'ipfix';
  readonly exporter: ExportingProcess;
  private readonly templates: Readonly<Record<IpFamily, Template>> = { 4: proxyTemplate(4), 6: proxyTemplate(6) };
  private failures = 0;
  private ownInvalid = 0;
  private lastError: string | undefined;

  constructor(options: IpfixSinkOptions) {
    this.exporter = sinkExportingProcess(options, [this.templates[4], this.templates[6]]);
    const failed = (e: Error | undefined): void => {
      this.failures++;
      this.lastError = e?.message ?? 'connection to the collector lost';
    };
    this.exporter.on('connectFailed', failed);
    this.exporter.on('disconnect', failed);
    this.exporter.start();
  }

  offer(record: ProxiedRecord): void {
    try {
      this.exporter.addRecord(this.templates[record.family], record.values);
    } catch (e) {
      // IpfixErrors are counted by the exporting process (recordsInvalid); anything else here.
      if (!(e instanceof IpfixError)) this.ownInvalid++;
      this.lastError = e instanceof Error ? e.message : String(e);
    }
  }

  stats(): SinkStats {
    const ep = this.exporter.stats;
    const invalid = ep.recordsInvalid + this.ownInvalid;
    return {
      queued: this.exporter.queueDepth,
      sent: ep.recordsSent,
      dropped: ep.recordsDropped + invalid,
      failures: this.failures + invalid + ep.sendErrors,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  flush(): void {
    this.exporter.flush();
  }

  /** Sends what is waiting (while connected) and closes the connection. */
  close(): Promise<void> {
    return this.exporter.close();
  }
}
