import * as tf from '@tensorflow/tfjs';

/** Multiply-adds x2 per sample for one forward pass, from the model's layers. */
export function forwardFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = layer.outputShape as number[];
    const kernel = layer.weights[0]?.shape as number[] | undefined;
    if (cls === 'Dense' && kernel) {
      flops += 2 * kernel[0] * kernel[1];
    } else if (cls === 'Conv2D' && kernel) {
      const [kh, kw, cin, cout] = kernel;
      flops += 2 * kh * kw * cin * cout * out[1] * out[2];
    }
  }
  return flops;
}

/** Forward + backward: the usual 3x of the forward cost. */
export function trainingFlops(model: tf.LayersModel): number {
  return 3 * forwardFlops(model);
}

/** One line per layer: name, class, output shape, parameters. */
export function layerSummary(model: tf.LayersModel): Array<{ name: string; type: string; outputShape: number[]; params: number }> {
  return model.layers.map((l) => ({
    name: l.name,
    type: l.getClassName(),
    outputShape: (l.outputShape as (number | null)[]).slice(1) as number[],
    params: l.countParams(),
  }));
}
