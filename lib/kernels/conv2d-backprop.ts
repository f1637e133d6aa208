/**
 * Convolution gradients for the wasm backend, expressed as forward convolutions so that they run
 * on XNNPACK's convolution (about 11-17 GFLOP/s on one core here) instead of a generic loop
 * (Conv2DBackpropInput: ~1.4 GFLOP/s) or not at all (Conv2DBackpropFilter is not registered in
 * tfjs-backend-wasm 4.22).
 *
 * Layouts are NHWC throughout, filters [kh, kw, in, out], dilation 1 (tf.js refuses gradients of
 * dilated convolutions before a kernel is reached).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelError } from '../errors';
import { Scratch, originalKernels, requireInput } from './compose';

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Shape4 = [number, number, number, number];
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Largest stride area (sH * sW) for which Conv2DBackpropInput runs as a stride-1 convolution over
 * a zero-upsampled dy. That convolution does sH * sW times the useful arithmetic: measured on a
 * 5x5x32x64 filter at batch 50 it still beat the native generic loop 3.1x at stride 2 and 1.2x
 * at stride 3, so stride 4 (16x the arithmetic) is left to the native kernel.
 * @default 9
 */
export const MAX_UPSAMPLED_STRIDE_AREA = 9;

function shape4(t: tf.TensorInfo, what: string): Shape4 {
  if (t.shape.length !== 4) {
    throw new KernelError(what, `must be rank 4 (NHWC), got shape [${t.shape.join(', ')}]`);
  }
  return t.shape as Shape4;
}

function requireNhwc(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new KernelError(
      `${kernel}.dataFormat`,
      `the wasm backend supports 'NHWC' only (as its Conv2D does), got '${dataFormat}'`,
    );
  }
}

function explicitPad(top: number, bottom: number, left: number, right: number): ExplicitPadding {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * dW[i, j, c, o] = sum over n, p, q of x[n, p*sH + i - top, q*sW + j - left, c] * dy[n, p, q, o].
 *
 * Read with c as the batch, (i, j) as the output pixel, (p, q) as the filter tap and n as the
 * input channel, that sum is a forward convolution of xT = x as [C, H, W, N] with the filter
 * dyT = dy as [OH, OW, N, O], stride 1 and dilation (sH, sW). Its output [C, kh, kw, O] is the
 * filter gradient up to one transpose. Both transposes move far fewer bytes than the
 * convolution reads, so the whole kernel runs at XNNPACK's convolution speed.
 */
export function conv2DBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const x = requireInput(tf.Conv2DBackpropFilter, inputs, 'x');
  const dy = requireInput(tf.Conv2DBackpropFilter, inputs, 'dy');
  requireNhwc('Conv2DBackpropFilter', attrs.dataFormat);
  const xShape = shape4(x, 'Conv2DBackpropFilter.x');
  const dyShape = shape4(dy, 'Conv2DBackpropFilter.dy');
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const expectedDy = [batchSize, outHeight, outWidth, outChannels];
  if (dyShape.some((d, i) => d !== expectedDy[i])) {
    throw new KernelError(
      'Conv2DBackpropFilter.dy',
      `shape [${dyShape.join(', ')}] does not match the convolution's output [${expectedDy.join(', ')}]`,
    );
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new KernelError('Conv2DBackpropFilter', `needs float32 inputs, got ${x.dtype} and ${dy.dtype}`);
  }
  const { top, left } = info.padInfo;
  // Padding after the input that makes the inner convolution's output exactly kh x kw. It is
  // negative when the last input rows/columns are never read (e.g. 'valid' with a stride that
  // does not divide evenly); XNNPACK takes no negative padding, so those cases pad 0, produce
  // a slightly larger output and crop it.
  const bottom = filterHeight + (outHeight - 1) * strideHeight - inHeight - top;
  const right = filterWidth + (outWidth - 1) * strideWidth - inWidth - left;
  const padBottom = Math.max(0, bottom);
  const padRight = Math.max(0, right);

  const scratch = new Scratch(backend);
  try {
    const xT = scratch.transpose(x, [3, 1, 2, 0]);
    const dyT = scratch.transpose(dy, [1, 2, 0, 3]);
    let grad = scratch.run(
      'Conv2D',
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        dilations: [strideHeight, strideWidth],
        pad: explicitPad(top, padBottom, left, padRight),
        dataFormat: 'NHWC',
      } as unknown as tf.NamedAttrMap,
    );
    if (padBottom !== bottom || padRight !== right) {
      grad = scratch.run(
        'Slice',
        { x: grad },
        { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] },
      );
    }
    return scratch.final('Transpose', { x: grad }, { perm: [1, 2, 0, 3] });
  } finally {
    scratch.release();
  }
}

