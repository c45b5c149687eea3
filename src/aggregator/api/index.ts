/** The Flow Aggregator's HTTPS API: server, client, query parameters, token and exact-integer JSON. */
export * from './api-server.ts';
export * from './client.ts';
export * from './flow-query.ts';
export * from './json.ts';
export * from './token.ts';
export * from './types.ts';
