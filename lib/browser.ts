/**
 * tfjs-mnist-nets in a browser: the same models, presets, training loop, evaluation and IDX
 * parsing as the Node entry (lib/index.ts), with loaders that fetch instead of reading files.
 * Nothing reachable from here imports a Node module (fs, zlib, path, ...): __tests__/browser.test.ts
 * bundles it for the browser and fails on any Node builtin in the import graph.
 *
 * Left out, because they are Node's: finding and downloading datasets on disk, saving models to
 * directories, the CLI, `doctor`, tfjs-node-gpu and Dawn. Bundlers pick this file through the
 * package's `browser` export condition; `tfjs-mnist-nets/browser` names it explicitly.
 */

// Errors, models, recipes, training and evaluation: the same core as the Node entry
export * from './portable';

// IDX bytes (gzip through DecompressionStream)
export { parseIdxAsync, encodeIdxAsync, encodeIdxPlain, IDX_TYPES, idxTypeCode, idxTypeFromCode, idxElementSize } from './idx-core';
export type { IdxArray, IdxData, IdxType, IdxEncodeOptions } from './idx-core';

// Datasets: what a dataset is, loading it over HTTP, tensors
export { loadDatasetFromUrl, loadMnistFromUrl } from './datasets/url';
export type { UrlLoadOptions } from './datasets/url';
export { makeDataset, rawSplit, normalizePixels, checkImagesArray, checkLabelsArray, NORMALIZATIONS, DEFAULT_NORMALIZATION } from './datasets/dataset';
export type { Dataset, DataSplit, RawSplit, DatasetSource, Normalization, SplitLimit } from './datasets/dataset';
export { MNIST_FILES, FASHION_MNIST_FILES, DATASET_NAMES, IMAGE_SIZE, NUM_CLASSES, MNIST_CLASS_NAMES, FASHION_MNIST_CLASS_NAMES, fileNameVariants } from './datasets/catalog';
export type { DatasetName } from './datasets/catalog';
export { sampleClassBytes, sampleClassFile, splitSampleDigits, SAMPLE_TRAIN_FRACTION } from './datasets/sample-digits';
export { imagesToTensor, labelsToTensor, splitToTensors } from './datasets/tensors';
export type { ImageLayout, LabelEncoding } from './datasets/tensors';

// Backends in the page
export { probeBrowserBackends, useBrowserBackend, BROWSER_BACKENDS } from './backends/browser';
export type { BrowserBackendName, BrowserBackendStatus, BrowserBackendOptions } from './backends/browser';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './kernels';
export { WEBGPU_TRAINING_KERNELS, registerWebGPUTrainingKernels, unregisterWebGPUTrainingKernels } from './kernels/webgpu';

// Digits from a canvas, predictions, models saved by `mnist-nets train --save`
export { centerDigit, drawingToDigit, rgbaToInk, scaleDigit, predictDigits, DIGIT_SIZE, DIGIT_BOX } from './io/digits';
export type { CenterDigitOptions, Prediction } from './io/digits';
export { loadModelFromUrl, loadModelFromFiles } from './io/model-url';
export type { LoadedModel, PickedFile } from './io/model-url';
export { MODEL_FILE, METADATA_KEY, HISTORY_FILE, parseModelJson, modelMetadata, recordedMetadata, resolveMetadata, modelShape } from './io/model-format';
export type { ModelMetadata, ModelJson, MetadataHints, ModelShape, ResolvedMetadata } from './io/model-format';

// Charts (SVG strings: a page sets them as innerHTML)
export { lineChartSvg } from './report/lineChart';
export type { Series, LineChartOptions } from './report/lineChart';
