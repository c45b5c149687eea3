/** The `flowvis` program: every sub-command. */
import { Command } from 'commander';
import { registerAggregatorCommand } from './aggregator.ts';
import { registerCollectorCommand } from './collector.ts';
import { registerDemoCommand } from './demo.ts';
import { registerExporterCommand } from './exporter.ts';
import { registerGetCommand } from './get.ts';

export function buildProgram(): Command {
  const program = new Command('flowvis')
    .description('Network flow visibility for Kubernetes (Antrea-compatible IPFIX flow export and aggregation)')
    .showHelpAfterError();
  registerAggregatorCommand(program);
  registerCollectorCommand(program);
  registerDemoCommand(program);
  registerExporterCommand(program);
  registerGetCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
