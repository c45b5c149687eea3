/**
 * A minimal raw watch client for tests: opens `GET ...?watch=true` and yields the newline-delimited
 * JSON events one by one, exactly as they arrive on the wire.
 */
import { request, type IncomingMessage } from 'node:http';

export interface WatchEvent {
  type: string;
  object: { kind?: string; metadata: { name?: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> }; code?: number; reason?: string; [k: string]: unknown };
}

export interface RawWatch {
  readonly response: IncomingMessage;
  /** The next event; rejects after timeoutMs, or when the stream ended first. */
  next(timeoutMs?: number): Promise<WatchEvent>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export function openWatch(url: string): Promise<RawWatch> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: { Accept: 'application/json' } }, (res) => {
      const queue: WatchEvent[] = [];
      const waiters: ((e: WatchEvent | undefined) => void)[] = [];
      let buf = '';
      let done = false;
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim() === '') continue;
          const ev = JSON.parse(line) as WatchEvent;
          const w = waiters.shift();
          if (w !== undefined) w(ev);
          else queue.push(ev);
        }
      });
      const finish = (): void => {
        if (done) return;
        done = true;
        for (const w of waiters.splice(0)) w(undefined);
        endedResolve();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      resolve({
        response: res,
        ended,
        next: (timeoutMs = 2000) =>
          new Promise<WatchEvent>((res2, rej2) => {
            const queued = queue.shift();
            if (queued !== undefined) return res2(queued);
            if (done) return rej2(new Error('watch stream ended'));
            const timer = setTimeout(() => {
              const i = waiters.indexOf(waiter);
              if (i >= 0) waiters.splice(i, 1);
              rej2(new Error(`no watch event within ${timeoutMs} ms`));
            }, timeoutMs);
            const waiter = (e: WatchEvent | undefined): void => {
              clearTimeout(timer);
              if (e === undefined) rej2(new Error('watch stream ended'));
              else res2(e);
            };
            waiters.push(waiter);
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
