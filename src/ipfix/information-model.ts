/**
 * The information model: every IANA element, the RFC 5103 reverse elements (PEN 29305) of every
 * reversible IANA element, and Antrea's elements (PEN 56506; PEN 56505 is accepted as an alias when
 * looking up by number). Typed lookup by (enterprise number, element id) and by name.
 */
import { DEFAULT_LENGTH, type DataTypeName } from './data-types.ts';
import { PEN_ANTREA, PEN_ANTREA_LEGACY, PEN_IANA, PEN_REVERSE, VARIABLE_LENGTH } from './constants.ts';
import {
  ANTREA_ELEMENTS, IANA_ELEMENTS, type AntreaElementName, type IanaElementName, type RegistryRow,
} from './information-model.generated.ts';

export type { AntreaElementName, IanaElementName };
export type ReverseElementName = `reverse${Capitalize<IanaElementName>}`;
export type ElementName = IanaElementName | AntreaElementName | ReverseElementName;

export interface InformationElement {
  readonly name: string;
  readonly id: number;
  /** Private enterprise number; 0 for IANA. */
  readonly enterpriseNumber: number;
  readonly dataType: DataTypeName;
  /** Encoded length in a template: the type's natural length, or 65535 (variable). */
  readonly length: number;
}

/** Elements that RFC 5103 §6.1 declares not reversible. */
export const NON_REVERSIBLE: ReadonlySet<string> = new Set([
  'biflowDirection', 'collectorIPv4Address', 'collectorIPv6Address', 'collectorTransportPort',
  'commonPropertiesId', 'exportedMessageTotalCount', 'exportedOctetTotalCount',
  'exportedFlowRecordTotalCount', 'exporterIPv4Address', 'exporterIPv6Address',
  'exporterTransportPort', 'exportInterface', 'exportProtocolVersion', 'exportTransportProtocol',
  'flowId', 'flowKeyIndicator', 'ignoredPacketTotalCount', 'ignoredOctetTotalCount',
  'notSentFlowTotalCount', 'notSentPacketTotalCount', 'notSentOctetTotalCount',
  'observationDomainId', 'observedFlowTotalCount', 'paddingOctets', 'templateId',
]);

export function reverseName(name: string): string {
  return 'reverse' + name[0].toUpperCase() + name.slice(1);
}

function fromRow(row: RegistryRow, enterpriseNumber: number): InformationElement {
  const [id, name, dataType, length] = row;
  return Object.freeze({
    name, id, enterpriseNumber, dataType,
    length: length ?? DEFAULT_LENGTH[dataType] ?? VARIABLE_LENGTH,
  });
}

const key = (enterpriseNumber: number, id: number): number => enterpriseNumber * 65536 + id;

export class InformationModel {
  private readonly byKey = new Map<number, InformationElement>();
  private readonly byName = new Map<string, InformationElement>();

  constructor(elements: Iterable<InformationElement>) {
    for (const ie of elements) this.add(ie);
  }

  /** Registers one more element (e.g. a vendor's); names and (PEN, id) pairs must be unique. */
  add(ie: InformationElement): void {
    const k = key(ie.enterpriseNumber, ie.id);
    if (this.byKey.has(k)) throw new Error(`duplicate information element ${ie.enterpriseNumber}/${ie.id}`);
    if (this.byName.has(ie.name)) throw new Error(`duplicate information element name ${ie.name}`);
    this.byKey.set(k, ie);
    this.byName.set(ie.name, ie);
  }

  /** Looks an element up by enterprise number and id; PEN 56505 is read as Antrea's 56506. */
  get(enterpriseNumber: number, id: number): InformationElement | undefined {
    if (enterpriseNumber === PEN_ANTREA_LEGACY) enterpriseNumber = PEN_ANTREA;
    return this.byKey.get(key(enterpriseNumber, id));
  }

  byElementName(name: ElementName): InformationElement;
  byElementName(name: string): InformationElement | undefined;
  byElementName(name: string): InformationElement | undefined {
    return this.byName.get(name);
  }

  /** Like byElementName but throws for an unknown name (for building templates in code). */
  require(name: string): InformationElement {
    const ie = this.byName.get(name);
    if (!ie) throw new Error(`unknown information element: ${name}`);
    return ie;
  }

  get size(): number {
    return this.byKey.size;
  }

  [Symbol.iterator](): IterableIterator<InformationElement> {
    return this.byKey.values();
  }
}

function* registryElements(): Generator<InformationElement> {
  for (const row of IANA_ELEMENTS) {
    const ie = fromRow(row, PEN_IANA);
    yield ie;
    if (!NON_REVERSIBLE.has(ie.name)) yield Object.freeze({ ...ie, name: reverseName(ie.name), enterpriseNumber: PEN_REVERSE });
  }
  for (const row of ANTREA_ELEMENTS) yield fromRow(row, PEN_ANTREA);
}

/** The model built from the registries kept in the repository. */
export const defaultModel = new InformationModel(registryElements());
