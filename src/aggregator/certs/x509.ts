/**
 * X.509 v3 certificates (RFC 5280) for ECDSA P-256 keys, built as DER and signed with node:crypto.
 *
 *   Certificate    ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 *   TBSCertificate ::= SEQUENCE { version [0] EXPLICIT INTEGER (2 = v3), serialNumber INTEGER,
 *                                 signature AlgorithmIdentifier, issuer Name, validity SEQUENCE
 *                                 { notBefore, notAfter }, subject Name, subjectPublicKeyInfo,
 *                                 extensions [3] EXPLICIT SEQUENCE OF Extension }
 *   Extension      ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 *   Name           ::= SEQUENCE OF SET OF SEQUENCE { type OID, value UTF8String }
 *   GeneralName    ::= dNSName [2] IA5String | iPAddress [7] OCTET STRING (4 or 16 bytes)
 *
 * Signature: ecdsa-with-SHA256 (1.2.840.10045.4.3.2, no parameters), ECDSA-Sig-Value in DER.
 * Key identifiers: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1).
 */
import { createHash, createPublicKey, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { TransportError } from '../../errors.ts';
import { formatIPv4, formatIPv6, writeIPv4, writeIPv6 } from '../../ipfix/index.ts';
import {
  bitString, boolean, childrenOf, encoding, explicit, expectTag, implicitPrimitive, objectIdentifier, octetString, readNode, readObjectIdentifier,
  readTime, sequence, setOf, smallInteger, TAG, time, unsignedInteger, utf8String, value, type DerNode,
} from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

export const KEY_USAGE_BITS = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;
export type KeyUsage = keyof typeof KEY_USAGE_BITS;
export type ExtKeyUsage = 'serverAuth' | 'clientAuth';

/** The signer of a certificate: its subject Name (DER), key identifier and private key. */
export interface Issuer {
  readonly nameDer: Buffer;
  readonly keyId: Buffer;
  readonly privateKey: KeyObject;
}

export interface CertificateSpec {
  readonly commonName: string;
  readonly organization?: string;
  readonly publicKey: KeyObject;
  /** Omitted: self-signed with `selfSigningKey`. */
  readonly issuer?: Issuer;
  readonly selfSigningKey?: KeyObject;
  /** ms since the epoch (whole seconds are kept). */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly isCa: boolean;
  readonly keyUsage: readonly KeyUsage[];
  readonly extKeyUsage?: readonly ExtKeyUsage[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Big-endian serial; default 16 random bytes, positive. */
  readonly serial?: Buffer;
}

/** What parseCertificate() reads back. */
export interface CertificateInfo {
  readonly der: Buffer;
  readonly serialHex: string;
  readonly subjectCommonName: string;
  readonly subjectNameDer: Buffer;
  readonly issuerNameDer: Buffer;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly isCa: boolean;
  readonly dnsNames: readonly string[];
  /** Canonical text (as the IPFIX decoder formats addresses). */
  readonly ipAddresses: readonly string[];
  readonly subjectKeyId: Buffer | undefined;
  readonly extKeyUsage: readonly string[];
}

/** The 16 bytes (IPv6) or 4 bytes (IPv4) of an address, or undefined when it is not one. */
export function ipBytes(text: string): Buffer | undefined {
  const b = Buffer.alloc(16);
  if (writeIPv4(text, b, 0)) return b.subarray(0, 4);
  if (writeIPv6(text, b, 0)) return b;
  return undefined;
}

/** Canonical text of an IPv4 or IPv6 address, or undefined when it is not one. */
export function canonicalIp(text: string): string | undefined {
  const b = ipBytes(text);
  if (b === undefined) return undefined;
  return b.length === 4 ? formatIPv4(b, 0) : formatIPv6(b, 0);
}

function subjectPublicKeyBits(spkiDer: Buffer): Buffer {
  const [, bits] = childrenOf(readNode(spkiDer, 0));
  return value(expectTag(bits, TAG.BIT_STRING, 'subjectPublicKey')).subarray(1);
}

/** RFC 5280 method 1 key identifier of a public key. */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(subjectPublicKeyBits(publicKey.export({ type: 'spki', format: 'der' }))).digest();
}

function nameDer(commonName: string, organization?: string): Buffer {
  const rdn = (oid: string, text: string): Buffer => setOf(sequence(objectIdentifier(oid), utf8String(text)));
  return organization === undefined ? sequence(rdn(OID.commonName, commonName)) : sequence(rdn(OID.organization, organization), rdn(OID.commonName, commonName));
}

function keyUsageBits(usages: readonly KeyUsage[]): Buffer {
  let mask = 0;
  for (const u of usages) mask |= 0x8000 >> KEY_USAGE_BITS[u];
  if (mask === 0) throw new RangeError('keyUsage must not be empty');
  const bytes = mask & 0xff ? Buffer.from([mask >> 8, mask & 0xff]) : Buffer.from([mask >> 8]);
  const last = bytes[bytes.length - 1];
  let unused = 0;
  while (((last >> unused) & 1) === 0) unused++;
  return bitString(bytes, unused);
}

function extension(oid: string, critical: boolean, der: Buffer): Buffer {
  return critical ? sequence(objectIdentifier(oid), boolean(true), octetString(der)) : sequence(objectIdentifier(oid), octetString(der));
}

function checkP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TransportError('BAD_KEY', `${what} must be an ECDSA P-256 key`, { key: what });
  }
}

