/** Small helpers shared by the flowvis sub-commands. */
import { createServer, type Server } from 'node:http';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** JSON logs on stderr (stdout is kept for command output). */
export function createLogger(name: string, level: string): Logger {
  return pino({ name, level }, pino.destination({ dest: 2, sync: true }));
}

export function integerOption(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}, got "${v}".`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be in ${min}..${max}, got ${n}.`);
    return n;
  };
}

/** Serves GET /metrics (Prometheus text) and GET /healthz. */
export function serveMetrics(registry: Registry, port: number, address = '0.0.0.0'): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      }, (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    } else if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: GET /metrics or /healthz\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  });
}

/** Resolves when SIGINT or SIGTERM arrives; a second signal exits at once. */
export function untilSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const on = (signal: NodeJS.Signals): void => {
      if (received) {
        log.warn({ signal }, 'second signal, exiting now');
        process.exit(1);
      }
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** True when `meta` is the module node was started with. */
export function isEntryPoint(meta: ImportMeta): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}
