/** The `flowvis` program: every sub-command. */
import { Command } from 'commander';
import { registerCollectorCommand } from './collector.ts';
import { registerExporterCommand } from './exporter.ts';
import { registerGetCommand } from './get.ts';

export function buildProgram(): Command {
  const program = new Command('flowvis')
    .description('Network flow visibility for Kubernetes (Antrea-compatible IPFIX flow export and aggregation)')
    .showHelpAfterError();
  registerCollectorCommand(program);
  registerExporterCommand(program);
  registerGetCommand(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
