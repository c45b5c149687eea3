/**
 * antrea-agent.conf: the parts the flow exporter reads.
 *
 * Upstream keys (Antrea v2.3): featureGates.FlowExporter, flowExporter.{enable, flowCollectorAddr,
 * flowPollInterval, activeFlowExportTimeout, idleFlowExportTimeout} and the deprecated pre-v1.13
 * top-level flowCollectorAddr / flowPollInterval / activeFlowExportTimeout / idleFlowExportTimeout.
 * Our additions: flowExporter.{conntrackZone, nflog, tls, maxConnections}. Every other key of
 * the (large) file is ignored; unknown keys inside flowExporter are reported as warnings.
 */
import { z } from 'zod';
import { AGENT_ADDRESS_OPTIONS, parseAgentCollectorAddress, tryParseCollectorAddress } from './address.ts';
import type { CollectorAddress } from './address.ts';
import { formatDuration } from './duration.ts';
import { addIssue, bool, checkedStr, int, optionalDuration, optionalStr, section } from './fields.ts';
import { DEFAULT_NFLOG_PREFIX_FORMAT, compileNflogPrefixFormat } from './nflog-prefix.ts';
import type { ConfigPath } from './problems.ts';
import { describeValue } from './problems.ts';
import { collectWarnings, runSchema, switchOn, throwIfErrors, warnDuplicateKeys } from './validate.ts';
import type { ConfigResult, ParseOptions } from './validate.ts';
import { parseYamlSource } from './yaml-source.ts';

export const AGENT_DEFAULTS = {
  flowCollectorAddr: 'flow-aggregator/flow-aggregator:4739:tls',
  flowPollInterval: '5s',
  activeFlowExportTimeout: '5s',
  idleFlowExportTimeout: '15s',
  /** Connections are dropped from the store when not exported for this long (unless timeouts are longer). */
  staleConnectionTimeoutMs: 5 * 60_000,
  minFlowPollIntervalMs: 1_000,
  nflogGroup: 100,
  maxConnections: 1_000_000,
} as const;

const DEFAULT_COLLECTOR = parseAgentCollectorAddress(AGENT_DEFAULTS.flowCollectorAddr);

const DEPRECATED_KEYS = ['flowCollectorAddr', 'flowPollInterval', 'activeFlowExportTimeout', 'idleFlowExportTimeout'] as const;
type DeprecatedKey = (typeof DEPRECATED_KEYS)[number];

export interface AgentTlsConfig {
  /** PEM file of the CA that signed the collector's certificate (else: the flow-aggregator-ca ConfigMap for a Service, or system CAs). */
  readonly caFile?: string;
  /** PEM client certificate for mutual TLS (with keyFile). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Name checked against the server certificate (default: `<name>.<namespace>.svc` for a Service, else the host). */
  readonly serverName?: string;
  readonly insecureSkipVerify: boolean;
}

export interface AgentNflogConfig {
  readonly enable: boolean;
  readonly group: number;
  readonly prefixFormat: string;
}

export interface FlowExporterConfig {
  /** Flow export runs: featureGates.FlowExporter and flowExporter.enable are both true. */
  readonly enabled: boolean;
  /** flowExporter.enable as written. */
  readonly enable: boolean;
  /** Effective collector address text (flowExporter.flowCollectorAddr, else the deprecated key, else the default). */
  readonly flowCollectorAddr: string;
  readonly flowCollector: CollectorAddress;
  /** Milliseconds, ≥ 1000. */
  readonly flowPollInterval: number;
  /** Milliseconds, ≥ flowPollInterval. */
  readonly activeFlowExportTimeout: number;
  /** Milliseconds, ≥ flowPollInterval. */
  readonly idleFlowExportTimeout: number;
  /** Derived: 5 min, or 2 × max(active, idle) when either timeout exceeds 5 min. Milliseconds. */
  readonly staleConnectionTimeout: number;
  /** conntrack zones to export (empty: every zone). */
  readonly conntrackZones: readonly number[];
  readonly nflog: AgentNflogConfig;
  readonly tls: AgentTlsConfig;
  /** Upper bound of the connection store; new connections beyond it are dropped and counted. */
  readonly maxConnections: number;
}

