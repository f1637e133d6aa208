/**
 * Argument checks, on the ground floor beside errors.ts: every layer (data, models, training,
 * recipes, CLI) checks its arguments with these, so each bad value gets the same kind of message
 * naming the argument (`InvalidArgumentError`, exit 2 in the CLI). No tf.js, no Node APIs.
 */
import { InvalidArgumentError } from './errors';

function shown(value: unknown): string {
  if (typeof value === 'number' || value === undefined) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** An integer >= `min` (default 1). */
export function checkInt(argument: string, value: unknown, { min = 1 }: { min?: number } = {}): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const want = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new InvalidArgumentError(argument, `must be ${want}, got ${shown(value)}`);
  }
  return value;
}

/** An integer >= 1. */
export function checkPositiveInt(argument: string, value: unknown): number {
  return checkInt(argument, value, { min: 1 });
}

/** A finite number > 0. */
export function checkPositiveNumber(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(argument, `must be a positive number, got ${shown(value)}`);
  }
  return value;
}

/** A finite number >= 0 (a weight decay, a schedule's exponent). */
export function checkNonNegativeNumber(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(argument, `must be a finite number >= 0, got ${shown(value)}`);
  }
  return value;
}

/** A number in [0, 1): a dropout rate, a momentum. */
export function checkRate(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new InvalidArgumentError(argument, `must be a number in [0, 1), got ${shown(value)}`);
  }
  return value;
}

/** One of a fixed list of names. */
export function checkOneOf<T extends string>(argument: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(argument, `must be one of ${allowed.join(', ')}, got ${shown(value)}`);
  }
  return value as T;
}

/** A boolean, or `fallback` when left out. */
export function checkBoolean(argument: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, `must be true or false, got ${shown(value)}`);
  return value;
}

/** A non-empty string (a path, a name), or undefined when left out. */
export function checkOptionalString(argument: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(argument, 'must be a non-empty string');
  return value;
}

/** A function, or `fallback` when left out. */
export function checkFunction<F extends (...args: never[]) => unknown>(argument: string, value: unknown, fallback: F, shape: string): F {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw new InvalidArgumentError(argument, `must be a function ${shape}`);
  return value as F;
}

/** A per-layer option given once for all layers, or as one entry per layer. */
export function perLayer<T>(argument: string, value: T | readonly T[], count: number): T[] {
  if (Array.isArray(value)) {
    if (value.length !== count) {
      throw new InvalidArgumentError(argument, `has ${value.length} entries, expected ${count} (one per layer)`);
    }
    return [...value];
  }
  return Array.from({ length: count }, () => value as T);
}

/** A seed: any integer (negative ones too; they are folded to 32 bits where used). */
export function checkSeed(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidArgumentError(argument, `must be an integer, got ${shown(value)}`);
  }
  return value;
}
