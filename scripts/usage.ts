import type { Argv } from 'yargs';

/**
 * Strict yargs parsing for the scripts whose one answer to a bad command line is their usage line
 * on stderr (and exit 2, which the caller returns): an unknown flag or argument, a missing
 * required flag, or a flag in `single` given without a value or more than once. yargs' own --help
 * and --version are off, so that --help, too, gets the usage line, as it did before these scripts
 * used yargs. Returns the arguments, or undefined once the usage line is written.
 */
export async function parseOrUsage<T>(parser: Argv<T>, usage: string, single: readonly (keyof T & string)[]): Promise<T | undefined> {
  try {
    const args = (await parser
      .strict()
      .help(false)
      .version(false)
      .exitProcess(false)
      .fail((message, err) => {
        throw err ?? new Error(message);
      })
      .parseAsync()) as T;
    // A bare `--out` parses as '', a repeated one as an array.
    if (single.every((flag) => args[flag] === undefined || (typeof args[flag] === 'string' && args[flag] !== ''))) return args;
  } catch {
    // A usage error, answered below like the others.
  }
  process.stderr.write(`${usage}\n`);
  return undefined;
}
