/**
 * Version-skew preprocessing: maps each incoming data record onto the 42-element layout of the
 * Antrea agent template this aggregator expects (IPv4 or IPv6), BY ELEMENT NAME.
 *
 * - an element the record lacks (older agent) is filled with its type's zero value:
 *   0, 0n, "", "0.0.0.0" or "::";
 * - an element the layout does not know (newer agent, unknown enterprise element) is dropped;
 * - a record whose template carries the 42 elements in order passes through untouched (no copy).
 *
 * Upstream (Antrea v2.3 preprocessor.go) pads or truncates POSITIONALLY, relying on new elements
 * only ever being appended. That breaks when an agent version removes an element from the middle:
 * Antrea v2.6 agents dropped appProtocolName and httpVals (positions 39, 40), so upstream's positional
 * view shifts egressNodeName and destinationClusterIPv4 by two places. Matching by name reads every
 * element from where it actually is, and keeps working for appended elements as upstream does.
 *
 * A record without a source/destination address pair of one family, or without protocol or ports,
 * cannot be keyed: it is rejected with an IpfixError and counted, never aggregated.
 */
import { IpfixError } from '../../errors.ts';
import {
  agentElementNames, defaultModel, type DataRecord, type FieldValue, type IpFamily, type Template,
} from '../../ipfix/index.ts';
import { AGENT_ELEMENT_COUNT } from './layout.ts';

/** A record in the agent layout: 42 values in template order, plus its address family. */
export interface NormalizedRecord {
  readonly values: readonly FieldValue[];
  readonly family: IpFamily;
}

interface Mapping {
  readonly family: IpFamily;
  /** True when the template is exactly the expected layout: values are used as they are. */
  readonly exact: boolean;
  /** For each expected position, the incoming position, or -1 when the element is missing. */
  readonly from: Int16Array;
  readonly missing: number;
  readonly extra: number;
}

const KEY_ELEMENTS = ['sourceTransportPort', 'destinationTransportPort', 'protocolIdentifier'] as const;

/** The zero value of an element's type: 0, 0n, "", "0.0.0.0" or "::". */
export function zeroValue(name: string): FieldValue {
  const ie = defaultModel.byElementName(name);
  switch (ie?.dataType) {
    case 'unsigned64': case 'signed64': case 'dateTimeMicroseconds': case 'dateTimeNanoseconds': return 0n;
    case 'string': return '';
    case 'ipv4Address': return '0.0.0.0';
    case 'ipv6Address': return '::';
    default: return 0;
  }
}

const EXPECTED: Readonly<Record<IpFamily, readonly string[]>> = { 4: agentElementNames(4), 6: agentElementNames(6) };
const ZEROS: Readonly<Record<IpFamily, readonly FieldValue[]>> = {
  4: EXPECTED[4].map(zeroValue),
  6: EXPECTED[6].map(zeroValue),
};

export interface PreprocessStats {
  /** Records that did not have exactly the expected layout and were padded, truncated or reordered. */
  recordsFixed: number;
  /** Records rejected because they lack the flow key elements. */
  recordsRejected: number;
}

export class Preprocessor {
  private readonly mappings = new WeakMap<Template, Mapping | IpfixError>();
  readonly stats: PreprocessStats = { recordsFixed: 0, recordsRejected: 0 };

  /** The record in the expected layout, or the reason it cannot be used. Never throws. */
  normalize(record: DataRecord): NormalizedRecord | IpfixError {
    let m = this.mappings.get(record.template);
    if (m === undefined) {
      m = mappingFor(record.template);
      this.mappings.set(record.template, m);
    }
    if (m instanceof IpfixError) {
      this.stats.recordsRejected++;
      return m;
    }
    if (m.exact) return { values: record.values, family: m.family };
    this.stats.recordsFixed++;
    const zeros = ZEROS[m.family];
    const out = new Array<FieldValue>(AGENT_ELEMENT_COUNT);
    const from = m.from;
    const values = record.values;
    for (let i = 0; i < AGENT_ELEMENT_COUNT; i++) {
      const j = from[i];
      out[i] = j < 0 ? zeros[i] : values[j];
    }
    return { values: out, family: m.family };
  }

  /** How a template differs from the expected layout (for diagnostics and tests). */
  describe(template: Template): { family: IpFamily; exact: boolean; missing: number; extra: number } | IpfixError {
    const m = mappingFor(template);
    return m instanceof IpfixError ? m : { family: m.family, exact: m.exact, missing: m.missing, extra: m.extra };
  }
}

function mappingFor(template: Template): Mapping | IpfixError {
  const has = (n: string): boolean => template.indexOf(n) >= 0;
  let family: IpFamily;
  if (has('sourceIPv4Address') && has('destinationIPv4Address')) family = 4;
  else if (has('sourceIPv6Address') && has('destinationIPv6Address')) family = 6;
  else {
    return new IpfixError('NOT_A_FLOW_RECORD', `template ${template.id} has no source/destination address pair of one family`,
      { templateId: template.id });
  }
  const absent = KEY_ELEMENTS.filter((n) => !has(n));
  if (absent.length > 0) {
    return new IpfixError('NOT_A_FLOW_RECORD', `template ${template.id} lacks flow key element(s) ${absent.join(', ')}`,
      { templateId: template.id, missing: absent.join(',') });
  }
  const expected = EXPECTED[family];
  const from = new Int16Array(AGENT_ELEMENT_COUNT);
  let missing = 0;
  let inOrder = template.fields.length === AGENT_ELEMENT_COUNT;
  for (let i = 0; i < AGENT_ELEMENT_COUNT; i++) {
    const j = template.indexOf(expected[i]);
    from[i] = j;
    if (j < 0) missing++;
    if (j !== i) inOrder = false;
  }
  const extra = template.fields.length - (AGENT_ELEMENT_COUNT - missing);
  return { family, exact: inOrder, from, missing, extra };
}
