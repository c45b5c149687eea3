/** IPFIX codec: information model, templates, message writer, session and stream decoders. Pure. */
export * from './constants.ts';
export * from './data-types.ts';
export * from './information-model.ts';
export * from './template.ts';
export { BufferFull, type RecordDecoder, type RecordEncoder } from './record-codec.ts';
export * from './message-writer.ts';
export * from './session-decoder.ts';
export * from './stream-decoder.ts';
export * from './template-cache.ts';
export * from './antrea-templates.ts';
export * from './addresses.ts';
