/**
 * flow-aggregator.conf: every key of Antrea v2.3's file (plus clusterID from v2.4 and the
 * flowCollector.tls block of later versions), with upstream defaults and validation, and our
 * additions: embeddedStore, ipfixCollector, apiServer.tokenFile/certDir, more flowCollector.tls
 * options and "tls" as a flowCollector.address protocol. See docs/configuration.md.
 *
 * The zod schema checks each key on its own; parseAggregatorConfig() then applies the checks
 * that involve several keys (required keys, Proxy mode, TLS options) and derived defaults.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { AGGREGATOR_ADDRESS_OPTIONS, tryParseCollectorAddress, validateHostName } from './address.ts';
import type { CollectorProto } from './address.ts';
import {
  AGGREGATOR_DEFAULTS,
  AGGREGATOR_MODES,
  AGGREGATOR_TRANSPORT_PROTOCOLS,
  NETWORK_POLICY_RULE_ACTIONS,
} from './aggregator-types.ts';
import type { AggregatorConfig } from './aggregator-types.ts';
import { parseClickHouseUrl } from './clickhouse-url.ts';
import type { ClickHouseEndpoint } from './clickhouse-url.ts';
import { formatDuration } from './duration.ts';
import {
  addIssue,
  bool,
  checkedStr,
  duration,
  enumItem,
  int,
  list,
  oneOf,
  optionalBool,
  optionalInt,
  optionalOneOf,
  optionalStr,
  section,
  str,
} from './fields.ts';
import type { ConfigPath } from './problems.ts';
import { describeValue } from './problems.ts';
import { MODERN_TLS_VERSIONS, TLS_VERSIONS, parseCipherSuiteList } from './tls-options.ts';
import { collectWarnings, runSchema, switchOn, throwIfErrors, valueAt, warnDuplicateKeys } from './validate.ts';
import type { ConfigResult, ParseOptions } from './validate.ts';
import { parseYamlSource } from './yaml-source.ts';

/** Keys of later Antrea versions that this implementation reads but does not support. */
const LATER_UPSTREAM_KEYS: Readonly<Record<string, string>> = {
  recordBufferSize: 'an Antrea v2.7+ key',
  flowStreamService: 'an Antrea v2.8+ key',
  'flowCollector.includeK8sNames': 'an Antrea v2.4+ key',
  'flowCollector.includeK8sUIDs': 'an Antrea v2.4+ key',
};

const DEFAULT_CLICKHOUSE_ENDPOINT: ClickHouseEndpoint = (() => {
  const r = parseClickHouseUrl(AGGREGATOR_DEFAULTS.clickHouseDatabaseURL);
  if (!r.ok) throw new ConfigError('INTERNAL', `built-in ClickHouse URL is invalid: ${r.reason}`);
  return r.value;
})();

const GATED_SECTIONS = ['flowCollector', 'clickHouse', 's3Uploader', 'flowLogger', 'embeddedStore'] as const;

const collectorAddress = () =>
  checkedStr('ADDRESS_INVALID', 'collector address', (text) => {
    const r = tryParseCollectorAddress(text, AGGREGATOR_ADDRESS_OPTIONS);
    return r.ok ? { ok: true, value: r.address } : r;
  });

const ipfixMsgSize = () =>
  z.any().transform((v, ctx): number => {
    if (v === undefined || v === null || v === 0) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      return addIssue(ctx, 'TYPE_MISMATCH', `expected an integer, got ${describeValue(v)}`, v);
    }
    const { minIPFIXMsgSize: min, maxIPFIXMsgSize: max } = AGGREGATOR_DEFAULTS;
    if (v < 0) return addIssue(ctx, 'VALUE_TOO_SMALL', `${v} cannot be negative (0 selects a size automatically)`, v);
    if (v < min || v > max) {
      return addIssue(ctx, 'VALUE_OUT_OF_RANGE', `${v} is outside ${min}..${max} (0 selects a size automatically)`, v);
    }
    return v;
  });

const cipherSuites = () =>
  checkedStr('CIPHER_SUITE_INVALID', 'cipher suite list', (text) => {
    const r = parseCipherSuiteList(text);
    return r.ok ? { ok: true, value: r.suites } : r;
  });

const hostName = () =>
  checkedStr('HOST_INVALID', 'DNS name or IP address', (text) => {
    if (isIP(text) !== 0) return { ok: true, value: text };
    const kind = validateHostName(text);
    return kind === 'dns' ? { ok: true, value: text } : { ok: false, reason: kind === 'ipv4' ? 'invalid host' : kind };
  });

