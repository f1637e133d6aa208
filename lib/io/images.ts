/** Digit images from files under Node (PNG, IDX); the pixel work itself is in digits.ts. */
import { promises as fsp } from 'fs';
import { PNG } from 'pngjs';
import { FileError, InvalidArgumentError } from '../errors';
import { parseIdx } from '../idx';
import { DIGIT_SIZE, rgbaToInk, scaleDigit } from './digits';
import { greyscalePng } from './grey-png';

export { DIGIT_SIZE, predictDigits, predictDigitsAsync } from './digits';
export type { Prediction } from './digits';

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
  return scaleDigit(rgbaToInk(png.data, png.width, png.height), png.width, png.height);
}

/** Writes 784 bytes as an 8-bit greyscale 28x28 PNG (colour type 0, no alpha): tests and examples make inputs with it. */
export function digitToPng(pixels: Uint8Array): Buffer {
  if (pixels == null || pixels.length !== DIGIT_SIZE * DIGIT_SIZE) throw new InvalidArgumentError('pixels', `must hold 784 bytes, got ${pixels?.length}`);
  return greyscalePng(pixels, DIGIT_SIZE, DIGIT_SIZE);
}
