/**
 * `flowvis get`: reads a running flow aggregator's API (antctl get flowrecords / recordmetrics).
 *
 *   flowvis get flowrecords [--srcip IP] [--dstip IP] [--proto P] [--srcport N] [--dstport N] [--limit N] [-o table|json|yaml]
 *   flowvis get recordmetrics [-o table|json|yaml]
 *   flowvis get flows|toptalkers|throughput|servicemap|policyhits [filters] ...   (get-flows.ts: the flow store's query layer)
 *   common: --server https://host:10348 --token-file FILE (--ca-file FILE | --insecure-skip-tls-verify) --timeout SECONDS
 *
 * Tables are laid out as antctl lays them out (columns padded, empty cells "<NONE>"); JSON and YAML
 * keep 64-bit counters exact. Runs as a sub-command of flowvis or on its own:
 *   tsx src/cli/get.ts flowrecords -o json
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import {
  ApiClient, DEFAULT_API_PORT, formatJson, MAX_FLOW_RECORDS_LIMIT, PROTOCOL_NUMBERS, readTokenFile, type FlowRecordJson,
} from '../aggregator/api/index.ts';
import { defaultPkiDir, defaultTokenFile } from '../aggregator/certs/index.ts';
import { ConfigError, FlowvisError } from '../errors.ts';
import { integerOption, isEntryPoint } from './common.ts';
import { registerFlowQueryCommands } from './get-flows.ts';

export const DEFAULT_SERVER = `https://127.0.0.1:${DEFAULT_API_PORT}`;
export const FLOW_RECORDS_COLUMNS = ['SRC_IP', 'DST_IP', 'SPORT', 'DPORT', 'PROTO', 'SRC_POD', 'DST_POD', 'SRC_NS', 'DST_NS', 'SERVICE'] as const;
export const RECORD_METRICS_COLUMNS = [
  'RECORDS-EXPORTED', 'RECORDS-RECEIVED', 'RECORDS-DROPPED', 'FLOWS', 'EXPORTERS-CONNECTED', 'CLICKHOUSE-EXPORTER', 'S3-EXPORTER', 'LOG-EXPORTER', 'IPFIX-EXPORTER',
] as const;
const RECORD_METRICS_FIELDS = [
  'numRecordsExported', 'numRecordsReceived', 'numRecordsDropped', 'numFlows', 'numConnToCollector',
  'withClickHouseExporter', 'withS3Exporter', 'withLogExporter', 'withIPFIXExporter',
] as const;
export const GET_OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type GetOutputFormat = (typeof GET_OUTPUT_FORMATS)[number];

/** Where output goes (tests capture it) and how the exit status is set. */
export interface GetIo {
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
}

const processIo: GetIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  setExitCode: (c) => {
    process.exitCode = c;
  },
};

interface ConnectionOptions {
  server: string;
  tokenFile: string;
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
  timeout: number;
}

interface FlowRecordsOptions {
  srcip?: string;
  dstip?: string;
  proto?: string;
  srcport?: number;
  dstport?: number;
  limit?: number;
  output: GetOutputFormat;
}

/** antctl's table layout: each column as wide as its widest cell, one space apart; empty cells "<NONE>". */
export function formatTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  if (body.length === 0) return '\n';
  const rows = [header, ...body.map((r) => r.map((c) => (c === '' ? '<NONE>' : c)))];
  const widths = header.map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows.map((r) => r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]))).join(' ').trimEnd() + '\n').join('');
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

export function flowRecordRow(r: FlowRecordJson): string[] {
  const v6 = r.sourceIPv4Address === undefined;
  return [
    text(v6 ? r.sourceIPv6Address : r.sourceIPv4Address), text(v6 ? r.destinationIPv6Address : r.destinationIPv4Address),
    text(r.sourceTransportPort), text(r.destinationTransportPort), text(r.protocolIdentifier),
    text(r.sourcePodName), text(r.destinationPodName), text(r.sourcePodNamespace), text(r.destinationPodNamespace), text(r.destinationServicePortName),
  ];
}

function render(value: unknown, format: GetOutputFormat, table: () => string): string {
  if (format === 'json') return formatJson(value) + '\n';
  if (format === 'yaml') return toYaml(value);
  return table();
}

function ipOption(name: string): (v: string) => string {
  return (v) => {
    if (isIP(v) === 0) throw new InvalidArgumentError(`${name} must be an IPv4 or IPv6 address, got "${v}".`);
    return v;
  };
}

function protoOption(v: string): string {
  if (/^\d+$/.test(v) ? Number(v) <= 255 : PROTOCOL_NUMBERS[v.toLowerCase()] !== undefined) return v;
  throw new InvalidArgumentError(`--proto must be a protocol number 0..255 or one of ${Object.keys(PROTOCOL_NUMBERS).join(', ')}, got "${v}".`);
}

async function connect(o: ConnectionOptions): Promise<ApiClient> {
  let ca: Buffer | undefined;
  const defaultCa = join(defaultPkiDir(), 'ca.crt');
  const caFile = o.caFile ?? (existsSync(defaultCa) ? defaultCa : undefined);
  if (caFile !== undefined && !o.insecureSkipTlsVerify) {
    try {
      ca = await readFile(caFile);
    } catch (e) {
      throw new ConfigError('FILE_UNREADABLE', `--ca-file ${caFile}: ${(e as Error).message}`, { key: 'ca-file', path: caFile });
    }
  }
  const token = await readTokenFile(o.tokenFile);
  return new ApiClient({ server: o.server, token, ca, insecureSkipTlsVerify: o.insecureSkipTlsVerify, timeoutMs: o.timeout * 1000 });
}

