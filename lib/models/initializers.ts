import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '../errors';

/**
 * Initialisations the recipes use, as data. Each resolves, per layer, to one of tf.js's own
 * serialisable initializers (so saved models load with no custom classes); fan-dependent ones
 * compute their bound from the layer's fan-in/fan-out at build time.
 */
export type InitializerSpec =
  /** N(mean, stddev^2). Recipe mlp/deep-mlp: N(0,1); two-layer-net: 0.01 N(0,1). */
  | { kind: 'normal'; stddev: number; mean?: number }
  /** Normal truncated at two standard deviations (TensorFlow's `truncated_normal`). */
  | { kind: 'truncated-normal'; stddev: number }
  /** U(-limit, limit). */
  | { kind: 'uniform'; limit: number }
  /** Caffe-style Xavier as written in source 001: U(±sqrt(6)/sqrt(fanIn + fanOut + 1)). */
  | { kind: 'xavier-plus-one' }
  /** N(0, fanOut^-0.5) as standard deviation: source 002's `pow(nodes_out, -0.5)`. */
  | { kind: 'normal-fan-out' }
  /** PyTorch's nn.Linear default for weights and biases: U(±1/sqrt(fanIn)). */
  | { kind: 'torch-linear' }
  | { kind: 'constant'; value: number }
  | { kind: 'zeros' };

export type InitializerKind = InitializerSpec['kind'];

/** tfjs-layers' Initializer class, which the package does not export by name. */
export type LayerInitializer = ReturnType<typeof tf.initializers.zeros>;

/** Resolves a spec for one layer. `fanIn`/`fanOut` are the layer's, seeds are per layer. */
export function resolveInitializer(
  spec: InitializerSpec,
  fanIn: number,
  fanOut: number,
  seed: number | undefined,
): LayerInitializer {
  switch (spec.kind) {
    case 'normal':
      return tf.initializers.randomNormal({ mean: spec.mean ?? 0, stddev: spec.stddev, seed });
    case 'truncated-normal':
      return tf.initializers.truncatedNormal({ mean: 0, stddev: spec.stddev, seed });
    case 'uniform':
      return tf.initializers.randomUniform({ minval: -spec.limit, maxval: spec.limit, seed });
    case 'xavier-plus-one': {
      const limit = Math.sqrt(6) / Math.sqrt(fanIn + fanOut + 1);
      return tf.initializers.randomUniform({ minval: -limit, maxval: limit, seed });
    }
    case 'normal-fan-out':
      return tf.initializers.randomNormal({ mean: 0, stddev: fanOut ** -0.5, seed });
    case 'torch-linear': {
      const limit = 1 / Math.sqrt(fanIn);
      return tf.initializers.randomUniform({ minval: -limit, maxval: limit, seed });
    }
    case 'constant':
      return tf.initializers.constant({ value: spec.value });
    case 'zeros':
      return tf.initializers.zeros();
    default: {
      const never: never = spec;
      throw new InvalidArgumentError('initializer', `unknown kind ${JSON.stringify(never)}`);
    }
  }
}

/** Short human-readable form for summaries and reports. */
export function describeInitializer(spec: InitializerSpec): string {
  switch (spec.kind) {
    case 'normal':
      return `N(${spec.mean ?? 0}, ${spec.stddev}^2)`;
    case 'truncated-normal':
      return `truncN(0, ${spec.stddev}^2)`;
    case 'uniform':
      return `U(±${spec.limit})`;
    case 'xavier-plus-one':
      return 'U(±sqrt(6/(in+out+1)))';
    case 'normal-fan-out':
      return 'N(0, out^-1)';
    case 'torch-linear':
      return 'U(±1/sqrt(in))';
    case 'constant':
      return `${spec.value}`;
    case 'zeros':
      return '0';
  }
}
