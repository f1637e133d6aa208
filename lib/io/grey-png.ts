/**
 * Grey bytes to PNG, in a module of its own so that the report's digit grids encode their images
 * as `digitToPng` does without loading tf.js and the dataset modules that images.ts brings.
 */
import { PNG } from 'pngjs';

/** Encodes `width` x `height` bytes, one a pixel row by row, as an 8-bit greyscale PNG (colour type 0, no alpha). */
export function greyscalePng(grey: Uint8Array, width: number, height: number): Buffer {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  // pngjs takes one byte a pixel for greyscale input without alpha.
  png.data = Buffer.from(grey.buffer, grey.byteOffset, grey.length);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
}