/**
 * dx = the convolution of dy, zero-upsampled by the stride, with the filter rotated by 180
 * degrees and its in/out channels swapped, padded so that the output has the input's size:
 * dx[n, h, w, c] = sum over i, j, o of U[n, h + top - i, w + left - j, o] * W[i, j, c, o].
 *
 * Runs on XNNPACK for stride 1 and, with the upsampling, for strides up to 3; the rest (larger
 * strides, explicit paddings wider than the filter, NCHW) goes to the backend's own kernel.
 */
export function conv2DBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend } = args;
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const dy = requireInput(tf.Conv2DBackpropInput, inputs, 'dy');
  const filter = requireInput(tf.Conv2DBackpropInput, inputs, 'filter');
  const original = originalKernels.get(tf.Conv2DBackpropInput);
  const fallback = (): tf.TensorInfo => {
    if (original == null) {
      throw new KernelError('Conv2DBackpropInput', "the wasm backend's own kernel was not captured before replacing it");
    }
    return original.kernelFunc(args) as tf.TensorInfo;
  };
  if (attrs.dataFormat != null && attrs.dataFormat !== 'NHWC') return fallback();
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return fallback();
  const filterShape = shape4(filter, 'Conv2DBackpropInput.filter');
  const dyShape = shape4(dy, 'Conv2DBackpropInput.dy');
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  if (dyShape[1] !== outHeight || dyShape[2] !== outWidth) return fallback();
  if (strideHeight * strideWidth > MAX_UPSAMPLED_STRIDE_AREA) return fallback();
  // Rows of the upsampled dy: the stride-1 case is dy itself; otherwise PadV2 appends s - 1
  // zero rows after every row, the last ones included.
  const upHeight = outHeight * strideHeight;
  const upWidth = outWidth * strideWidth;
  const top = filterHeight - 1 - info.padInfo.top;
  const left = filterWidth - 1 - info.padInfo.left;
  const bottom = inHeight + filterHeight - 1 - top - upHeight;
  const right = inWidth + filterWidth - 1 - left - upWidth;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return fallback();

  const scratch = new Scratch(backend);
  try {
    const flipped = scratch.run('Reverse', { x: filter }, { dims: [0, 1] });
    const rotated = scratch.transpose(flipped, [0, 1, 3, 2]);
    let source = dy;
    if (strideHeight > 1 || strideWidth > 1) {
      const [n, oh, ow, o] = dyShape;
      const spread = scratch.run('Reshape', { x: dy }, { shape: [n, oh, 1, ow, 1, o] });
      const padded = scratch.run(
        'PadV2',
        { x: spread },
        {
          paddings: [
            [0, 0],
            [0, 0],
            [0, strideHeight - 1],
            [0, 0],
            [0, strideWidth - 1],
            [0, 0],
          ],
          constantValue: 0,
        } as unknown as tf.NamedAttrMap,
      );
      source = scratch.run('Reshape', { x: padded }, { shape: [n, upHeight, upWidth, o] });
    }
    return scratch.final(
      'Conv2D',
      { x: source, filter: rotated },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: explicitPad(top, bottom, left, right),
        dataFormat: 'NHWC',
      } as unknown as tf.NamedAttrMap,
    );
  } finally {
    scratch.release();
  }
}
