/**
 * tfjs-mnist-nets: classic handwritten-digit networks reproduced in TensorFlow.js.
 *
 * The data flows one way: IDX bytes -> typed arrays (datasets) -> tensors -> model (models) ->
 * training -> metrics (evaluate) -> report. Each stage is exported from here.
 */

// Everything the browser entry exports (the platform-neutral core: errors, models, recipes,
// training, evaluation; and loaders by URL, browser backends, canvas digits), so that code written
// for the browser entry type-checks and runs against this one too. The Node-only parts follow.
export * from './browser';

// IDX files
export { parseIdx, encodeIdx, readIdxFile, writeIdxFile, parseIdxAsync, encodeIdxAsync, IDX_TYPES } from './idx';
export type { IdxArray, IdxData, IdxType, IdxEncodeOptions } from './idx';

// Datasets
export {
  loadMnist,
  loadFashionMnist,
  loadDataset,
  locateDataset,
  downloadDataset,
  verifyDatasetFiles,
  normalizePixels,
  imagesToTensor,
  labelsToTensor,
  splitToTensors,
  defaultCacheDir,
  MNIST_FILES,
  FASHION_MNIST_FILES,
  MNIST_MIRRORS,
  FASHION_MNIST_MIRRORS,
  DATASET_NAMES,
  NORMALIZATIONS,
} from './datasets';
export { loadDatasetFromUrl, loadMnistFromUrl } from './datasets/url';
export type { UrlLoadOptions } from './datasets/url';
export type {
  Dataset,
  DataSplit,
  DatasetName,
  DatasetSource,
  LoadOptions,
  Normalization,
  ImageLayout,
  LabelEncoding,
} from './datasets';

// Backends
export { useBackend, probeBackends, doctor, formatDoctor, explainNativeLoadError, BACKEND_CHOICES, recommendedWasmThreads } from './backends';
export type { BackendChoice, BackendName, BackendSelection, BackendStatus, DoctorReport, UseBackendOptions, WasmWorkload } from './backends';
export { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './kernels';
export { WEBGPU_TRAINING_KERNELS, registerWebGPUTrainingKernels, unregisterWebGPUTrainingKernels } from './kernels/webgpu';
export { enableWasmThreads } from './kernels/threads';

// Progress on stderr (the rest of training is in the core above)
export { stderrProgress } from './training/stderr-progress';

// Jobs: a preset end to end, and the benchmark
export { runTrainJob } from './jobs/train-job';
export type { TrainJobOptions, TrainJobResult } from './jobs/train-job';
export { runBench, writeBenchReport, benchTable, DEFAULT_BENCH_SECONDS, DEFAULT_BENCH_SEEDS } from './jobs/bench-job';
export type { BenchOptions, BenchResult, BenchModelResult, BenchSeedRun, BenchComparison } from './jobs/bench-job';

// Saving, loading, predicting
export { saveModel, loadModel, fileSystemHandler, HISTORY_FILE, METADATA_KEY } from './io/model-io';
export type { ModelMetadata, SavedModel, SaveModelOptions, LoadModelOptions, MetadataHints } from './io/model-io';
export { readDigitImages, predictDigits, predictDigitsAsync, digitToPng } from './io/images';
export { centerDigit, drawingToDigit } from './io/digits';
export type { Prediction } from './io/images';

// Statistics over runs: summaries, Student's t, intervals of a difference, reading curves
export { summarize, welchInterval, bootstrapInterval, differenceInterval, studentTQuantile, studentTCdf, interpolateAt, firstCrossing } from './stats';
export type { Summary, DifferenceInterval, IntervalMethod } from './stats';

// Reports
export { lineChartSvg, confusionMatrixSvg, barChartSvg, svgToPng, markdownTable, digitGridSvg } from './report';
export type { Series, LineChartOptions } from './report';
