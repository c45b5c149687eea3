/**
 * The Flow Aggregator's PKI: a self-signed CA, a server certificate for the IPFIX collecting
 * process (TLS) and the API server, and a client certificate for the exporters (mutual TLS). All
 * keys are ECDSA P-256 (upstream uses RSA 2048; Go agents accept either).
 *
 * Renewal (planRenewal): a certificate is replaced when it is missing, unreadable, not yet valid,
 * not matching its key, not signed by the current CA, or when less than a third of its lifetime
 * remains. The server certificate is also replaced when its names differ from the wanted ones.
 * Leaf renewals keep the CA; a new CA renews both leaves.
 */
import { FLOW_AGGREGATOR_TLS } from '../../k8s/flow-aggregator-tls.ts';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { createCertificate, canonicalIp, isSignedBy, keyIdentifier, parseCertificate, type CertificateInfo } from './x509.ts';

export const FLOW_AGGREGATOR_NAMESPACE: string = FLOW_AGGREGATOR_TLS.namespace;
export const FLOW_AGGREGATOR_SERVICE = 'flow-aggregator';

const DAY_MS = 86_400_000;
/** Default lifetimes: CA 10 years, leaves 1 year (upstream: 1 year for all three). */
export const DEFAULT_CA_VALIDITY_MS = 3650 * DAY_MS;
export const DEFAULT_LEAF_VALIDITY_MS = 365 * DAY_MS;
/** Certificates start this much before "now", against clock skew between hosts (as upstream). */
export const BACKDATE_MS = 3_600_000;

/** A certificate and its private key, PEM text. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface Pki {
  readonly ca: PemPair;
  readonly server: PemPair;
  readonly client: PemPair;
}

export interface PkiOptions {
  /** flowAggregatorAddress from the configuration: a DNS name or an IP, added to the server's names. */
  readonly flowAggregatorAddress?: string;
  /** Namespace of the aggregator's Service (default flow-aggregator). */
  readonly namespace?: string;
  readonly extraDnsNames?: readonly string[];
  readonly extraIpAddresses?: readonly string[];
  readonly caValidityMs?: number;
  readonly leafValidityMs?: number;
  /** Clock in ms (default Date.now). */
  readonly now?: () => number;
}

export type RenewReason =
  | 'missing' | 'unreadable' | 'not-yet-valid' | 'expiring' | 'key-mismatch' | 'not-signed-by-ca' | 'ca-renewed' | 'names-changed';

/** Which certificates must be (re)issued, and why; an empty object means none. */
export interface RenewalPlan {
  ca?: RenewReason;
  server?: RenewReason;
  client?: RenewReason;
}

