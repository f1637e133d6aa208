import { checkPositiveInt } from '../checks';
import { InvalidArgumentError } from '../errors';
import { Mulberry32, shuffleInPlace } from '../random';

/**
 * How each step picks its batch, as the sources do:
 * - `shuffle`: a fresh permutation per epoch, consecutive batches of it (PyTorch DataLoader, 000).
 * - `replacement`: every step draws `batchSize` indices uniformly, with replacement (003/004's
 *   `np.random.choice(train_size, batch_size)`).
 * - `sequential`: one shuffle up front, then consecutive batches with wrap-around (001's data layer).
 * - `ordered`: the file's own order every epoch, no shuffling (002 loops over its CSV rows).
 */
export type Sampling = 'shuffle' | 'replacement' | 'sequential' | 'ordered';
export const SAMPLINGS: readonly Sampling[] = ['shuffle', 'replacement', 'sequential', 'ordered'];

/** Where a sampler is: enough to continue its sequence of batches exactly (checkpoints). */
export interface SamplerState {
  rng: number;
  position: number;
  /** The current permutation (for `shuffle` and `sequential`; the identity otherwise). */
  order: Int32Array;
}

export class BatchSampler {
  /** Steps that make one pass over the data; the last batch of a shuffled epoch may be short. */
  readonly stepsPerEpoch: number;
  private readonly generator: Mulberry32;
  private readonly rng: () => number;
  private order: Int32Array;
  private position = 0;

  constructor(
    readonly count: number,
    readonly batchSize: number,
    readonly sampling: Sampling,
    seed: number,
  ) {
    if (!(count > 0)) throw new InvalidArgumentError('data', 'the training split is empty');
    checkPositiveInt('batchSize', batchSize);
    this.generator = new Mulberry32(seed);
    this.rng = this.generator.next;
    this.stepsPerEpoch = Math.ceil(count / batchSize);
    this.order = Int32Array.from({ length: count }, (_, i) => i);
    if (sampling === 'shuffle' || sampling === 'sequential') shuffleInPlace(this.order, this.rng);
  }

  /** Examples the first `steps` steps draw: a shuffled epoch's last batch may be short. */
  samplesIn(steps: number): number {
    if (this.sampling !== 'shuffle') return steps * this.batchSize;
    const epochs = Math.floor(steps / this.stepsPerEpoch);
    return epochs * this.count + Math.min((steps - epochs * this.stepsPerEpoch) * this.batchSize, this.count);
  }

  /** Examples in the batch of 0-based step `step`: a shuffled epoch's last one holds what is left. */
  batchSizeAt(step: number): number {
    return this.samplesIn(step + 1) - this.samplesIn(step);
  }

  /** A copy of the sampler's state. */
  getState(): SamplerState {
    return { rng: this.generator.state, position: this.position, order: this.order.slice() };
  }

  /** Continues from a state taken from a sampler over the same count. */
  setState(state: SamplerState): void {
    if (state.order.length !== this.count || !(state.position >= 0 && state.position <= this.count)) {
      throw new InvalidArgumentError('sampler state', `is for ${state.order.length} examples at position ${state.position}; this sampler has ${this.count}`);
    }
    this.generator.state = state.rng;
    this.position = state.position;
    this.order = state.order.slice();
  }

  /** Indices of the next batch. */
  next(): Int32Array {
    const { batchSize, count } = this;
    if (this.sampling === 'replacement') {
      const out = new Int32Array(batchSize);
      for (let i = 0; i < batchSize; i++) out[i] = Math.floor(this.rng() * count);
      return out;
    }
    if (this.sampling === 'sequential' || this.sampling === 'ordered') {
      const out = new Int32Array(batchSize);
      for (let i = 0; i < batchSize; i++) out[i] = this.order[(this.position + i) % count];
      this.position = (this.position + batchSize) % count;
      return out;
    }
    if (this.position >= count) {
      shuffleInPlace(this.order, this.rng);
      this.position = 0;
    }
    const end = Math.min(this.position + batchSize, count);
    const out = this.order.slice(this.position, end);
    this.position = end;
    return out;
  }
}
