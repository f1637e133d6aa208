/**
 * Digit images as MNIST wants them, on any platform: pixels (a PNG decoded under Node, a canvas's
 * RGBA in a page) to ink, ink to a 28x28 digit, and digits to class scores. No files and no Node
 * modules: lib/io/images.ts decodes PNG and IDX files on top of this, the browser entry uses it for
 * the drawing canvas.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, IMAGE_WIDTH } from '../datasets/catalog';
import { Normalization, normalizePixels } from '../datasets/dataset';
import { InvalidArgumentError } from '../errors';

/** MNIST's image side. @default 28 */
export const DIGIT_SIZE = IMAGE_WIDTH;
/** MNIST scaled each digit to fit a box this size, keeping its aspect ratio, before centring it. @default 20 */
export const DIGIT_BOX = 20;
/** Ink (0..255) above which a pixel counts towards a digit's bounding box. @default 0 */
export const DEFAULT_INK_THRESHOLD = 0;

/** A rectangle of source pixels; fractional edges are allowed. */
interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

function checkImage(argument: string, pixels: ArrayLike<number>, width: number, height: number, channels: number): void {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new InvalidArgumentError(argument, `width and height must be positive integers, got ${width} x ${height}`);
  }
  if (pixels == null || pixels.length !== width * height * channels) {
    throw new InvalidArgumentError(argument, `must hold ${width} x ${height} x ${channels} values, got ${pixels?.length}`);
  }
}

/**
 * Ink of an RGBA image, 0..255 with ink bright (MNIST's white on black): luma over a white
 * background (transparent areas read as paper), inverted when the border is light, since people
 * draw and scan dark on light.
 */
export function rgbaToInk(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  checkImage('rgba', rgba, width, height, 4);
  const grey = new Float32Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const a = rgba[4 * i + 3] / 255;
    const luma = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
    grey[i] = luma * a + 255 * (1 - a);
  }
  let border = 0;
  for (let x = 0; x < width; x++) border += grey[x] + grey[(height - 1) * width + x];
  for (let y = 0; y < height; y++) border += grey[y * width] + grey[y * width + width - 1];
  if (border / (2 * (width + height)) > 127) for (let i = 0; i < grey.length; i++) grey[i] = 255 - grey[i];
  return grey;
}

/**
 * Resamples `region` of a one-channel image to `outWidth` x `outHeight` by exact area averaging:
 * each output pixel is the mean of the source area it covers, partly covered source pixels weighted
 * by the part covered. Downscaling anti-aliases; upscaling repeats pixels.
 */
function resampleArea(src: Float32Array, width: number, region: Region, outWidth: number, outHeight: number): Float32Array {
  const out = new Float32Array(outWidth * outHeight);
  const sx = region.width / outWidth;
  const sy = region.height / outHeight;
  for (let oy = 0; oy < outHeight; oy++) {
    const y0 = region.y + oy * sy;
    // Clamped so that rounding never reaches a pixel past the region.
    const y1 = Math.min(y0 + sy, region.y + region.height);
    for (let ox = 0; ox < outWidth; ox++) {
      const x0 = region.x + ox * sx;
      const x1 = Math.min(x0 + sx, region.x + region.width);
      let sum = 0;
      for (let y = Math.floor(y0); y < y1; y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        if (wy <= 0) continue;
        for (let x = Math.floor(x0); x < x1; x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          if (wx > 0) sum += src[y * width + x] * wx * wy;
        }
      }
      out[oy * outWidth + ox] = sum / (sx * sy);
    }
  }
  return out;
}

function toBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(Math.min(255, Math.max(0, values[i])));
  return out;
}

/** The whole ink image scaled to 28x28 (a PNG that is already framed like MNIST, as `predict` reads them). */
export function scaleDigit(ink: Float32Array, width: number, height: number): Uint8Array {
  checkImage('ink', ink, width, height, 1);
  return toBytes(resampleArea(ink, width, { x: 0, y: 0, width, height }, DIGIT_SIZE, DIGIT_SIZE));
}

