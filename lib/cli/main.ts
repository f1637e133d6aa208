#!/usr/bin/env node
import yargs from 'yargs';
import { benchCommand } from './commands/bench';
import { benchWorkerCommand } from './commands/bench-worker';
import { doctorCommand } from './commands/doctor';
import { evalCommand } from './commands/eval';
import { infoCommand } from './commands/info';
import { modelsCommand } from './commands/models';
import { predictCommand } from './commands/predict';
import { trainCommand } from './commands/train';
import { exitCodeFor, formatError, logError } from './output';
import { VERSION } from '../version';

/** Exit code for a command line yargs itself rejects (unknown flag, bad choice, missing value). */
export const USAGE_EXIT_CODE = 2;

export function buildCli(argv: string[]) {
  return yargs(argv)
    .scriptName('mnist-nets')
    .usage('$0 <command> [options]\n\nClassic MNIST networks on TensorFlow.js: train, evaluate, benchmark.')
    .command(doctorCommand)
    .command(infoCommand)
    .command(modelsCommand)
    .command(trainCommand)
    .command(evalCommand)
    .command(benchCommand)
    .command(benchWorkerCommand)
    .command(predictCommand)
    .demandCommand(1, 'Name a command (see --help)')
    .strict()
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(VERSION)
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`mnist-nets: ${msg}\nRun 'mnist-nets --help' for usage.\n`);
      process.exit(USAGE_EXIT_CODE);
    });
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildCli(argv).parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    logError(formatError(err));
    return exitCodeFor(err);
  }
}

/** Resolves once everything written to `stream` so far has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

if (require.main === module) {
  // Exit explicitly: native handles (Dawn's instance, wasm worker threads) can keep the event
  // loop alive after the work is done. A large --json document to a full pipe is written
  // asynchronously, so wait for both streams first (measured: exiting at once cut it at 219 KB).
  main(process.argv.slice(2)).then(async (code) => {
    await Promise.all([drained(process.stdout), drained(process.stderr)]);
    process.exit(code);
  });
}
