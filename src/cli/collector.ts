/**
 * `flowvis collector`: a standalone IPFIX collector (the counterpart of go-ipfix's test collector).
 * Listens on TCP, UDP or TLS, prints every record (text blocks or JSON lines) to stdout, logs to
 * stderr, and optionally serves GET /records, POST /reset and GET /metrics over HTTP.
 *
 * Runs as a sub-command of the flowvis program (registerCollectorCommand) or on its own:
 *   tsx src/cli/collector.ts --port 4739 --proto udp --output json
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../errors.ts';
import { OUTPUT_FORMATS, startCollector, type OutputFormat, type RunningCollector } from '../collector/index.ts';
import { TRANSPORT_PROTOCOLS, type CollectorTlsOptions, type TransportProtocol } from '../transport/index.ts';
import { createLogger, integerOption, isEntryPoint, LOG_LEVELS, untilSignal } from './common.ts';

export interface CollectorCliOptions {
  address?: string;
  port: number;
  proto: TransportProtocol;
  cert?: string;
  key?: string;
  ca?: string;
  requireClientCert?: boolean;
  output: OutputFormat;
  httpPort?: number;
  httpAddress?: string;
  ringSize: number;
  decodeWorkers: number;
  logLevel: string;
}

function ipAddress(v: string): string {
  if (isIP(v) === 0) throw new InvalidArgumentError(`"${v}" is not an IPv4 or IPv6 address.`);
  return v;
}

function readPem(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError('FILE_UNREADABLE', `--${option} ${path}: ${(e as Error).message}`, { key: option, path });
  }
}

/** Checks option combinations and loads certificate files. */
export function tlsOptionsFromCli(o: CollectorCliOptions): CollectorTlsOptions | undefined {
  if (o.proto !== 'tls') {
    for (const k of ['cert', 'key', 'ca'] as const) {
      if (o[k] !== undefined) throw new ConfigError('OPTION_UNUSED', `--${k} is only used with --proto tls`, { key: k });
    }
    if (o.requireClientCert) throw new ConfigError('OPTION_UNUSED', '--require-client-cert is only used with --proto tls', { key: 'require-client-cert' });
    return undefined;
  }
  if (o.cert === undefined || o.key === undefined) {
    throw new ConfigError('TLS_CONFIG', '--proto tls needs --cert and --key (the server certificate and its private key, PEM)', { key: o.cert === undefined ? 'cert' : 'key' });
  }
  if (o.requireClientCert && o.ca === undefined) {
    throw new ConfigError('TLS_CONFIG', '--require-client-cert needs --ca (the CA that signs client certificates)', { key: 'ca' });
  }
  return {
    cert: readPem('cert', o.cert),
    key: readPem('key', o.key),
    ca: o.ca === undefined ? undefined : readPem('ca', o.ca),
    requireClientCert: o.requireClientCert ?? false,
  };
}

/** Adds the collector's options and action to `cmd`. */
export function configureCollectorCommand(cmd: Command): Command {
  return cmd
    .description('IPFIX collector: print every received flow record (text or JSON lines)')
    .option('--address <ip>', 'address to listen on (default :: with IPv4 too, or 0.0.0.0 without IPv6)', ipAddress)
    .option('--port <port>', 'port to listen on (0: any free port)', integerOption('--port', 0, 65535), 4739)
    .addOption(new Option('--proto <proto>', 'transport').choices(TRANSPORT_PROTOCOLS).default('tcp'))
    .option('--cert <file>', 'TLS: server certificate (PEM)')
    .option('--key <file>', 'TLS: server private key (PEM)')
    .option('--ca <file>', 'TLS: CA certificate that signs client certificates (PEM)')
    .option('--require-client-cert', 'TLS: require and verify client certificates (mutual TLS)')
    .addOption(new Option('--output <format>', 'how records are printed').choices(OUTPUT_FORMATS).default('text'))
    .option('--http-port <port>', 'serve GET /records, POST /reset and GET /metrics on this port', integerOption('--http-port', 0, 65535))
    .option('--http-address <ip>', 'address of the HTTP server (default: all)', ipAddress)
    .option('--ring-size <n>', 'records kept for GET /records', integerOption('--ring-size', 1, 10_000_000), 4096)
    .option('--decode-workers <n>', 'worker threads that decode and print (0: the main thread does; more keep up with higher rates, one session per thread)', integerOption('--decode-workers', 0, 64), 0)
    .addOption(new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS).default('info'))
    .action(async (opts: CollectorCliOptions, command: Command) => {
      try {
        await runCollectorCli(opts);
      } catch (e) {
        command.error(`error: ${(e as Error).message}`, { exitCode: 2 });
      }
    });
}

export function registerCollectorCommand(program: Command): Command {
  return configureCollectorCommand(program.command('collector'));
}

/** Runs until SIGINT/SIGTERM; resolves once closed. */
export async function runCollectorCli(opts: CollectorCliOptions): Promise<void> {
  const tls = tlsOptionsFromCli(opts);
  const logger = createLogger('flowvis-collector', opts.logLevel);
  const running: RunningCollector = await startCollector({
    transport: opts.proto, address: opts.address, port: opts.port, tls, output: opts.output,
    httpPort: opts.httpPort, httpAddress: opts.httpAddress, ringSize: opts.ringSize, decodeWorkers: opts.decodeWorkers, logger,
  });
  const signal = await untilSignal(logger);
  logger.info({ signal, stats: running.process.stats.snapshot() }, 'stopping IPFIX collector');
  await running.close();
}

if (isEntryPoint(import.meta)) {
  await configureCollectorCommand(new Command('flowvis-collector')).parseAsync(process.argv);
}
