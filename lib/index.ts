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
export { parseIdx, encodeIdx, readIdxFile, writeIdxFile } from './idx';

// Datasets
export {
  loadMnist,
  loadFashionMnist,
  loadDataset,
  locateDataset,
  downloadDataset,
  verifyDatasetFiles,
  defaultCacheDir,
  MNIST_MIRRORS,
  FASHION_MNIST_MIRRORS,
} from './datasets';
export type { LoadOptions } from './datasets';

// Backends
export { useBackend, probeBackends, doctor, formatDoctor, explainNativeLoadError, BACKEND_CHOICES, recommendedWasmThreads } from './backends';
export type { BackendChoice, BackendName, BackendSelection, BackendStatus, DoctorReport, UseBackendOptions, WasmWorkload } from './backends';
export { enableWasmThreads } from './kernels/threads';

// Progress on stderr (the rest of training is in the core above)
export { stderrProgress } from './training/stderr-progress';

// Jobs: a preset end to end, and the benchmark
export { runTrainJob } from './jobs/train-job';
export type { TrainJobOptions, TrainJobResult } from './jobs/train-job';
export { runBench, writeBenchReport, benchTable, DEFAULT_BENCH_SECONDS, DEFAULT_BENCH_SEEDS } from './jobs/bench-job';
export type { BenchOptions, BenchResult, BenchModelResult, BenchSeedRun, BenchComparison } from './jobs/bench-job';

// Saving, loading, predicting
export { saveModel, loadModel, fileSystemHandler } from './io/model-io';
export type { SavedModel, SaveModelOptions, LoadModelOptions } from './io/model-io';
export { readDigitImages, predictDigitsAsync, digitToPng } from './io/images';

// Statistics over runs: summaries, Student's t, intervals of a difference, reading curves
export { summarize, welchInterval, bootstrapInterval, differenceInterval, studentTQuantile, studentTCdf, interpolateAt, firstCrossing } from './stats';
export type { Summary, DifferenceInterval, IntervalMethod } from './stats';

// Reports
export { confusionMatrixSvg, barChartSvg, svgToPng, markdownTable, digitGridSvg } from './report';