export interface AgentConfig {
  readonly featureGates: { readonly FlowExporter: boolean };
  readonly flowExporter: FlowExporterConfig;
}

const collectorAddress = () =>
  checkedStr('ADDRESS_INVALID', 'collector address', (text) => {
    const r = tryParseCollectorAddress(text, AGENT_ADDRESS_OPTIONS);
    return r.ok ? { ok: true, value: r.address } : r;
  });

const conntrackZones = () =>
  z.any().transform((v, ctx): number[] => {
    if (v === undefined || v === null || v === '') return [];
    const items: unknown[] = Array.isArray(v) ? v : [v];
    const zones: number[] = [];
    for (const item of items) {
      if (typeof item !== 'number' || !Number.isInteger(item) || item < 0 || item > 65535) {
        const message = `${describeValue(item)} is not a conntrack zone (expected an integer 0..65535, or a list of them)`;
        return addIssue(ctx, 'VALUE_OUT_OF_RANGE', message, item);
      }
      if (!zones.includes(item)) zones.push(item);
    }
    return zones;
  });

const nflogPrefixFormat = () =>
  checkedStr('NFLOG_PREFIX_INVALID', 'NFLOG prefix format', (text) => {
    const r = compileNflogPrefixFormat(text);
    return r.ok ? { ok: true, value: text } : r;
  });

const agentSchema = z.object({
  featureGates: z.preprocess((v) => v ?? {}, z.object({ FlowExporter: bool(false) }).passthrough()),
  flowCollectorAddr: collectorAddress(),
  flowPollInterval: optionalDuration(),
  activeFlowExportTimeout: optionalDuration(),
  idleFlowExportTimeout: optionalDuration(),
  flowExporter: section({
    enable: bool(false),
    flowCollectorAddr: collectorAddress(),
    flowPollInterval: optionalDuration(),
    activeFlowExportTimeout: optionalDuration(),
    idleFlowExportTimeout: optionalDuration(),
    conntrackZone: conntrackZones(),
    nflog: section({
      enable: bool(false),
      group: int(AGENT_DEFAULTS.nflogGroup, { min: 0, max: 65535 }),
      prefixFormat: nflogPrefixFormat(),
    }),
    tls: section({
      caFile: optionalStr(),
      certFile: optionalStr(),
      keyFile: optionalStr(),
      serverName: optionalStr(),
      insecureSkipVerify: bool(false),
    }),
    maxConnections: int(AGENT_DEFAULTS.maxConnections, { min: 1, max: 100_000_000 }),
  }),
});

function exportEnabled(raw: unknown): boolean {
  return switchOn(raw, ['featureGates', 'FlowExporter'], false) && switchOn(raw, ['flowExporter', 'enable'], false);
}

function isFlowExportKey(path: ConfigPath): boolean {
  const [head] = path;
  return (
    head === 'flowExporter' ||
    (head === 'featureGates' && path[1] === 'FlowExporter') ||
    DEPRECATED_KEYS.includes(head as DeprecatedKey)
  );
}