const listenAddress = () =>
  checkedStr('ADDRESS_INVALID', 'listen address', (text) =>
    isIP(text) !== 0 ? { ok: true, value: text } : { ok: false, reason: 'expected an IPv4 or IPv6 address such as "0.0.0.0" or "::"' },
  );

const clickHouseUrl = () => checkedStr('DATABASE_URL_INVALID', 'ClickHouse database URL', parseClickHouseUrl);

const aggregatorSchema = z
  .object({
    mode: oneOf(AGGREGATOR_MODES, AGGREGATOR_DEFAULTS.mode),
    flowAggregatorAddress: hostName(),
    activeFlowRecordTimeout: duration(AGGREGATOR_DEFAULTS.activeFlowRecordTimeout),
    inactiveFlowRecordTimeout: duration(AGGREGATOR_DEFAULTS.inactiveFlowRecordTimeout),
    aggregatorTransportProtocol: oneOf(AGGREGATOR_TRANSPORT_PROTOCOLS, AGGREGATOR_DEFAULTS.aggregatorTransportProtocol, {
      caseInsensitive: true,
    }),
    recordContents: section({ podLabels: bool(false) }),
    apiServer: section({
      apiPort: int(AGGREGATOR_DEFAULTS.apiPort, { min: 0, max: 65535, zeroIsDefault: true }),
      tlsCipherSuites: cipherSuites(),
      tlsMinVersion: optionalOneOf(TLS_VERSIONS),
      tokenFile: str(''),
      certDir: str(''),
    }),
    clusterID: str(''),
    flowCollector: section({
      enable: bool(false),
      address: collectorAddress(),
      observationDomainID: optionalInt({ min: 0, max: 0xffff_ffff }),
      recordFormat: oneOf(['IPFIX', 'JSON'], 'IPFIX'),
      templateRefreshTimeout: duration(AGGREGATOR_DEFAULTS.templateRefreshTimeout),
      maxIPFIXMsgSize: ipfixMsgSize(),
      tls: section({
        enable: bool(false),
        caFile: optionalStr(),
        caSecretName: optionalStr(),
        certFile: optionalStr(),
        keyFile: optionalStr(),
        clientSecretName: optionalStr(),
        serverName: optionalStr(),
        minVersion: oneOf(MODERN_TLS_VERSIONS, 'VersionTLS12'),
        insecureSkipVerify: bool(false),
      }),
    }),
    clickHouse: section({
      enable: bool(false),
      database: str(AGGREGATOR_DEFAULTS.clickHouseDatabase),
      databaseURL: clickHouseUrl(),
      debug: bool(false),
      compress: bool(true),
      commitInterval: duration(AGGREGATOR_DEFAULTS.clickHouseCommitInterval, { minMs: 1_000 }),
      tls: section({ insecureSkipVerify: bool(false), caCert: bool(false) }),
    }),
    s3Uploader: section({
      enable: bool(false),
      bucketName: str(''),
      bucketPrefix: str(''),
      region: optionalStr(),
      recordFormat: oneOf(['CSV'], 'CSV'),
      compress: bool(true),
      maxRecordsPerFile: int(AGGREGATOR_DEFAULTS.s3MaxRecordsPerFile, { min: 0, max: 2_147_483_647, zeroIsDefault: true }),
      uploadInterval: duration(AGGREGATOR_DEFAULTS.s3UploadInterval, { minMs: 1_000 }),
    }),
    flowLogger: section({
      enable: bool(false),
      path: str(AGGREGATOR_DEFAULTS.loggerPath),
      maxSize: int(AGGREGATOR_DEFAULTS.loggerMaxSize, { min: 0, max: 2_147_483_647, zeroIsDefault: true, unit: 'MB' }),
      maxBackups: int(AGGREGATOR_DEFAULTS.loggerMaxBackups, { min: 0, max: 2_147_483_647, zeroIsDefault: true }),
      maxAge: int(0, { min: 0, max: 2_147_483_647, unit: 'days' }),
      compress: bool(true),
      recordFormat: oneOf(['CSV'], 'CSV'),
      filters: list(
        section({
          ingressNetworkPolicyRuleActions: list(enumItem(NETWORK_POLICY_RULE_ACTIONS)),
          egressNetworkPolicyRuleActions: list(enumItem(NETWORK_POLICY_RULE_ACTIONS)),
        }),
      ),
      prettyPrint: bool(true),
    }),
    embeddedStore: section({
      enable: optionalBool(),
      path: str(''),
      retention: duration(AGGREGATOR_DEFAULTS.embeddedStoreRetention, { minMs: 60_000 }),
    }),
    ipfixCollector: section({
      address: listenAddress(),
      port: int(AGGREGATOR_DEFAULTS.ipfixCollectorPort, { min: 1, max: 65535 }),
    }),
  })
  .strict();

