/** The embedded flow store (DuckDB), the default sink when ClickHouse is off. */
export { EMBEDDED_STORE_DEFAULTS, EmbeddedStore, openEmbeddedStore, type EmbeddedStoreOptions } from './embedded-store.ts';
export { DUCKDB_TYPES, INDEX_COLUMNS, storeDdl } from './duckdb-schema.ts';
export { NameDictionary, type EndpointEntry, type ServiceEntry } from './name-dictionary.ts';
export { stripPodSuffix, workloadLabel, workloadOf, STATEFULSET_SUFFIX_RE, WORKLOAD_LABEL_KEYS, WORKLOAD_SUFFIX_RE } from './workload.ts';