/** Options of {@link centerDigit}. */
export interface CenterDigitOptions {
  /** Side of the box the digit is scaled to fit. @default {@link DIGIT_BOX} */
  box?: number;
  /** Ink above which a pixel is part of the digit's bounding box. @default {@link DEFAULT_INK_THRESHOLD} */
  threshold?: number;
}

/**
 * Frames a digit as MNIST did: the bounding box of its ink scaled, aspect ratio kept, to fit a
 * 20x20 box (area averaging), then placed in 28x28 so that its centre of mass falls on the centre.
 * A drawing on a large canvas comes out like the digits the models were trained on.
 */
export function centerDigit(ink: Float32Array, width: number, height: number, options: CenterDigitOptions = {}): Uint8Array {
  checkImage('ink', ink, width, height, 1);
  const box = options.box ?? DIGIT_BOX;
  const threshold = options.threshold ?? DEFAULT_INK_THRESHOLD;
  if (!Number.isInteger(box) || box < 1 || box > DIGIT_SIZE) throw new InvalidArgumentError('box', `must be an integer from 1 to ${DIGIT_SIZE}, got ${box}`);
  let [left, top, right, bottom] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > threshold) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  if (right < 0) throw new InvalidArgumentError('ink', `the image holds no ink above ${threshold}: nothing to frame`);
  const [bw, bh] = [right - left + 1, bottom - top + 1];
  const scale = box / Math.max(bw, bh);
  const [fw, fh] = [Math.max(1, Math.round(bw * scale)), Math.max(1, Math.round(bh * scale))];
  const fitted = resampleArea(ink, width, { x: left, y: top, width: bw, height: bh }, fw, fh);
  let [mass, mx, my] = [0, 0, 0];
  for (let y = 0; y < fh; y++) {
    for (let x = 0; x < fw; x++) {
      const v = fitted[y * fw + x];
      mass += v;
      mx += v * x;
      my += v * y;
    }
  }
  // In pixel-index coordinates MNIST's digits have their centre of mass at (14, 14) (the test
  // set's mean is 14.01, 13.99). Whole-pixel shift, as MNIST's own centring did; clamped so the
  // digit stays inside the frame.
  const centre = DIGIT_SIZE / 2;
  const dx = Math.min(DIGIT_SIZE - fw, Math.max(0, Math.round(centre - mx / mass)));
  const dy = Math.min(DIGIT_SIZE - fh, Math.max(0, Math.round(centre - my / mass)));
  const out = new Float32Array(IMAGE_SIZE);
  for (let y = 0; y < fh; y++) out.set(fitted.subarray(y * fw, (y + 1) * fw), (y + dy) * DIGIT_SIZE + dx);
  return toBytes(out);
}

/** A drawing's RGBA pixels (a canvas's `ImageData.data`) as an MNIST digit: {@link rgbaToInk} then {@link centerDigit}. */
export function drawingToDigit(rgba: ArrayLike<number>, width: number, height: number, options?: CenterDigitOptions): Uint8Array {
  return centerDigit(rgbaToInk(rgba, width, height), width, height, options);
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
export function predictDigits(
  model: tf.LayersModel,
  images: readonly Uint8Array[],
  options: { normalization: string; loss: string },
): Prediction[] {
  const outputIsLogits = options.loss === 'softmax-cross-entropy';
  if (images.length === 0) return [];
  const flat = new Uint8Array(images.length * IMAGE_SIZE);
  images.forEach((img, i) => flat.set(img, i * IMAGE_SIZE));
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const scores = tf.tidy(() => {
    const x = tf.tensor(normalizePixels(flat, options.normalization as Normalization), [images.length, ...inputShape]);
    const out = model.apply(x, { training: false }) as tf.Tensor;
    return (outputIsLogits ? tf.softmax(out) : out).arraySync() as number[][];
  });
  return scores.map((s) => ({ digit: s.indexOf(Math.max(...s)), scores: s }));
}
