import { InvalidArgumentError } from '../errors';

/** Hidden-layer nonlinearities. `prelu` is one learnable slope shared by the whole layer. */
export type HiddenActivation = 'sigmoid' | 'tanh' | 'relu' | 'prelu' | 'linear';
/** What the last layer emits: `softmax`/`sigmoid` give activations, `linear` gives logits. */
export type OutputActivation = 'softmax' | 'sigmoid' | 'linear';

export const HIDDEN_ACTIVATIONS: readonly HiddenActivation[] = ['sigmoid', 'tanh', 'relu', 'prelu', 'linear'];
export const OUTPUT_ACTIVATIONS: readonly OutputActivation[] = ['softmax', 'sigmoid', 'linear'];

export function checkPositiveInt(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(argument, `must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkOneOf<T extends string>(argument: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(argument, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function checkRate(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new InvalidArgumentError(argument, `must be a number in [0, 1), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Per-layer option given once for all layers or as one entry per layer. */
export function perLayer<T>(argument: string, value: T | readonly T[], count: number): T[] {
  if (Array.isArray(value)) {
    if (value.length !== count) {
      throw new InvalidArgumentError(argument, `has ${value.length} entries, expected ${count} (one per layer)`);
    }
    return [...value];
  }
  return Array.from({ length: count }, () => value as T);
}