/** Builds and signs a certificate; returns it PEM-encoded. */
export function createCertificate(spec: CertificateSpec): string {
  checkP256(spec.publicKey, 'subject key');
  const signer = spec.issuer?.privateKey ?? spec.selfSigningKey;
  if (signer === undefined) throw new RangeError('createCertificate: an issuer or a self-signing key is needed');
  checkP256(signer, 'issuer key');
  if (spec.notAfter <= spec.notBefore) throw new RangeError('createCertificate: notAfter must be after notBefore');

  const subject = nameDer(spec.commonName, spec.organization);
  const ownKeyId = keyIdentifier(spec.publicKey);
  const issuerName = spec.issuer?.nameDer ?? subject;
  const issuerKeyId = spec.issuer?.keyId ?? ownKeyId;
  const serial = spec.serial ?? randomBytes(16);
  if (spec.serial === undefined) serial[0] = (serial[0] & 0x7f) | 0x40; // positive, 16 significant bytes

  const exts: Buffer[] = [
    extension(OID.keyUsage, true, keyUsageBits(spec.keyUsage)),
    extension(OID.basicConstraints, true, spec.isCa ? sequence(boolean(true)) : sequence()),
    extension(OID.subjectKeyIdentifier, false, octetString(ownKeyId)),
    extension(OID.authorityKeyIdentifier, false, sequence(implicitPrimitive(0, issuerKeyId))),
  ];
  if (spec.extKeyUsage && spec.extKeyUsage.length > 0) {
    exts.push(extension(OID.extKeyUsage, false, sequence(...spec.extKeyUsage.map((u) => objectIdentifier(OID[u])))));
  }
  const names: Buffer[] = [];
  for (const dns of spec.dnsNames ?? []) {
    if (!/^[\x21-\x7e]+$/.test(dns)) throw new TransportError('BAD_NAME', `DNS name ${JSON.stringify(dns)} is not printable ASCII`, { name: dns });
    names.push(implicitPrimitive(2, Buffer.from(dns, 'ascii')));
  }
  for (const ip of spec.ipAddresses ?? []) {
    const b = ipBytes(ip);
    if (b === undefined) throw new TransportError('BAD_NAME', `"${ip}" is not an IPv4 or IPv6 address`, { name: ip });
    names.push(implicitPrimitive(7, b));
  }
  if (names.length > 0) exts.push(extension(OID.subjectAltName, false, sequence(...names)));

  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    algorithm,
    issuerName,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    subject,
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...exts)),
  );
  const signature = sign('sha256', tbs, { key: signer, dsaEncoding: 'der' });
  const der = sequence(tbs, algorithm, bitString(signature));
  return toPem(der, 'CERTIFICATE');
}