function sectionEnabled(raw: unknown, name: (typeof GATED_SECTIONS)[number]): boolean {
  if (name === 'embeddedStore') {
    const byDefault = !switchOn(raw, ['clickHouse', 'enable'], false) && valueAt(raw, ['mode']) !== 'Proxy';
    return switchOn(raw, ['embeddedStore', 'enable'], byDefault);
  }
  return switchOn(raw, [name, 'enable'], false);
}

/** Parses the text of flow-aggregator.conf. Throws one ConfigError listing every problem. */
export function parseAggregatorConfig(text: string, options: ParseOptions = {}): ConfigResult<AggregatorConfig> {
  const source = options.source ?? 'flow-aggregator.conf';
  const yaml = parseYamlSource(text, source);
  const { value: c, problems } = runSchema(aggregatorSchema, yaml, {
    source,
    isFatal: (path, raw) => {
      const [head, sub] = path;
      const gated = GATED_SECTIONS.find((s) => s === head);
      return gated === undefined || path.length < 2 || sub === 'enable' || sectionEnabled(raw, gated);
    },
    describeUnknownKey: (path) => {
      const later = LATER_UPSTREAM_KEYS[path.join('.')];
      return later ? `${later}, not supported by this implementation` : undefined;
    },
  });
  warnDuplicateKeys(yaml, problems, () => true);

  const roundUp = (key: 'activeFlowRecordTimeout' | 'inactiveFlowRecordTimeout'): number => {
    const ms = c[key];
    if (ms >= AGGREGATOR_DEFAULTS.minFlowRecordTimeoutMs) return ms;
    problems.warn([key], 'DURATION_CLAMPED', `${formatDuration(ms, { style: 'compact' })} is below 1s; rounded up to 1s`);
    return AGGREGATOR_DEFAULTS.minFlowRecordTimeoutMs;
  };
  const activeFlowRecordTimeout = roundUp('activeFlowRecordTimeout');
  const inactiveFlowRecordTimeout = roundUp('inactiveFlowRecordTimeout');

  const fc = c.flowCollector;
  const fcTls = fc.tls;
  let collector = fc.address?.value;
  if (fc.enable && fc.address === undefined) {
    problems.error(['flowCollector', 'address'], 'REQUIRED', 'required when flowCollector.enable is true');
  }
  if (fc.templateRefreshTimeout < 0) {
    problems.report(
      fc.enable,
      ['flowCollector', 'templateRefreshTimeout'],
      'DURATION_NEGATIVE',
      `${formatDuration(fc.templateRefreshTimeout)} cannot be negative`,
    );
  }
  checkTlsFiles(problems, fc.enable, ['flowCollector', 'tls'], fcTls);
  if (collector !== undefined) {
    const secure = collector.proto === 'tls' || fcTls.enable;
    if (fcTls.enable && collector.proto === 'udp') {
      problems.report(fc.enable, ['flowCollector', 'tls', 'enable'], 'CONFLICT', 'TLS cannot be used with the udp protocol');
    } else if (secure && collector.proto !== 'tls') {
      collector = { ...collector, proto: 'tls' satisfies CollectorProto };
    }
    const tlsOptionSet = Object.entries(fcTls).some(
      ([k, v]) => k !== 'enable' && k !== 'minVersion' && (k === 'insecureSkipVerify' ? v === true : v !== undefined),
    );
    if (fc.enable && !secure && tlsOptionSet) {
      problems.warn(
        ['flowCollector', 'tls'],
        'IGNORED',
        `ignored because the collector protocol is ${collector.proto} (set tls.enable or use "<ip>:<port>:tls")`,
      );
    }
  }

  const ch = c.clickHouse;
  const s3 = c.s3Uploader;
  const logger = c.flowLogger;
  if (s3.enable && s3.bucketName === '') {
    problems.error(['s3Uploader', 'bucketName'], 'REQUIRED', 'required when s3Uploader.enable is true');
  }
  const embeddedStoreEnable = c.embeddedStore.enable ?? (!ch.enable && c.mode === 'Aggregate');
  if (c.mode === 'Proxy') {
    const sinks = [
      ['clickHouse', ch.enable],
      ['s3Uploader', s3.enable],
      ['flowLogger', logger.enable],
      ['embeddedStore', embeddedStoreEnable],
    ] as const;
    const enabled = sinks.filter(([, on]) => on).map(([name]) => name);
    if (enabled.length > 0) {
      const list = enabled.join(', ');
      problems.error(
        ['mode'],
        'CONFLICT',
        `only flowCollector is supported in Proxy mode, but ${list} ${enabled.length > 1 ? 'are' : 'is'} enabled`,
        c.mode,
      );
    }
  }
  if (!fc.enable && !ch.enable && !s3.enable && !logger.enable && !embeddedStoreEnable) {
    problems.warn([], 'NO_SINK', 'no collector or sink is enabled, so no flow data will be exported');
  }

  throwIfErrors(problems, source);
  const config: AggregatorConfig = {
    mode: c.mode,
    flowAggregatorAddress: c.flowAggregatorAddress?.value ?? '',
    activeFlowRecordTimeout,
    inactiveFlowRecordTimeout,
    aggregatorTransportProtocol: c.aggregatorTransportProtocol,
    recordContents: c.recordContents,
    apiServer: {
      apiPort: c.apiServer.apiPort,
      tlsCipherSuites: c.apiServer.tlsCipherSuites?.value ?? [],
      ...(c.apiServer.tlsMinVersion !== undefined ? { tlsMinVersion: c.apiServer.tlsMinVersion } : {}),
      tokenFile: c.apiServer.tokenFile,
      certDir: c.apiServer.certDir,
    },
    clusterID: c.clusterID,
    flowCollector: {
      enable: fc.enable,
      address: fc.address?.text ?? '',
      ...(collector !== undefined ? { collector } : {}),
      ...(fc.observationDomainID !== undefined ? { observationDomainID: fc.observationDomainID } : {}),
      recordFormat: fc.recordFormat,
      templateRefreshTimeout: fc.templateRefreshTimeout,
      maxIPFIXMsgSize: fc.maxIPFIXMsgSize,
      tls: dropUndefined(fcTls),
    },
    clickHouse: {
      enable: ch.enable,
      database: ch.database,
      databaseURL: ch.databaseURL?.text ?? AGGREGATOR_DEFAULTS.clickHouseDatabaseURL,
      endpoint: ch.databaseURL?.value ?? DEFAULT_CLICKHOUSE_ENDPOINT,
      debug: ch.debug,
      compress: ch.compress,
      commitInterval: ch.commitInterval,
      tls: ch.tls,
    },
    s3Uploader: {
      ...s3,
      region: s3.region ?? nonEmpty(options.env?.AWS_REGION) ?? AGGREGATOR_DEFAULTS.s3Region,
    },
    flowLogger: logger,
    embeddedStore: { enable: embeddedStoreEnable, path: c.embeddedStore.path, retention: c.embeddedStore.retention },
    ipfixCollector: {
      address: c.ipfixCollector.address?.value ?? AGGREGATOR_DEFAULTS.ipfixCollectorAddress,
      port: c.ipfixCollector.port,
    },
  };
  return { config, warnings: collectWarnings(problems) };
}


/** Client certificate and CA sources must not contradict each other. */
function checkTlsFiles(
  problems: { report(fatal: boolean, path: ConfigPath, code: string, message: string): void },
  fatal: boolean,
  base: ConfigPath,
  tls: { caFile?: string; caSecretName?: string; certFile?: string; keyFile?: string; clientSecretName?: string },
): void {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    problems.report(fatal, [...base, tls.certFile === undefined ? 'certFile' : 'keyFile'], 'REQUIRED', 'certFile and keyFile must be given together');
  }
  if (tls.caFile !== undefined && tls.caSecretName !== undefined) {
    problems.report(fatal, [...base, 'caFile'], 'CONFLICT', 'give either caFile or caSecretName, not both');
  }
  if (tls.certFile !== undefined && tls.clientSecretName !== undefined) {
    problems.report(fatal, [...base, 'certFile'], 'CONFLICT', 'give either certFile/keyFile or clientSecretName, not both');
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
