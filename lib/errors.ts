/**
 * Error classes that carry the context a user needs to act: which file, which flag, which step.
 * Every error thrown on purpose by this library is a `MnistNetsError`, so a CLI can print its
 * message alone (no stack) and pick an exit code.
 */

export class MnistNetsError extends Error {
  override name = 'MnistNetsError';
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A malformed IDX file or buffer. */
export class IdxFormatError extends MnistNetsError {
  override name = 'IdxFormatError';
  override readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: at byte ${offset}: ${problem}`, options);
  }
}

/** A file that cannot be read or written at all (missing, a directory, no permission). */
export class FileError extends MnistNetsError {
  override name = 'FileError';
  override readonly exitCode = 2;
  constructor(readonly file: string, readonly problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
  }

  static fromErrno(file: string, err: unknown): FileError {
    const code = (err as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    return new FileError(file, problem, { cause: err });
  }
}

/** A dataset that cannot be found, downloaded or verified. */
export class DatasetError extends MnistNetsError {
  override name = 'DatasetError';
  constructor(message: string, readonly attempts: readonly string[] = [], options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A backend that was asked for explicitly and cannot be had. */
export class BackendUnavailableError extends MnistNetsError {
  override name = 'BackendUnavailableError';
  constructor(readonly backend: string, readonly reason: string) {
    super(`backend '${backend}' is not available: ${reason}`);
  }
}

/** A bad argument or option; names the argument. */
export class InvalidArgumentError extends MnistNetsError {
  override name = 'InvalidArgumentError';
  override readonly exitCode = 2;
  constructor(readonly argument: string, problem: string) {
    super(`${argument}: ${problem}`);
  }
}

/**
 * A model directory that is missing, unreadable, corrupt or not loadable by this library (a weight
 * path leaving the folder, quantised weights), or that cannot be written: bad input naming the
 * folder or file, so exit code 2 like the other file errors.
 */
export class ModelIOError extends MnistNetsError {
  override name = 'ModelIOError';
  override readonly exitCode = 2;
  constructor(readonly path: string, problem: string, options?: { cause?: unknown }) {
    super(`${path}: ${problem}`, options);
  }
}

/**
 * A kernel called with inputs it does not handle (a shape, dtype or layout). It comes from inside
 * tf.js's engine, not from an argument a user typed, so it is a bug or an unsupported model, not a
 * usage error: exit code 1, with the kernel named.
 */
export class KernelError extends MnistNetsError {
  override name = 'KernelError';
  constructor(readonly kernel: string, problem: string) {
    super(`${kernel}: ${problem}`);
  }
}

/** Training that cannot go on, e.g. a loss that turned NaN. */
export class TrainingError extends MnistNetsError {
  override name = 'TrainingError';
  constructor(message: string, readonly step?: number) {
    super(message);
  }
}

/** The message of anything thrown, on one line, at most `max` characters. */
export function errorMessage(err: unknown, max = 400): string {
  // Emscripten and some addons reject with plain { message } objects rather than Errors.
  const message = (err as { message?: unknown } | null)?.message;
  const raw = typeof message === 'string' ? message : String(err);
  const firstLines = raw
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' ');
  return firstLines.length > max ? `${firstLines.slice(0, max - 3)}...` : firstLines;
}