export interface ServerNames {
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

/**
 * The server certificate's subject alternative names: flowAggregatorAddress, the Service names
 * (flow-aggregator, .<ns>, .<ns>.svc — the TLS server name agents use —, .<ns>.svc.cluster.local),
 * localhost, 127.0.0.1, ::1 and the extra names.
 */
export function serverNames(opts: PkiOptions = {}): ServerNames {
  const ns = opts.namespace ?? FLOW_AGGREGATOR_NAMESPACE;
  const s = FLOW_AGGREGATOR_SERVICE;
  const dns = new Set<string>();
  const ips = new Set<string>();
  const add = (name: string): void => {
    const trimmed = name.trim();
    if (trimmed === '') return;
    const ip = canonicalIp(trimmed.replace(/^\[(.*)\]$/, '$1'));
    if (ip !== undefined) ips.add(ip);
    else dns.add(trimmed.toLowerCase());
  };
  if (opts.flowAggregatorAddress) add(opts.flowAggregatorAddress);
  for (const n of [s, `${s}.${ns}`, `${s}.${ns}.svc`, `${s}.${ns}.svc.cluster.local`, 'localhost', '127.0.0.1', '::1']) add(n);
  for (const n of opts.extraDnsNames ?? []) add(n);
  for (const n of opts.extraIpAddresses ?? []) add(n);
  return { dnsNames: [...dns], ipAddresses: [...ips] };
}

function newKey(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function keyPem(k: KeyObject): string {
  return k.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function validity(opts: PkiOptions, lifetime: number): { notBefore: number; notAfter: number } {
  const now = (opts.now ?? Date.now)();
  return { notBefore: now - BACKDATE_MS, notAfter: now - BACKDATE_MS + lifetime };
}

function nowSeconds(opts: PkiOptions): number {
  return Math.floor((opts.now ?? Date.now)() / 1000);
}

export function generateCa(opts: PkiOptions = {}): PemPair {
  const k = newKey();
  const cert = createCertificate({
    commonName: `flow-aggregator-ca@${nowSeconds(opts)}`,
    publicKey: k.publicKey,
    selfSigningKey: k.privateKey,
    ...validity(opts, opts.caValidityMs ?? DEFAULT_CA_VALIDITY_MS),
    isCa: true,
    keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'],
  });
  return { cert, key: keyPem(k.privateKey) };
}

function issuerOf(ca: PemPair): { nameDer: Buffer; keyId: Buffer; privateKey: KeyObject } {
  const info = parseCertificate(ca.cert);
  return { nameDer: info.subjectNameDer, keyId: info.subjectKeyId ?? keyIdentifier(createPublicKey(ca.cert)), privateKey: createPrivateKey(ca.key) };
}

/** A server certificate (serverAuth) for serverNames(opts), signed by `ca`. */
export function issueServerCertificate(ca: PemPair, opts: PkiOptions = {}): PemPair {
  const k = newKey();
  const names = serverNames(opts);
  const cert = createCertificate({
    commonName: `flow-aggregator-server-certificate@${nowSeconds(opts)}`,
    publicKey: k.publicKey,
    issuer: issuerOf(ca),
    ...validity(opts, opts.leafValidityMs ?? DEFAULT_LEAF_VALIDITY_MS),
    isCa: false,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['serverAuth'],
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses,
  });
  return { cert, key: keyPem(k.privateKey) };
}

/** The exporters' client certificate (clientAuth), signed by `ca`. */
export function issueClientCertificate(ca: PemPair, opts: PkiOptions = {}): PemPair {
  const k = newKey();
  const cert = createCertificate({
    commonName: `flow-aggregator-client-certificate@${nowSeconds(opts)}`,
    publicKey: k.publicKey,
    issuer: issuerOf(ca),
    ...validity(opts, opts.leafValidityMs ?? DEFAULT_LEAF_VALIDITY_MS),
    isCa: false,
    keyUsage: ['digitalSignature'],
    extKeyUsage: ['clientAuth'],
  });
  return { cert, key: keyPem(k.privateKey) };
}

export function generatePki(opts: PkiOptions = {}): Pki {
  const ca = generateCa(opts);
  return { ca, server: issueServerCertificate(ca, opts), client: issueClientCertificate(ca, opts) };
}

/** Why `pair` cannot be kept at time `now`, or undefined when it can. */
function pairProblem(pair: PemPair | undefined, now: number, isCa: boolean): { reason?: RenewReason; info?: CertificateInfo } {
  if (pair === undefined || pair.cert === '' || pair.key === '') return { reason: 'missing' };
  let info: CertificateInfo;
  try {
    info = parseCertificate(pair.cert);
    if (!new X509Certificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key))) return { reason: 'key-mismatch' };
  } catch {
    return { reason: 'unreadable' };
  }
  if (info.isCa !== isCa) return { reason: 'unreadable' };
  if (now < info.notBefore) return { reason: 'not-yet-valid', info };
  if (info.notAfter - now < (info.notAfter - info.notBefore) / 3) return { reason: 'expiring', info };
  return { info };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

/** What must be (re)issued for `existing` (any part may be missing) at the options' "now". */
export function planRenewal(existing: Partial<Pki> | undefined, opts: PkiOptions = {}): RenewalPlan {
  const now = (opts.now ?? Date.now)();
  const plan: RenewalPlan = {};
  const ca = pairProblem(existing?.ca, now, true);
  if (ca.reason) plan.ca = ca.reason;
  for (const leaf of ['server', 'client'] as const) {
    if (plan.ca) {
      plan[leaf] = 'ca-renewed';
      continue;
    }
    const p = pairProblem(existing?.[leaf], now, false);
    if (p.reason) plan[leaf] = p.reason;
    else if (!isSignedBy((existing?.[leaf] as PemPair).cert, (existing?.ca as PemPair).cert)) plan[leaf] = 'not-signed-by-ca';
    else if (leaf === 'server' && p.info) {
      const want = serverNames(opts);
      if (!sameSet(p.info.dnsNames, want.dnsNames) || !sameSet(p.info.ipAddresses, want.ipAddresses)) plan.server = 'names-changed';
    }
  }
  return plan;
}

export function isEmptyPlan(plan: RenewalPlan): boolean {
  return plan.ca === undefined && plan.server === undefined && plan.client === undefined;
}

/** Applies a plan: returns the complete PKI with the planned parts newly issued. */
export function applyRenewal(existing: Partial<Pki> | undefined, plan: RenewalPlan, opts: PkiOptions = {}): Pki {
  const ca = plan.ca || !existing?.ca ? generateCa(opts) : existing.ca;
  const server = plan.server || !existing?.server ? issueServerCertificate(ca, opts) : existing.server;
  const client = plan.client || !existing?.client ? issueClientCertificate(ca, opts) : existing.client;
  return { ca, server, client };
}
