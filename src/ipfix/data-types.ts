/**
 * IPFIX abstract data types (RFC 7011 §6.1, IANA "IPFIX Information Element Data Types") and
 * how this codec represents their values in JavaScript:
 *
 *   unsigned8/16/32, signed8/16/32, float32/64   number
 *   unsigned64, signed64                          bigint
 *   dateTimeSeconds, dateTimeMilliseconds         number (seconds / milliseconds since the Unix epoch)
 *   dateTimeMicroseconds, dateTimeNanoseconds     bigint (nanoseconds since the Unix epoch; NTP format on the wire)
 *   boolean                                       boolean (1 = true, 2 = false on the wire)
 *   ipv4Address, ipv6Address, macAddress          string ("10.0.0.1", "fd00::1", "aa:bb:cc:dd:ee:ff")
 *   string                                        string (UTF-8)
 *   octetArray, basicList, subTemplateList,
 *   subTemplateMultiList                          Uint8Array (lists are carried as raw octets)
 */

export const DATA_TYPES = [
  'octetArray', 'unsigned8', 'unsigned16', 'unsigned32', 'unsigned64',
  'signed8', 'signed16', 'signed32', 'signed64', 'float32', 'float64', 'boolean',
  'macAddress', 'string', 'dateTimeSeconds', 'dateTimeMilliseconds',
  'dateTimeMicroseconds', 'dateTimeNanoseconds', 'ipv4Address', 'ipv6Address',
  'basicList', 'subTemplateList', 'subTemplateMultiList',
] as const;

export type DataTypeName = (typeof DATA_TYPES)[number];

/** Natural encoded length of each type; null for variable-length types. */
export const DEFAULT_LENGTH: Readonly<Record<DataTypeName, number | null>> = {
  octetArray: null, unsigned8: 1, unsigned16: 2, unsigned32: 4, unsigned64: 8,
  signed8: 1, signed16: 2, signed32: 4, signed64: 8, float32: 4, float64: 8, boolean: 1,
  macAddress: 6, string: null, dateTimeSeconds: 4, dateTimeMilliseconds: 8,
  dateTimeMicroseconds: 8, dateTimeNanoseconds: 8, ipv4Address: 4, ipv6Address: 16,
  basicList: null, subTemplateList: null, subTemplateMultiList: null,
};

/** The JavaScript value type of each abstract data type. */
export interface ValueOfType {
  octetArray: Uint8Array; unsigned8: number; unsigned16: number; unsigned32: number; unsigned64: bigint;
  signed8: number; signed16: number; signed32: number; signed64: bigint; float32: number; float64: number;
  boolean: boolean; macAddress: string; string: string; dateTimeSeconds: number; dateTimeMilliseconds: number;
  dateTimeMicroseconds: bigint; dateTimeNanoseconds: bigint; ipv4Address: string; ipv6Address: string;
  basicList: Uint8Array; subTemplateList: Uint8Array; subTemplateMultiList: Uint8Array;
}

export type FieldValue = ValueOfType[DataTypeName];

const UNSIGNED = new Set<DataTypeName>(['unsigned8', 'unsigned16', 'unsigned32', 'unsigned64']);
const SIGNED = new Set<DataTypeName>(['signed8', 'signed16', 'signed32', 'signed64']);

export function isDataTypeName(s: string): s is DataTypeName {
  return (DATA_TYPES as readonly string[]).includes(s);
}

/**
 * Whether a field of this type may be sent with `length` octets: its natural length, reduced-size
 * encoding (RFC 7011 §6.2) of integers (1..natural length) and float64 as float32, or any length
 * (including variable) for octet arrays, strings and lists.
 */
export function isValidFieldLength(type: DataTypeName, length: number): boolean {
  const natural = DEFAULT_LENGTH[type];
  if (natural === null) return true;
  if (length === natural) return true;
  if (UNSIGNED.has(type) || SIGNED.has(type)) return length >= 1 && length <= natural;
  if (type === 'float64') return length === 4;
  return false;
}
