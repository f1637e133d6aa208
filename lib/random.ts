/**
 * Seeded randomness for everything the library draws on the host: batch indices, shuffles, and
 * per-layer initializer seeds. tf.js has no global seed, so repeatability comes from deriving
 * every seed from the run's one `--seed`.
 */

/**
 * A small, fast 32-bit PRNG (mulberry32) whose whole state is one 32-bit word, readable and
 * settable so that a checkpointed training run continues with the same draws.
 */
export class Mulberry32 {
  /** The generator's state; set it to one read earlier to replay from there. */
  state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  readonly next = (): number => {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** mulberry32 as a function returning floats in [0, 1). */
export function createRng(seed: number): () => number {
  return new Mulberry32(seed).next;
}

/** Derives a well-spread child seed, so layer i of a seeded model differs from layer j. */
export function deriveSeed(seed: number, index: number): number {
  const rng = createRng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  return Math.floor(rng() * 2 ** 31);
}

/** Fisher-Yates shuffle in place. */
export function shuffleInPlace(array: Int32Array, rng: () => number): Int32Array {
  for (let i = array.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = array[i];
    array[i] = array[j];
    array[j] = t;
  }
  return array;
}

/** A fresh seed when the user gives none, so runs still record the seed they used. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * A seeded stand-in for `Math.random`, installed only while a synchronous function runs.
 *
 * tf.js draws the seeds of unseeded random ops (dropout masks above all) from `Math.random`; a
 * fixed seed on the Dropout layer would instead repeat one mask every step. Swapping the global
 * for a whole async training run would leak the training seed into every other piece of async
 * work in the process, and two overlapping runs could restore in the wrong order. A training step
 * is synchronous, so the swap covers exactly that step: nothing else can run while it is in place.
 */
export class SeededMathRandom {
  private readonly rng: Mulberry32;

  constructor(seed: number) {
    this.rng = new Mulberry32(deriveSeed(seed, 0x5eed));
  }

  /** The generator's position, for checkpoints. */
  get state(): number {
    return this.rng.state;
  }

  set state(value: number) {
    this.rng.state = value >>> 0;
  }

  /** Runs `fn` with `Math.random` drawing from this generator; restored even when `fn` throws. */
  run<T>(fn: () => T): T {
    const original = Math.random;
    Math.random = this.rng.next;
    try {
      return fn();
    } finally {
      Math.random = original;
    }
  }
}
