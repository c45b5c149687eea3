/**
 * flowExporter.nflog.prefixFormat: how the log prefix of a dropping firewall rule names the
 * NetworkPolicy rule that dropped a packet (our addition; Antrea learns this from OVS instead).
 *
 *   format      = { literal | placeholder }          at most 127 bytes (kernel NFLOG prefix limit)
 *   placeholder = "{action}" | "{direction}" | "{namespace}" | "{name}" | "{rule}"
 *
 * Each placeholder may appear once. A prefix matches when it reads as the format with the
 * placeholders filled in (trailing spaces ignored); e.g. with the default format
 * "fv:{direction}:{action}:{namespace}/{name}:{rule}" the nft rule
 * `log prefix "fv:Ingress:Drop:default/deny-web:rule1" group 100 drop` is attributed to the
 * Ingress rule "rule1" of policy default/deny-web with action Drop.
 */

export const DEFAULT_NFLOG_PREFIX_FORMAT = 'fv:{direction}:{action}:{namespace}/{name}:{rule}';
export const NFLOG_PREFIX_MAX_BYTES = 127;

export const NFLOG_PLACEHOLDERS = ['action', 'direction', 'namespace', 'name', 'rule'] as const;
export type NflogPlaceholder = (typeof NFLOG_PLACEHOLDERS)[number];

const PLACEHOLDER_PATTERN: Readonly<Record<NflogPlaceholder, string>> = {
  action: '[A-Za-z]+',
  direction: '[A-Za-z]+',
  namespace: '[A-Za-z0-9._-]*',
  name: '[A-Za-z0-9._-]*',
  rule: '[^\\s]*?',
};

export interface NflogPrefixFields {
  /** "Allow" | "Drop" | "Reject" as written (compare case-insensitively). */
  readonly action?: string;
  /** "Ingress" | "Egress" as written. */
  readonly direction?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly rule?: string;
}

export interface CompiledNflogPrefix {
  readonly format: string;
  readonly placeholders: readonly NflogPlaceholder[];
  /** The fields of a kernel log prefix, or undefined when the prefix does not follow the format. */
  match(prefix: string): NflogPrefixFields | undefined;
}

export type NflogPrefixCompileResult =
  | { readonly ok: true; readonly compiled: CompiledNflogPrefix }
  | { readonly ok: false; readonly reason: string };

export function compileNflogPrefixFormat(format: string): NflogPrefixCompileResult {
  if (format.length === 0) return { ok: false, reason: 'empty format' };
  if (Buffer.byteLength(format) > NFLOG_PREFIX_MAX_BYTES) {
    return { ok: false, reason: `longer than the kernel's ${NFLOG_PREFIX_MAX_BYTES}-byte log prefix limit` };
  }
  const placeholders: NflogPlaceholder[] = [];
  let pattern = '^';
  const tokens = format.split(/(\{[^{}]*\})/);
  for (const token of tokens) {
    const m = /^\{(.*)\}$/.exec(token);
    if (m) {
      const name = m[1] as NflogPlaceholder;
      if (!NFLOG_PLACEHOLDERS.includes(name)) {
        return { ok: false, reason: `unknown placeholder ${token} (known: ${NFLOG_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})` };
      }
      if (placeholders.includes(name)) return { ok: false, reason: `placeholder ${token} appears more than once` };
      placeholders.push(name);
      pattern += `(?<${name}>${PLACEHOLDER_PATTERN[name]})`;
    } else {
      if (/[{}]/.test(token)) return { ok: false, reason: 'unbalanced "{" or "}"' };
      pattern += token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  const regex = new RegExp(`${pattern}\\s*$`);
  return {
    ok: true,
    compiled: {
      format,
      placeholders,
      match(prefix) {
        const m = regex.exec(prefix);
        if (m === null) return undefined;
        const groups = m.groups ?? {};
        const fields: Record<string, string> = {};
        for (const p of placeholders) {
          const v = groups[p];
          if (v !== undefined) fields[p] = v;
        }
        return fields;
      },
    },
  };
}
