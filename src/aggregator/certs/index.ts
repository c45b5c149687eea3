/** The Flow Aggregator's certificates: generation, renewal, storage in a directory or in Kubernetes. */
export * from './pki.ts';
export * from './manager.ts';
export * from './paths.ts';
export type { PkiStore } from './store.ts';
export { DirectoryPkiStore, PKI_FILES, writeFileAtomic } from './directory-store.ts';
export {
  KubernetesPkiStore, publishExporterMaterials, upsertConfigMap, upsertTlsSecret,
  CA_CONFIGMAP_KEY, CA_CONFIGMAP_NAME, CA_SECRET_NAME, CLIENT_SECRET_NAME, SERVER_SECRET_NAME,
} from './kubernetes-store.ts';
export type { CoreV1Subset, PublishResult, UpsertResult } from './kubernetes-store.ts';
export { createCertificate, parseCertificate, isSignedBy, canonicalIp, keyIdentifier } from './x509.ts';
export type { CertificateInfo, CertificateSpec, ExtKeyUsage, Issuer, KeyUsage } from './x509.ts';
