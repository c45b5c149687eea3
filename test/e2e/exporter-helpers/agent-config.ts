/**
 * antrea-agent.conf for the flow exporter under test: the FlowExporter feature gate, the
 * flowExporter section (docs/configuration.md) and our nflog sub-section.
 */
import { stringify } from 'yaml';

export interface AgentConfigOptions {
  /** `<HOST>:[<PORT>][:<PROTO>]`, e.g. "10.0.0.254:4739:tcp". */
  flowCollectorAddr: string;
  /** Go durations. Defaults: 1s / 2s / 3s (fast tests). */
  flowPollInterval?: string;
  activeFlowExportTimeout?: string;
  idleFlowExportTimeout?: string;
  /** Read dropped packets from this NFLOG group (omit to leave NFLOG off). */
  nflogGroup?: number;
  /** flowExporter.nflog.prefixFormat (default: the agent's default format). */
  nflogPrefixFormat?: string;
  /** flowExporter.conntrackZone. */
  conntrackZone?: number | number[];
}

export function agentConfigYaml(o: AgentConfigOptions): string {
  const flowExporter: Record<string, unknown> = {
    enable: true,
    flowCollectorAddr: o.flowCollectorAddr,
    flowPollInterval: o.flowPollInterval ?? '1s',
    activeFlowExportTimeout: o.activeFlowExportTimeout ?? '2s',
    idleFlowExportTimeout: o.idleFlowExportTimeout ?? '3s',
  };
  if (o.nflogGroup !== undefined) {
    flowExporter.nflog = {
      enable: true,
      group: o.nflogGroup,
      ...(o.nflogPrefixFormat !== undefined ? { prefixFormat: o.nflogPrefixFormat } : {}),
    };
  }
  if (o.conntrackZone !== undefined) flowExporter.conntrackZone = o.conntrackZone;
  return stringify({ featureGates: { FlowExporter: true }, flowExporter });
}