/** The error message with a hint of what to do about it. */
export function explain(e: unknown, o: ConnectionOptions): string {
  if (!(e instanceof FlowvisError)) return `error: ${(e as Error).message ?? String(e)}`;
  const hints: Record<string, string> = {
    TOKEN_FILE: `pass --token-file with the aggregator's apiServer.tokenFile (default ${defaultTokenFile()})`,
    UNAUTHORIZED: `the token in ${o.tokenFile} was refused: use the aggregator's current apiServer.tokenFile (--token-file)`,
    TLS_VERIFY: `pass --ca-file with the aggregator's CA (ca.crt in its PKI directory, default ${defaultPkiDir()}/ca.crt, or ConfigMap flow-aggregator-ca), or --insecure-skip-tls-verify`,
    TLS_FAILED: 'check the aggregator\'s apiServer.tlsMinVersion and tlsCipherSuites',
  };
  const hint = hints[e.code];
  return `error: ${e.message}${hint ? `\nhint: ${hint}` : ''}`;
}

async function run(io: GetIo, o: ConnectionOptions, work: (client: ApiClient) => Promise<string>): Promise<void> {
  try {
    io.out(await work(await connect(o)));
  } catch (e) {
    io.err(explain(e, o) + '\n');
    io.setExitCode(1);
  }
}

/** Adds `get flowrecords`, `get recordmetrics` and the flow-store queries (get-flows.ts) to `program`. */
export function registerGetCommand(program: Command, io: GetIo = processIo, now: () => number = Date.now): Command {
  const get = program.command('get')
    .description('Read flow records, record metrics and the flow store (flows, top talkers, throughput, service map, policy hits) from a running flow aggregator')
    .option('--server <url>', 'the aggregator\'s API server', DEFAULT_SERVER)
    .option('--token-file <file>', 'file holding the API bearer token (the aggregator\'s apiServer.tokenFile)', defaultTokenFile())
    .option('--ca-file <file>', `CA certificate that signed the API server's certificate (default ${defaultPkiDir()}/ca.crt when present, else the system CAs)`)
    .option('--insecure-skip-tls-verify', 'do not verify the API server\'s certificate')
    .option('--timeout <seconds>', 'request timeout', integerOption('--timeout', 1, 3600), 30);

  get.command('flowrecords')
    .description('Aggregated flow records in the aggregator\'s memory (a full 5-tuple is a direct lookup)')
    .option('--srcip <ip>', 'source IP address', ipOption('--srcip'))
    .option('--dstip <ip>', 'destination IP address', ipOption('--dstip'))
    .option('--proto <protocol>', 'protocol number or name (tcp, udp, sctp, icmp, icmpv6)', protoOption)
    .option('--srcport <port>', 'source port', integerOption('--srcport', 0, 65535))
    .option('--dstport <port>', 'destination port', integerOption('--dstport', 0, 65535))
    .option('--limit <n>', `at most this many records (server default 1000, at most ${MAX_FLOW_RECORDS_LIMIT})`, integerOption('--limit', 1, MAX_FLOW_RECORDS_LIMIT))
    .addOption(new Option('-o, --output <format>', 'output format').choices(GET_OUTPUT_FORMATS).default('table'))
    .action(async (opts: FlowRecordsOptions, cmd: Command) => {
      const conn = cmd.optsWithGlobals<ConnectionOptions & FlowRecordsOptions>();
      await run(io, conn, async (client) => {
        const { flowRecords, truncated } = await client.flowRecords(opts);
        if (truncated) io.err(`warning: only the first ${flowRecords.length} flow records are shown; narrow the filters or raise --limit\n`);
        return render(flowRecords, opts.output, () => formatTable(FLOW_RECORDS_COLUMNS, flowRecords.map(flowRecordRow)));
      });
    });

  get.command('recordmetrics')
    .description('Record counters of the aggregator and which exporters are enabled')
    .addOption(new Option('-o, --output <format>', 'output format').choices(GET_OUTPUT_FORMATS).default('table'))
    .action(async (opts: { output: GetOutputFormat }, cmd: Command) => {
      const conn = cmd.optsWithGlobals<ConnectionOptions>();
      await run(io, conn, async (client) => {
        const m = await client.recordMetrics();
        return render(m, opts.output, () => formatTable(RECORD_METRICS_COLUMNS, [RECORD_METRICS_FIELDS.map((k) => text(m[k] ?? (k.startsWith('with') ? false : 0)))]));
      });
    });

  registerFlowQueryCommands(get, {
    run: (cmd, work) => run(io, cmd.optsWithGlobals<ConnectionOptions>(), work),
    warn: (t) => io.err(t),
    render,
    formatTable,
    now,
  });
  return get;
}

if (isEntryPoint(import.meta)) {
  const program = new Command('flowvis').showHelpAfterError();
  registerGetCommand(program);
  await program.parseAsync(['get', ...process.argv.slice(2)], { from: 'user' });
}
