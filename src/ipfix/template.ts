/**
 * Templates (RFC 7011 §3.4): an ordered list of field specifiers that says how to read the records
 * of one data set. A template built here knows its information elements, its record length bounds,
 * and lazily compiles an encoder and a decoder specialised to its layout (record-codec.ts).
 */
import { IpfixError } from '../errors.ts';
import { DEFAULT_LENGTH, isValidFieldLength } from './data-types.ts';
import { MIN_DATA_SET_ID, VARIABLE_LENGTH } from './constants.ts';
import { defaultModel, type InformationElement, type InformationModel } from './information-model.ts';
import { compileDecoder, compileEncoder, type RecordDecoder, type RecordEncoder } from './record-codec.ts';

export interface TemplateField {
  readonly ie: InformationElement;
  /** Length in this template: the IE's natural length, a reduced size, or 65535 (variable). */
  readonly length: number;
  /** False when the (enterprise number, id) pair is not in the information model: kept as raw octets. */
  readonly known: boolean;
}

/** A field given by name, with an optional length (reduced-size encoding, fixed-length strings). */
export type FieldSpec = string | { readonly name: string; readonly length?: number };

export class Template {
  readonly names: readonly string[];
  /** Smallest possible record: fixed fields plus one length octet per variable-length field. */
  readonly minRecordLength: number;
  /** Record length when the template has no variable-length field, else null. */
  readonly fixedRecordLength: number | null;
  private readonly positions: ReadonlyMap<string, number>;
  private decoder?: RecordDecoder;
  private encoder?: RecordEncoder;

  constructor(
    readonly id: number,
    readonly fields: readonly TemplateField[],
    /** Number of scope fields (options templates, RFC 7011 §3.4.2); 0 for data templates. */
    readonly scopeFieldCount = 0,
  ) {
    this.names = fields.map((f) => f.ie.name);
    const positions = new Map<string, number>();
    fields.forEach((f, i) => { if (!positions.has(f.ie.name)) positions.set(f.ie.name, i); });
    this.positions = positions;
    let min = 0;
    let variable = false;
    for (const f of fields) {
      if (f.length === VARIABLE_LENGTH) { min += 1; variable = true; } else min += f.length;
    }
    this.minRecordLength = min;
    this.fixedRecordLength = variable ? null : min;
  }

  get isOptionsTemplate(): boolean {
    return this.scopeFieldCount > 0;
  }

  /** Position of the first field with this element name, or -1. */
  indexOf(name: string): number {
    return this.positions.get(name) ?? -1;
  }

  /** The decoder compiled for this template's layout. */
  get decode(): RecordDecoder {
    return (this.decoder ??= compileDecoder(this.fields));
  }

  /** The encoder compiled for this template's layout. */
  get encode(): RecordEncoder {
    return (this.encoder ??= compileEncoder(this.fields));
  }

  /** Two templates are the same definition when their field specifiers are equal. */
  sameDefinition(other: Template): boolean {
    if (other.fields.length !== this.fields.length || other.scopeFieldCount !== this.scopeFieldCount) return false;
    return this.fields.every((f, i) => {
      const o = other.fields[i];
      return o.ie.id === f.ie.id && o.ie.enterpriseNumber === f.ie.enterpriseNumber && o.length === f.length;
    });
  }
}

/** Builds a template from element names (the way exporters define theirs). */
export function buildTemplate(
  id: number,
  specs: readonly FieldSpec[],
  options: { model?: InformationModel; scopeFieldCount?: number } = {},
): Template {
  const model = options.model ?? defaultModel;
  if (!Number.isInteger(id) || id < MIN_DATA_SET_ID || id > 65535) {
    throw new IpfixError('BAD_TEMPLATE_ID', `template ID ${id} is outside 256..65535`, { templateId: id });
  }
  const fields = specs.map((spec): TemplateField => {
    const name = typeof spec === 'string' ? spec : spec.name;
    const ie = model.byElementName(name);
    if (!ie) throw new IpfixError('UNKNOWN_ELEMENT', `unknown information element "${name}"`, { name });
    const length = typeof spec === 'string' || spec.length === undefined ? ie.length : spec.length;
    const variableOk = length === VARIABLE_LENGTH && DEFAULT_LENGTH[ie.dataType] === null;
    if (!variableOk && !isValidFieldLength(ie.dataType, length)) {
      throw new IpfixError('BAD_FIELD_LENGTH', `length ${length} is not valid for ${name} (${ie.dataType})`, { name, length });
    }
    return { ie, length, known: true };
  });
  return new Template(id, fields, options.scopeFieldCount ?? 0);
}

/** Synthetic element for a (PEN, id) pair the model does not know: decoded as raw octets. */
export function unknownElement(enterpriseNumber: number, id: number, length: number): InformationElement {
  return {
    name: enterpriseNumber === 0 ? `unknown_${id}` : `unknown_${enterpriseNumber}_${id}`,
    id,
    enterpriseNumber,
    dataType: 'octetArray',
    length,
  };
}
