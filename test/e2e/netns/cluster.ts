/** Moved to src/netlab (the demo uses it too); kept so tests import it from here. */
export * from '../../../src/netlab/cluster.ts';