/** Parses the text of antrea-agent.conf. Throws one ConfigError listing every problem. */
export function parseAgentConfig(text: string, options: ParseOptions = {}): ConfigResult<AgentConfig> {
  const source = options.source ?? 'antrea-agent.conf';
  const yaml = parseYamlSource(text, source);
  const { value: parsed, problems } = runSchema(agentSchema, yaml, {
    source,
    isFatal: (path, raw) => {
      const [head, sub] = path;
      const gated = (head === 'flowExporter' && path.length > 1 && sub !== 'enable') || DEPRECATED_KEYS.includes(head as DeprecatedKey);
      return !gated || exportEnabled(raw);
    },
  });
  warnDuplicateKeys(yaml, problems, isFlowExportKey);

  const fe = parsed.flowExporter;
  const gate = parsed.featureGates.FlowExporter;
  const enabled = gate && fe.enable;
  if (fe.enable && !gate) {
    problems.warn(
      ['flowExporter', 'enable'],
      'FEATURE_GATE_DISABLED',
      'true, but featureGates.FlowExporter is not enabled, so flow export stays disabled',
    );
  }

  // Deprecated pre-v1.13 top-level keys: used only when the flowExporter key is unset.
  const pick = <K extends DeprecatedKey>(key: K) => {
    const current = fe[key];
    const old = parsed[key];
    if (old !== undefined) {
      problems.warn(
        [key],
        'DEPRECATED_KEY',
        current !== undefined
          ? `deprecated key, ignored because flowExporter.${key} is set`
          : `deprecated key, use flowExporter.${key} instead`,
      );
    }
    if (current !== undefined) return { value: current, path: ['flowExporter', key] as ConfigPath };
    if (old !== undefined) return { value: old, path: [key] as ConfigPath };
    return { value: undefined, path: ['flowExporter', key] as ConfigPath };
  };

  const addr = pick('flowCollectorAddr');
  const flowCollector = addr.value?.value ?? DEFAULT_COLLECTOR;
  const flowCollectorAddr = addr.value?.text ?? AGENT_DEFAULTS.flowCollectorAddr;

  const poll = pick('flowPollInterval');
  let flowPollInterval = poll.value?.ms ?? 5_000;
  if (flowPollInterval < AGENT_DEFAULTS.minFlowPollIntervalMs) {
    problems.report(
      enabled,
      poll.path,
      'DURATION_TOO_SMALL',
      `${describeValue(poll.value?.text)} is below the minimum of 1s`,
      poll.value?.text,
    );
    flowPollInterval = 5_000;
  }

  const clampToPoll = (key: 'activeFlowExportTimeout' | 'idleFlowExportTimeout', defMs: number): number => {
    const chosen = pick(key);
    const ms = chosen.value?.ms ?? defMs;
    if (ms >= flowPollInterval) return ms;
    const poll = formatDuration(flowPollInterval, { style: 'compact' });
    if (enabled) {
      problems.warn(
        chosen.path,
        'DURATION_CLAMPED',
        `${describeValue(chosen.value?.text ?? formatDuration(ms, { style: 'compact' }))} is below flowPollInterval (${poll}); using ${poll}`,
        chosen.value?.text,
      );
    }
    return flowPollInterval;
  };
  const activeFlowExportTimeout = clampToPoll('activeFlowExportTimeout', 5_000);
  const idleFlowExportTimeout = clampToPoll('idleFlowExportTimeout', 15_000);
  const stale = AGENT_DEFAULTS.staleConnectionTimeoutMs;
  const staleConnectionTimeout =
    activeFlowExportTimeout > stale || idleFlowExportTimeout > stale
      ? 2 * Math.max(activeFlowExportTimeout, idleFlowExportTimeout)
      : stale;

  const tls = fe.tls;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    const missing = tls.certFile === undefined ? 'certFile' : 'keyFile';
    problems.report(enabled, ['flowExporter', 'tls', missing], 'REQUIRED', 'certFile and keyFile must be given together');
  }
  const tlsKeysSet = Object.entries(tls).some(([k, v]) => (k === 'insecureSkipVerify' ? v === true : v !== undefined));
  if (enabled && tlsKeysSet && flowCollector.proto !== 'tls') {
    problems.warn(
      ['flowExporter', 'tls'],
      'IGNORED',
      `ignored because the collector protocol is ${flowCollector.proto} (use "<host>:<port>:tls")`,
    );
  }

  throwIfErrors(problems, source);
  const config: AgentConfig = {
    featureGates: { FlowExporter: gate },
    flowExporter: {
      enabled,
      enable: fe.enable,
      flowCollectorAddr,
      flowCollector,
      flowPollInterval,
      activeFlowExportTimeout,
      idleFlowExportTimeout,
      staleConnectionTimeout,
      conntrackZones: fe.conntrackZone,
      nflog: {
        enable: fe.nflog.enable,
        group: fe.nflog.group,
        prefixFormat: fe.nflog.prefixFormat?.value ?? DEFAULT_NFLOG_PREFIX_FORMAT,
      },
      tls: dropUndefined({ ...tls }) as AgentTlsConfig,
      maxConnections: fe.maxConnections,
    },
  };
  return { config, warnings: collectWarnings(problems) };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
