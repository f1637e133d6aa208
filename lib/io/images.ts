import * as tf from '@tensorflow/tfjs';
import { promises as fsp } from 'fs';
import { PNG } from 'pngjs';
import { Normalization, normalizePixels } from '../datasets';
import { FileError, InvalidArgumentError } from '../errors';
import { parseIdx } from '../idx';

/** MNIST's image side. @default 28 */
export const DIGIT_SIZE = 28;

/**
 * Reads digit images from a PNG (any size, colour or grey; scaled to 28x28 by area averaging and
 * inverted when the background is light, since MNIST digits are white on black) or from an IDX
 * file of u8 images [n, 28, 28] or one [28, 28]. Returns 784 raw bytes per image.
 */
export async function readDigitImages(file: string): Promise<Uint8Array[]> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(file);
  } catch (err) {
    throw FileError.fromErrno(file, err);
  }
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return [pngToDigit(bytes, file)];
  }
  const arr = parseIdx(bytes, file);
  if (arr.type !== 'u8') throw new FileError(file, `IDX images must be u8, found ${arr.type}`);
  const dims = arr.dims;
  const is2d = dims.length === 2 && dims[0] === DIGIT_SIZE && dims[1] === DIGIT_SIZE;
  const is3d = dims.length === 3 && dims[1] === DIGIT_SIZE && dims[2] === DIGIT_SIZE;
  if (!is2d && !is3d) throw new FileError(file, `IDX images must be [28, 28] or [n, 28, 28], found [${dims.join(', ')}]`);
  const n = is2d ? 1 : dims[0];
  const size = DIGIT_SIZE * DIGIT_SIZE;
  return Array.from({ length: n }, (_, i) => (arr.data as Uint8Array).subarray(i * size, (i + 1) * size));
}

function pngToDigit(bytes: Uint8Array, file: string): Uint8Array {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes));
  } catch (err) {
    throw new FileError(file, `not a readable PNG: ${(err as Error).message}`);
  }
  const { width, height, data } = png;
  // Luma over a white background: transparent areas read as paper.
  const grey = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const a = data[4 * i + 3] / 255;
    const luma = 0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2];
    grey[i] = luma * a + 255 * (1 - a);
  }
  let border = 0;
  for (let x = 0; x < width; x++) border += grey[x] + grey[(height - 1) * width + x];
  for (let y = 0; y < height; y++) border += grey[y * width] + grey[y * width + width - 1];
  const invert = border / (2 * (width + height)) > 127;
  const out = new Uint8Array(DIGIT_SIZE * DIGIT_SIZE);
  for (let oy = 0; oy < DIGIT_SIZE; oy++) {
    for (let ox = 0; ox < DIGIT_SIZE; ox++) {
      const [y0, y1] = [Math.floor((oy * height) / DIGIT_SIZE), Math.max(Math.floor(((oy + 1) * height) / DIGIT_SIZE), Math.floor((oy * height) / DIGIT_SIZE) + 1)];
      const [x0, x1] = [Math.floor((ox * width) / DIGIT_SIZE), Math.max(Math.floor(((ox + 1) * width) / DIGIT_SIZE), Math.floor((ox * width) / DIGIT_SIZE) + 1)];
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += grey[y * width + x];
      const mean = sum / ((y1 - y0) * (x1 - x0));
      out[oy * DIGIT_SIZE + ox] = Math.round(invert ? 255 - mean : mean);
    }
  }
  return out;
}

/** Writes 784 bytes as an 8-bit greyscale 28x28 PNG (tests and examples make inputs with it). */
export function digitToPng(pixels: Uint8Array): Buffer {
  if (pixels.length !== DIGIT_SIZE * DIGIT_SIZE) throw new InvalidArgumentError('pixels', `must hold 784 bytes, got ${pixels.length}`);
  const png = new PNG({ width: DIGIT_SIZE, height: DIGIT_SIZE });
  for (let i = 0; i < pixels.length; i++) {
    png.data[4 * i] = png.data[4 * i + 1] = png.data[4 * i + 2] = pixels[i];
    png.data[4 * i + 3] = 255;
  }
  return PNG.sync.write(png);
}

export interface Prediction {
  digit: number;
  /** Class scores: softmax of logits, or the output activations as they are. */
  scores: number[];
}

/**
 * Predicts the digit in each 784-byte image with the model's own normalisation and layout.
 * `options` is what a saved model's metadata holds: its normalisation, and its loss, which says
 * whether the output is logits (softmax-cross-entropy) or already activations.
 */
export async function predictDigits(
  model: tf.LayersModel,
  images: readonly Uint8Array[],
  options: { normalization: string; loss: string },
): Promise<Prediction[]> {
  const outputIsLogits = options.loss === 'softmax-cross-entropy';
  if (images.length === 0) return [];
  const flat = new Uint8Array(images.length * 784);
  images.forEach((img, i) => flat.set(img, i * 784));
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const probabilities = tf.tidy(() => {
    const x = tf.tensor(normalizePixels(flat, options.normalization as Normalization), [images.length, ...inputShape]);
    const out = model.apply(x, { training: false }) as tf.Tensor;
    return outputIsLogits ? tf.softmax(out) : out;
  });
  // Read asynchronously: webgpu under Node cannot read synchronously (arraySync needs OffscreenCanvas).
  const scores = (await probabilities.array().finally(() => probabilities.dispose())) as number[][];
  return scores.map((s) => ({ digit: s.indexOf(Math.max(...s)), scores: s }));
}
