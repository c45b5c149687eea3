/**
 * File loaders: read antrea-agent.conf / flow-aggregator.conf from disk (or take their text)
 * and validate them. Read failures are ConfigErrors too (code CONFIG_READ).
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import { parseAgentConfig } from './agent-config.ts';
import type { AgentConfig } from './agent-config.ts';
import { parseAggregatorConfig } from './aggregator-config.ts';
import type { AggregatorConfig } from './aggregator-types.ts';
import type { ConfigResult, ParseOptions } from './validate.ts';

/** The file's text, or the path of the file to read. */
export type ConfigInput = { readonly text: string; readonly source?: string } | { readonly path: string };

export interface LoadOptions {
  /** Environment for values Antrea takes from it (AWS_REGION). Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Reads and validates antrea-agent.conf. */
export async function loadAgentConfig(input: ConfigInput, options: LoadOptions = {}): Promise<ConfigResult<AgentConfig>> {
  const { text, parse } = await resolveInput(input, 'antrea-agent.conf', options);
  return parseAgentConfig(text, parse);
}

/** Reads and validates flow-aggregator.conf. */
export async function loadAggregatorConfig(
  input: ConfigInput,
  options: LoadOptions = {},
): Promise<ConfigResult<AggregatorConfig>> {
  const { text, parse } = await resolveInput(input, 'flow-aggregator.conf', options);
  return parseAggregatorConfig(text, parse);
}

async function resolveInput(
  input: ConfigInput,
  defaultSource: string,
  options: LoadOptions,
): Promise<{ text: string; parse: ParseOptions }> {
  const env = options.env ?? process.env;
  if ('text' in input) return { text: input.text, parse: { source: input.source ?? defaultSource, env } };
  let text: string;
  try {
    text = await readFile(input.path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new ConfigError('CONFIG_READ', `cannot read ${input.path}: ${reason}`, { source: input.path, path: input.path }, { cause: err });
  }
  return { text, parse: { source: input.path, env } };
}