export function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** The DER of the first CERTIFICATE block of a PEM text. */
export function pemToDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new TransportError('BAD_CERTIFICATE', 'no PEM CERTIFICATE block found');
  return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
}

function commonNameOf(name: DerNode): string {
  for (const rdn of childrenOf(name)) {
    for (const atv of childrenOf(rdn)) {
      const [type, val] = childrenOf(atv);
      if (readObjectIdentifier(type) === OID.commonName) return value(val).toString('utf8');
    }
  }
  return '';
}

/** Reads the fields this module cares about from a certificate (PEM text or DER). */
export function parseCertificate(input: string | Buffer): CertificateInfo {
  const der = typeof input === 'string' ? pemToDer(input) : input;
  const cert = expectTag(readNode(der, 0), TAG.SEQUENCE, 'Certificate');
  const tbs = expectTag(childrenOf(cert)[0], TAG.SEQUENCE, 'TBSCertificate');
  const fields = childrenOf(tbs);
  let i = fields[0]?.tag === 0xa0 ? 1 : 0;
  const serial = value(expectTag(fields[i++], TAG.INTEGER, 'serialNumber'));
  i++; // signature algorithm
  const issuer = expectTag(fields[i++], TAG.SEQUENCE, 'issuer');
  const [notBefore, notAfter] = childrenOf(expectTag(fields[i++], TAG.SEQUENCE, 'validity'));
  const subject = expectTag(fields[i++], TAG.SEQUENCE, 'subject');
  i++; // subjectPublicKeyInfo
  let isCa = false;
  let subjectKeyId: Buffer | undefined;
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const extKeyUsage: string[] = [];
  const extsWrapper = fields.slice(i).find((f) => f.tag === 0xa3);
  for (const ext of extsWrapper ? childrenOf(childrenOf(extsWrapper)[0]) : []) {
    const parts = childrenOf(ext);
    const oid = readObjectIdentifier(parts[0]);
    const inner = readNode(value(parts[parts.length - 1]), 0);
    if (oid === OID.basicConstraints) {
      const bc = childrenOf(inner);
      isCa = bc.length > 0 && bc[0].tag === TAG.BOOLEAN && value(bc[0])[0] !== 0;
    } else if (oid === OID.subjectKeyIdentifier) {
      subjectKeyId = Buffer.from(value(inner));
    } else if (oid === OID.subjectAltName) {
      for (const gn of childrenOf(inner)) {
        if (gn.tag === 0x82) dnsNames.push(value(gn).toString('ascii'));
        else if (gn.tag === 0x87) {
          const b = value(gn);
          if (b.length === 4) ipAddresses.push(formatIPv4(b, 0));
          else if (b.length === 16) ipAddresses.push(formatIPv6(b, 0));
        }
      }
    } else if (oid === OID.extKeyUsage) {
      for (const o of childrenOf(inner)) {
        const id = readObjectIdentifier(o);
        extKeyUsage.push(id === OID.serverAuth ? 'serverAuth' : id === OID.clientAuth ? 'clientAuth' : id);
      }
    }
  }
  return {
    der: Buffer.from(der.subarray(0, cert.end)),
    serialHex: serial.toString('hex'),
    subjectCommonName: commonNameOf(subject),
    subjectNameDer: Buffer.from(encoding(subject)),
    issuerNameDer: Buffer.from(encoding(issuer)),
    notBefore: readTime(notBefore),
    notAfter: readTime(notAfter),
    isCa,
    dnsNames,
    ipAddresses,
    subjectKeyId,
    extKeyUsage,
  };
}

/** True when `certPem` was signed by the CA certificate `caPem` (signature and issuer name). */
export function isSignedBy(certPem: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(createPublicKey(caPem));
  } catch {
    return false;
  }
}
