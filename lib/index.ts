/**
 * tfjs-mnist-nets: classic handwritten-digit networks reproduced in TensorFlow.js.
 *
 * The data flows one way: IDX bytes -> typed arrays (datasets) -> tensors -> model (models) ->
 * training -> metrics (evaluate) -> report. Each stage is exported from here.
 */

// Errors
export {
  MnistNetsError,
  IdxFormatError,
  FileError,
  DatasetError,
  BackendUnavailableError,
  InvalidArgumentError,
  KernelError,
  ModelIOError,
  TrainingError,
} from './errors';

// IDX files
export { parseIdx, encodeIdx, readIdxFile, writeIdxFile, IDX_TYPES } from './idx';
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
export { enableWasmThreads } from './kernels/threads';

// Models
export { buildMlp } from './models/mlp';
export type { MlpOptions } from './models/mlp';
export { buildTwoLayerNet } from './models/two-layer-net';
export type { TwoLayerNetOptions } from './models/two-layer-net';
export { buildCnn } from './models/cnn';
export type { CnnOptions } from './models/cnn';
export type { InitializerSpec } from './models/initializers';
export type { HiddenActivation, OutputActivation } from './models/common';
export { forwardFlops, trainingFlops, layerSummary } from './models/summary';

// Recipes: preset = builder + training options + what the source reports
export { PRESETS, PRESET_IDS, getPreset, recipeOptions } from './recipes';
export type { Preset, PresetId, Recipe, Family, RecipeOverrides } from './recipes';

// Training and evaluation
export { train } from './training/train';
export type { TrainOptions, TrainResult, TrainHistory, TrainData, EvalEntry, EpochEntry, BatchInfo } from './training/train';
export { evaluate } from './training/evaluate';
export type { Evaluation, EvaluateOptions } from './training/evaluate';
export { gradientCheck } from './training/gradcheck';
export type { GradientCheckOptions, GradientCheckResult } from './training/gradcheck';
export { lossFunction, LOSS_NAMES } from './training/losses';
export type { LossName, TargetValues } from './training/losses';
export { learningRateAt, describeOptimizer } from './training/optimizers';
export type { OptimizerConfig, LrPolicy } from './training/optimizers';
export type { Sampling } from './training/sampler';
export { silentProgress, formatProgress } from './training/progress';
export { stderrProgress } from './training/stderr-progress';
export type { ProgressSink, ProgressState } from './training/progress';

// Jobs: a preset end to end, and the benchmark
export { runTrainJob } from './jobs/train-job';
export type { TrainJobOptions, TrainJobResult } from './jobs/train-job';
export { runBench, writeBenchReport, benchTable } from './jobs/bench-job';
export type { BenchOptions, BenchResult, BenchModelResult } from './jobs/bench-job';

// Saving, loading, predicting
export { saveModel, loadModel, fileSystemHandler } from './io/model-io';
export type { ModelMetadata, SavedModel } from './io/model-io';
export { readDigitImages, predictDigits, digitToPng } from './io/images';
export type { Prediction } from './io/images';

// Reports
export { lineChartSvg, confusionMatrixSvg, barChartSvg, svgToPng, markdownTable } from './report';
export type { Series, LineChartOptions } from './report';
