/**
 * Builds Antrea-agent data records for tests, the way the aggregator receives them: the values are
 * encoded into a real IPFIX message with MessageWriter and decoded back with SessionDecoder.
 */
import {
  agentTemplate, buildTemplate, MessageWriter, SessionDecoder, type DataRecord, type FieldSpec, type FieldValue, type IpFamily, type Template,
} from '../../../ipfix/index.ts';
import { addressNames } from '../layout.ts';
import { zeroValue } from '../preprocess.ts';

/**
 * Element name → value. `sourceAddress`, `destinationAddress` and `destinationClusterIP` stand for
 * the family's element (sourceIPv4Address / sourceIPv6Address, ...). Missing elements are zero.
 */
export type AgentFields = Readonly<Record<string, FieldValue>>;

let nextDomain = 1;

/** Encodes one record of `template` (default: the family's 42-element agent template) and decodes it. */
export function agentRecord(family: IpFamily, fields: AgentFields, template: Template = agentTemplate(family)): DataRecord {
  const names = addressNames(family);
  const byName: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'sourceAddress') byName[names.source] = v;
    else if (k === 'destinationAddress') byName[names.destination] = v;
    else if (k === 'destinationClusterIP') byName[names.clusterIP] = v;
    else byName[k] = v;
  }
  const values = template.names.map((n) => (n in byName ? byName[n] : zeroValue(n)));
  const writer = new MessageWriter({ observationDomainId: nextDomain++, clock: () => 1700000000 });
  writer.addTemplate(template);
  writer.addRecord(template, values);
  writer.flush();
  const decoder = new SessionDecoder({ transport: 'tcp' });
  const [message] = writer.drain();
  const decoded = decoder.decodeMessage(message);
  if (decoded.errors.length > 0 || decoded.records.length !== 1) {
    throw new Error(`test record did not round-trip: ${decoded.errors.map((e) => e.message).join('; ')}`);
  }
  return decoded.records[0];
}

/** A template of the given element specs (for version-skew tests). */
export function customTemplate(specs: readonly FieldSpec[], id = 300): Template {
  return buildTemplate(id, specs);
}
