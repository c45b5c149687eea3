/** `flowvis demo`: the whole pipeline on real kernel flows in network namespaces (see src/demo/demo.ts). */
import { Command } from 'commander';
import { runDemo } from '../demo/demo.ts';
import { integerOption } from './common.ts';

interface DemoCliOptions {
  duration: number;
  reportEvery: number;
}

export function registerDemoCommand(program: Command): Command {
  return program
    .command('demo')
    .description('run agents and the aggregator on a lab of network namespaces with live traffic (root)')
    .option('--duration <seconds>', 'stop after this long (0: run until Ctrl-C)', integerOption('--duration', 0, 86_400), 0)
    .option('--report-every <seconds>', 'seconds between two summaries of what the aggregator sees', integerOption('--report-every', 1, 3600), 10)
    .action(async (opts: DemoCliOptions, command: Command) => {
      const stop = new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      try {
        await runDemo({ durationSec: opts.duration, reportEverySec: opts.reportEvery, out: (l) => process.stdout.write(l + '\n'), stopSignal: stop });
      } catch (e) {
        command.error(`error: ${(e as Error).message}`, { exitCode: 2 });
      }
    });
}
