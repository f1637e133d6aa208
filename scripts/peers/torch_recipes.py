#!/usr/bin/env python3
"""PyTorch (and NumPy) peer of tfjs-mnist-nets' seven presets, for speed and accuracy comparisons.

Each recipe here is the library's preset (lib/recipes/presets.ts, lib/models, lib/training):
same architecture, initialisation, loss, optimiser, batch size, sampling, input scaling and
length, written in plain PyTorch so that the same network can be timed on the same machine:
on CPU beside our wasm training, on CUDA beside our WebGPU training. `--impl numpy` runs
two-layer-net as source 004's own NumPy code (the speed the CPU issue compares against).

It reads the four MNIST IDX files itself (gzip + NumPy; no torchvision, no network) and runs on
PyTorch 1.13 (Debian's python3-torch, CPU) and on PyTorch 2.x with CUDA. float32 throughout,
TF32 off. The NumPy path needs no torch at all.

Usage (from the repository root):

  /usr/bin/python3 scripts/peers/torch_recipes.py --recipe two-layer-net --seed 1 --json
  /usr/bin/python3 scripts/peers/torch_recipes.py --recipe all --steps 200 --json > peer.json
  /usr/bin/python3 scripts/peers/torch_recipes.py --recipe cnn --steps 1000 --eval-interval 100
  python3 scripts/peers/torch_recipes.py --impl numpy --recipe two-layer-net --seed 1 --json
  python3 scripts/peers/torch_recipes.py --recipe cnn --device cuda --steps 20000 \\
      --max-seconds 600 --eval-interval 1000 --json       # on a CUDA machine

Flags: --recipe LIST|all (default two-layer-net,cnn), --device cpu|cuda, --impl torch|numpy, --steps N (default: the
recipe's own length), --seed N (default: drawn and reported), --threads N (default: all cores
this process may use), --warmup N (steps left out of the speed, default 5, at most half the
run), --max-seconds S (stop once training time reaches S), --eval-interval N (test accuracy
after step 0 and every N steps), --curve-interval N (loss curve window), --limit N (first N
training and N test images, for quick runs), --data-dir DIR (default $MNIST_DIR), --json.
Bad flags or data files: one line on stderr, exit 2. --threads also sets OMP/OPENBLAS/MKL_NUM_THREADS
unless they are already set.

Speed caveats on a CPU (measured on the 2-core development machine): Debian's python3-torch and
python3-numpy use whatever libblas.so.3 the system has; with only libblas3 (netlib's reference
BLAS) every dense layer runs ~10x slower than with OpenBLAS, and the script warns about it
(environment.reference_blas in the JSON). On cores that other processes also use, two or more
threads can be many times slower than one (OpenMP/BLAS threads waiting on each other): compare
runs with the same --threads, on an otherwise idle machine.

Output with --json: one object on stdout, progress on stderr:
  {"tool", "environment": {python, torch, cuda, cudnn, numpy, blas, device, device_name,
   cpu_model, cores, threads, tf32, os}, "data": {dir, load_seconds},
   "results": [{recipe, impl, device, seed, steps, planned_steps, stopped, batch_size,
     sampling, epoch_size, steps_per_epoch, epochs, warmup_steps, samples_per_sec,
     seconds_per_epoch, train_seconds, wall_seconds, test_accuracy, test_loss, test_count,
     loss_curve: [{step, loss}], evals: [{step, train_seconds, test_accuracy, test_loss}],
     params, ...}]}
samples_per_sec counts the steps after the warm-up, over training time alone (evaluations
excluded; on CUDA the clock is read after a device synchronisation). seconds_per_epoch is the
training split's size (60,000 images; prelu-mlp 56,000) over that rate.

Where the library's code and a source document differ, this follows the library: Adam is
tf.js's (epsilon added after the bias correction, eps 1e-8), not TensorFlow 1's form.
"""

import argparse
import gzip
import json
import math
import os
import platform
import re
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

PROG = 'torch_recipes.py'
TOOL_VERSION = 1

# Steps between device synchronisations on CUDA (loss read-back, time budget check, progress).
SYNC_INTERVAL = 50
# Steps left out of the samples/s figure by default (allocator and kernel warm-up).
DEFAULT_WARMUP = 5
# Seconds between progress lines on stderr.
PROGRESS_SECONDS = 5.0
# Evaluation batch: large enough to be fast, small enough for the cnn's activations on a CPU.
EVAL_BATCH = 500
# Source 003/004's `np.log(y + 1e-7)` guard.
CROSS_ENTROPY_EPSILON = 1e-7
# tf.js Adam as the library configures it (lib/training/optimizers.ts DEFAULT_ADAM_EPSILON).
ADAM_EPSILON = 1e-8
ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
# PyTorch's nn.PReLU() starting slope, as lib/models/mlp.ts DEFAULT_PRELU_ALPHA.
PRELU_ALPHA = 0.25
# The source's `weight_init_std` (lib/models/two-layer-net.ts).
TWO_LAYER_WEIGHT_STD = 0.01

MNIST_FILES = {
    'train_images': ('train-images-idx3-ubyte', 2051, (60000, 28, 28)),
    'train_labels': ('train-labels-idx1-ubyte', 2049, (60000,)),
    'test_images': ('t10k-images-idx3-ubyte', 2051, (10000, 28, 28)),
    'test_labels': ('t10k-labels-idx1-ubyte', 2049, (10000,)),
}


class UsageError(Exception):
    """A bad flag or data file: one line on stderr, exit 2."""


class TrainingError(Exception):
    """Training went wrong (a non-finite loss): one line on stderr, exit 1."""


@dataclass(frozen=True)
class Recipe:
    """One preset of lib/recipes/presets.ts. Initialisers are (kind, value) pairs."""
    id: str
    source: str
    params: int
    loss: str  # 'quadratic' | 'cross-entropy' | 'softmax-cross-entropy'
    optimizer: Dict[str, object]
    batch_size: int
    sampling: str  # 'shuffle' | 'replacement' | 'sequential' | 'ordered'
    log_interval: int
    layers: Tuple[int, ...] = ()  # MLP sizes, input to output; empty for the cnn
    hidden: str = 'sigmoid'
    output: str = 'linear'
    use_bias: bool = True
    kernel_init: Tuple[str, float] = ('normal', 1.0)
    bias_init: Tuple[str, float] = ('zeros', 0.0)
    epochs: Optional[int] = None
    steps: Optional[int] = None
    normalization: str = 'unit'  # 'unit' x/255, 'offset' x/255*0.99+0.01
    targets: Tuple[float, float] = (0.0, 1.0)  # (off, on)
    train_limit: Optional[int] = None


RECIPES: Dict[str, Recipe] = {r.id: r for r in [
    Recipe('mlp', '000', 31_810, 'quadratic', {'kind': 'sgd', 'lr': 3.0}, 100, 'shuffle', 600,
           layers=(784, 40, 10), hidden='sigmoid', output='sigmoid',
           kernel_init=('normal', 1.0), bias_init=('normal', 1.0), epochs=13),
    Recipe('deep-mlp', '000', 1_196_810, 'softmax-cross-entropy', {'kind': 'adam', 'lr': 1e-3}, 100, 'shuffle', 600,
           layers=(784, 500, 1000, 300, 10), hidden='relu',
           kernel_init=('normal', 1.0), bias_init=('normal', 1.0), epochs=13),
    Recipe('tanh-mlp', '001', 42_310, 'softmax-cross-entropy',
           {'kind': 'momentum', 'lr': 0.1, 'momentum': 0.9, 'weight_decay': 0.001, 'inv_gamma': 0.0005, 'inv_power': 0.75},
           100, 'sequential', 100, layers=(784, 50, 50, 10), hidden='tanh',
           kernel_init=('xavier-plus-one', 0.0), bias_init=('zeros', 0.0), steps=800),
    Recipe('mse-mlp', '002', 158_800, 'quadratic', {'kind': 'sgd', 'lr': 0.2}, 1, 'ordered', 20_000,
           layers=(784, 200, 10), hidden='sigmoid', output='sigmoid', use_bias=False,
           kernel_init=('normal-fan-out', 0.0), epochs=2, normalization='offset', targets=(0.01, 0.99)),
    Recipe('two-layer-net', '003, 004', 39_760, 'cross-entropy', {'kind': 'sgd', 'lr': 0.1}, 100, 'replacement', 600,
           layers=(784, 50, 10), hidden='sigmoid', output='softmax',
           kernel_init=('normal', TWO_LAYER_WEIGHT_STD), bias_init=('zeros', 0.0), steps=10_000),
    Recipe('prelu-mlp', '003', 203_531, 'softmax-cross-entropy', {'kind': 'sgd', 'lr': 0.1}, 64, 'shuffle', 875,
           layers=(784, 256, 10), hidden='prelu',
           kernel_init=('torch-linear', 0.0), bias_init=('torch-linear', 0.0), epochs=9, train_limit=56_000),
    Recipe('cnn', '003', 3_274_634, 'softmax-cross-entropy', {'kind': 'adam', 'lr': 1e-4}, 50, 'shuffle', 100,
           kernel_init=('truncated-normal', 0.1), bias_init=('constant', 0.1), steps=1_000),
]}


# ----------------------------------------------------------------------------------------------
# Command line


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line (no usage block), exit 2."""

    def error(self, message):
        raise UsageError(message)


def number_flag(convert, accept, what):
    """An argparse type: `convert` the text, keep it when `accept(value)`, else say `what` it must be (argparse names the flag)."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f'must be {what}, got {text!r}')
        return value
    return parse


positive_int = number_flag(int, lambda v: v >= 1, 'a positive integer')
non_negative_int = number_flag(int, lambda v: v >= 0, 'an integer >= 0')
positive_float = number_flag(float, lambda v: v > 0 and math.isfinite(v), 'a positive number of seconds')


def parse_args(argv):
    p = OneLineParser(prog=PROG, description=__doc__.split('\n\n')[0])
    p.add_argument('--recipe', default='two-layer-net,cnn', help="comma list of presets, or 'all' (default: two-layer-net,cnn)")
    p.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    p.add_argument('--impl', choices=['torch', 'numpy'], default='torch',
                   help="numpy: source 004's NumPy TwoLayerNet (two-layer-net only, cpu)")
    p.add_argument('--steps', type=positive_int, help="optimiser steps (default: the recipe's own length)")
    p.add_argument('--seed', type=non_negative_int, help='seed (default: drawn at random and reported)')
    p.add_argument('--threads', type=positive_int, help='CPU threads (default: all cores this process may use)')
    p.add_argument('--warmup', type=non_negative_int, default=DEFAULT_WARMUP,
                   help=f'steps left out of samples/s (default {DEFAULT_WARMUP}; at most half the run)')
    p.add_argument('--max-seconds', type=positive_float, help='stop once training time reaches this')
    p.add_argument('--eval-interval', type=positive_int,
                   help='also measure test accuracy after step 0 and every N steps (not timed)')
    p.add_argument('--curve-interval', type=positive_int,
                   help="steps per loss-curve point (default: the recipe's log interval, at most a tenth of the run)")
    p.add_argument('--limit', type=positive_int, help='use the first N training and N test images')
    p.add_argument('--data-dir', help='folder with the four MNIST IDX files, gzipped or not (default $MNIST_DIR)')
    p.add_argument('--json', action='store_true', help='one JSON object on stdout; progress stays on stderr')
    args = p.parse_args(argv)

    names = list(RECIPES) if args.recipe == 'all' else [s.strip() for s in args.recipe.split(',') if s.strip()]
    unknown = [n for n in names if n not in RECIPES]
    if unknown or not names:
        raise UsageError(f"--recipe: unknown preset {', '.join(unknown) or repr(args.recipe)}; choose from {', '.join(RECIPES)} or all")
    args.recipes = [RECIPES[n] for n in names]
    if args.impl == 'numpy':
        if names != ['two-layer-net']:
            raise UsageError(f"--impl numpy runs two-layer-net only (source 004's code), not {', '.join(n for n in names if n != 'two-layer-net')}")
        if args.device != 'cpu':
            raise UsageError('--impl numpy runs on --device cpu only')
    if args.data_dir is None:
        args.data_dir = os.environ.get('MNIST_DIR')
        if not args.data_dir:
            raise UsageError('--data-dir: not given and $MNIST_DIR is not set')
    if not os.path.isdir(args.data_dir):
        raise UsageError(f'{args.data_dir}: --data-dir is not a directory')
    if args.threads is None:
        args.threads = available_cores()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), 'little') % 2**31
    return args


def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def log(message):
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# MNIST


def read_idx(np, path, magic, dims):
    """One IDX file, gzipped or not, checked against MNIST's magic number and dimensions."""
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:2] == b'\x1f\x8b':
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, ValueError) as e:
            raise UsageError(f'{path}: not a readable gzip file ({e})')
    header = 4 + 4 * len(dims)
    if len(raw) < header:
        raise UsageError(f'{path}: {len(raw)} bytes, shorter than an IDX header of {header}')
    (found,) = struct.unpack('>I', raw[:4])
    if found != magic:
        raise UsageError(f'{path}: magic number {found}, expected {magic} (unsigned bytes, {len(dims)} dimension(s))')
    shape = struct.unpack('>%dI' % len(dims), raw[4:header])
    if tuple(shape) != tuple(dims):
        raise UsageError(f'{path}: dimensions {list(shape)}, expected {list(dims)}')
    need = header + math.prod(dims)
    if len(raw) != need:
        raise UsageError(f'{path}: {len(raw)} bytes, expected {need} for dimensions {list(dims)}')
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_mnist(np, data_dir):
    """The four files as uint8 arrays: images [n, 28, 28], labels [n]."""
    out = {}
    for key, (name, magic, dims) in MNIST_FILES.items():
        candidates = [os.path.join(data_dir, name + '.gz'), os.path.join(data_dir, name)]
        path = next((c for c in candidates if os.path.isfile(c)), None)
        if path is None:
            raise UsageError(f'{candidates[0]}: MNIST file not found (nor {name} uncompressed)')
        out[key] = read_idx(np, path, magic, dims)
        if key.endswith('labels') and int(out[key].max()) > 9:
            raise UsageError(f'{path}: label {int(out[key].max())} is not a digit 0-9')
    return out


def normalised(np, images, normalization):
    """Pixels to float32 exactly as lib/datasets/dataset.ts does (a table computed in double)."""
    v = np.arange(256, dtype=np.float64)
    table = v / 255 if normalization == 'unit' else (v / 255) * 0.99 + 0.01
    return table.astype(np.float32)[images.reshape(images.shape[0], -1)]


# ----------------------------------------------------------------------------------------------
# Sampling (lib/training/sampler.ts), planned on the host in chunks


class Sampler:
    """
    Batches as the library's BatchSampler draws them: `shuffle` a fresh permutation per epoch;
    `replacement` uniform draws with replacement each step; `sequential` one shuffle then in
    order with wrap-around; `ordered` file order with wrap-around. It plans many steps at once as
    one index array, so a CUDA run uploads indices once per chunk instead of syncing every step.
    """

    def __init__(self, np, count, batch_size, sampling, seed):
        self.np = np
        self.count = count
        self.batch_size = batch_size
        self.sampling = sampling
        self.rng = np.random.default_rng([seed, 1])
        self.steps_per_epoch = -(-count // batch_size)
        self.order = np.arange(count, dtype=np.int64)
        if sampling in ('shuffle', 'sequential'):
            self.rng.shuffle(self.order)
        self.position = 0

    def chunk(self, steps):
        """(flat indices, [(start, end)] per step) for the next `steps` steps (or fewer, at an epoch's end)."""
        np, b, n = self.np, self.batch_size, self.count
        if self.sampling == 'replacement':
            flat = self.rng.integers(0, n, size=steps * b, dtype=np.int64)
            return flat, [(i * b, (i + 1) * b) for i in range(steps)]
        if self.sampling in ('sequential', 'ordered'):
            flat = self.order[(self.position + np.arange(steps * b)) % n]
            self.position = (self.position + steps * b) % n
            return flat, [(i * b, (i + 1) * b) for i in range(steps)]
        if self.position >= n:
            self.rng.shuffle(self.order)
            self.position = 0
        bounds = []
        start = self.position
        while len(bounds) < steps and self.position < n:
            end = min(self.position + b, n)
            bounds.append((self.position - start, end - start))
            self.position = end
        # A copy: the next epoch reshuffles `order` in place, and on CPU torch.from_numpy shares memory.
        return self.order[start:self.position].copy(), bounds


# ----------------------------------------------------------------------------------------------
# Shared bookkeeping of a run


@dataclass
class Run:
    """What one recipe run measured; becomes one entry of `results`."""
    recipe: Recipe
    impl: str
    device: str
    seed: int
    planned_steps: int
    warmup: int
    epoch_size: int
    steps: int = 0
    stopped: str = 'completed'
    train_seconds: float = 0.0
    warm_train_seconds: float = 0.0
    warm_samples: int = 0
    samples: int = 0
    losses: List[float] = field(default_factory=list)
    evals: List[Dict[str, float]] = field(default_factory=list)
    extra: Dict[str, object] = field(default_factory=dict)

    def result(self, wall_seconds, test, curve_interval):
        r = self.recipe
        timed_samples = self.samples - self.warm_samples
        timed_seconds = self.train_seconds - self.warm_train_seconds
        rate = timed_samples / timed_seconds if timed_seconds > 0 and timed_samples > 0 else None
        steps_per_epoch = -(-self.epoch_size // r.batch_size)
        return {
            'recipe': r.id,
            'source': r.source,
            'impl': self.impl,
            'device': self.device,
            'seed': self.seed,
            'steps': self.steps,
            'planned_steps': self.planned_steps,
            'stopped': self.stopped,
            'batch_size': r.batch_size,
            'sampling': r.sampling,
            'loss': r.loss,
            'optimizer': r.optimizer,
            'epoch_size': self.epoch_size,
            'steps_per_epoch': steps_per_epoch,
            'epochs': self.steps / steps_per_epoch,
            'warmup_steps': self.warmup,
            'samples_per_sec': rate,
            'seconds_per_epoch': self.epoch_size / rate if rate else None,
            'train_seconds': self.train_seconds,
            'wall_seconds': wall_seconds,
            'test_accuracy': test['accuracy'],
            'test_loss': test['loss'],
            'test_count': test['count'],
            'final_loss': self.losses[-1] if self.losses else None,
            'loss_curve': loss_curve(self.losses, curve_interval),
            'loss_curve_interval': curve_interval,
            'evals': self.evals,
            **self.extra,
        }


def loss_curve(losses, interval):
    """Mean loss of each window of `interval` steps, at the window's last step (1-based step count)."""
    points = []
    for start in range(0, len(losses), interval):
        window = losses[start:start + interval]
        points.append({'step': start + len(window), 'loss': sum(window) / len(window)})
    return points


def curve_interval_for(recipe, steps, requested):
    if requested:
        return requested
    return max(1, min(recipe.log_interval, steps // 10))


def recipe_steps(recipe, epoch_size, requested):
    if requested:
        return requested
    if recipe.steps is not None:
        return recipe.steps
    return recipe.epochs * -(-epoch_size // recipe.batch_size)


class Budget:
    """Training-time bookkeeping: when to read the clock, when the warm-up ends, when to stop."""

    def __init__(self, run, max_seconds, sync_interval):
        self.run = run
        self.max_seconds = max_seconds
        self.sync_interval = sync_interval
        self.segment_start = None
        self.last_check_step = 0
        self.last_check_seconds = 0.0

    def clock_due(self, step):
        """After `step` steps: must the clock be read now?"""
        if step == self.run.warmup or step == self.run.planned_steps or step % self.sync_interval == 0:
            return True
        if self.max_seconds is None:
            return False
        # Near the budget, read it every step so the run stops within a step of it.
        per_step = self.last_check_seconds / self.last_check_step if self.last_check_step else 0.0
        projected = self.last_check_seconds + (step - self.last_check_step + 1) * per_step * 1.5
        return projected >= self.max_seconds

    def at(self, step, seconds_now):
        """Records the training time after `step` steps; returns True when the budget is spent."""
        run = self.run
        total = run.train_seconds + (seconds_now - self.segment_start)
        self.last_check_step, self.last_check_seconds = step, total
        if step == run.warmup:
            run.warm_train_seconds = total
            run.warm_samples = run.samples
        return self.max_seconds is not None and total >= self.max_seconds

    def pause(self, seconds_now):
        self.run.train_seconds += seconds_now - self.segment_start
        self.segment_start = None

    def resume(self, seconds_now):
        self.segment_start = seconds_now


# ----------------------------------------------------------------------------------------------
# PyTorch


def import_torch(device, threads):
    try:
        import torch
    except ImportError as e:
        raise UsageError(f'--impl torch: this Python ({sys.executable}) cannot import torch ({e}); '
                         'use /usr/bin/python3 with Debian python3-torch, or --impl numpy')
    torch.set_num_threads(threads)
    if device == 'cuda':
        if not torch.cuda.is_available():
            raise UsageError(f'--device cuda: torch {torch.__version__} sees no CUDA device '
                             f'(built with CUDA {torch.version.cuda})')
        # float32 everywhere: no TF32 for matmuls or convolutions (2.x allows it for cuDNN by default).
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch


def init_tensor(torch, tensor, spec, fan_in, fan_out):
    """The library's InitializerSpec kinds (lib/models/initializers.ts), in place."""
    kind, value = spec
    with torch.no_grad():
        if kind == 'normal':
            tensor.normal_(0.0, value)
        elif kind == 'truncated-normal':
            # TensorFlow's truncated_normal: redrawn outside two standard deviations.
            torch.nn.init.trunc_normal_(tensor, 0.0, value, -2 * value, 2 * value)
        elif kind == 'xavier-plus-one':
            limit = math.sqrt(6) / math.sqrt(fan_in + fan_out + 1)
            tensor.uniform_(-limit, limit)
        elif kind == 'normal-fan-out':
            tensor.normal_(0.0, fan_out ** -0.5)
        elif kind == 'torch-linear':
            limit = 1 / math.sqrt(fan_in)
            tensor.uniform_(-limit, limit)
        elif kind == 'constant':
            tensor.fill_(value)
        elif kind == 'zeros':
            tensor.zero_()
        else:
            raise ValueError(f'unknown initializer {kind}')


def build_model(torch, recipe):
    """The preset's architecture and initialisation, as an nn.Sequential on the CPU."""
    nn = torch.nn
    r = recipe
    layers = []
    if r.layers:
        act = {'sigmoid': nn.Sigmoid, 'tanh': nn.Tanh, 'relu': nn.ReLU}
        for i, (fan_in, fan_out) in enumerate(zip(r.layers[:-1], r.layers[1:])):
            dense = nn.Linear(fan_in, fan_out, bias=r.use_bias)
            init_tensor(torch, dense.weight, r.kernel_init, fan_in, fan_out)
            if r.use_bias:
                init_tensor(torch, dense.bias, r.bias_init, fan_in, fan_out)
            layers.append(dense)
            last = i == len(r.layers) - 2
            name = r.output if last else r.hidden
            if name == 'prelu':
                layers.append(nn.PReLU(num_parameters=1, init=PRELU_ALPHA))
            elif name == 'softmax':
                layers.append(nn.Softmax(dim=1))
            elif name != 'linear':
                layers.append(act[name]())
    else:
        # lib/models/cnn.ts: conv5x5 SAME ReLU -> maxpool 2/2, twice; fc 3136->1024 ReLU; dropout; fc 10.
        # NCHW here, NHWC in tf.js: the flatten order differs, a fixed permutation of fc1's inputs.
        channels = 1
        for filters in (32, 64):
            conv = nn.Conv2d(channels, filters, 5, padding=2)
            init_tensor(torch, conv.weight, r.kernel_init, 25 * channels, 25 * filters)
            init_tensor(torch, conv.bias, r.bias_init, 25 * channels, 25 * filters)
            layers += [conv, nn.ReLU(), nn.MaxPool2d(2, 2)]
            channels = filters
        for fan_in, fan_out, relu in ((7 * 7 * 64, 1024, True), (1024, 10, False)):
            dense = nn.Linear(fan_in, fan_out)
            init_tensor(torch, dense.weight, r.kernel_init, fan_in, fan_out)
            init_tensor(torch, dense.bias, r.bias_init, fan_in, fan_out)
            layers += [nn.Flatten(), dense, nn.ReLU(), nn.Dropout(0.5)] if relu else [dense]
    model = nn.Sequential(*layers)
    count = sum(p.numel() for p in model.parameters())
    if count != r.params:
        raise AssertionError(f'{r.id}: built {count} parameters, the preset has {r.params}')
    return model


def trainable(torch, model):
    """[(parameter, is_kernel)]: weight decay applies to dense and conv kernels only, as in the library."""
    kernels = {id(m.weight) for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))}
    return [(p, id(p) in kernels) for p in model.parameters()]


def make_loss(torch, name):
    """(output, one-hot targets, labels) -> batch-mean loss, as lib/training/losses.ts."""
    F = torch.nn.functional
    if name == 'softmax-cross-entropy':
        return lambda out, targets, labels: F.cross_entropy(out, labels)
    if name == 'cross-entropy':
        return lambda out, targets, labels: -(targets * torch.log(out + CROSS_ENTROPY_EPSILON)).sum() / out.shape[0]
    if name == 'quadratic':
        return lambda out, targets, labels: 0.5 * ((out - targets) ** 2).sum() / out.shape[0]
    raise ValueError(f'unknown loss {name}')


class Sgd:
    """w -= lr g, on the batch-averaged gradient."""

    def __init__(self, torch, params, config):
        self.params = [p for p, _ in params]
        self.lr = config['lr']

    def step(self, grads, iteration):
        for p, g in zip(self.params, grads):
            p.add_(g, alpha=-self.lr)


class CaffeMomentum:
    """
    Source 001's update (the library's 'momentum' rule): v = m v + lr(iter) (g + wd w) with weight
    decay on kernels only, w -= v, lr(iter) = lr (1 + gamma iter)^-power (Caffe's "inv").
    torch.optim.SGD keeps lr outside the velocity, which differs once the policy moves lr.
    """

    def __init__(self, torch, params, config):
        self.params = params
        self.config = config
        self.velocity = [torch.zeros_like(p) for p, _ in params]

    def step(self, grads, iteration):
        c = self.config
        lr = c['lr'] * (1 + c['inv_gamma'] * iteration) ** -c['inv_power']
        for (p, is_kernel), g, v in zip(self.params, grads, self.velocity):
            if is_kernel and c['weight_decay']:
                g = g.add(p, alpha=c['weight_decay'])
            v.mul_(c['momentum']).add_(g, alpha=lr)
            p.sub_(v)


class Adam:
    """
    tf.js's tf.train.adam, which the library uses: w -= lr m^ / (sqrt(v^) + eps) with the bias
    corrections applied to m and v before eps is added (TensorFlow 1 instead folds them into lr,
    which makes eps sqrt(1 - b2^t) times smaller early on). Written out, rather than
    torch.optim.Adam, so both PyTorch 1.13 and 2.x run exactly this arithmetic.
    """

    def __init__(self, torch, params, config):
        self.params = [p for p, _ in params]
        self.lr = config['lr']
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def step(self, grads, iteration):
        self.t += 1
        bc1 = 1 - ADAM_BETA1 ** self.t
        bc2 = 1 - ADAM_BETA2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m.mul_(ADAM_BETA1).add_(g, alpha=1 - ADAM_BETA1)
            v.mul_(ADAM_BETA2).addcmul_(g, g, value=1 - ADAM_BETA2)
            denom = (v / bc2).sqrt_().add_(ADAM_EPSILON)
            p.addcdiv_(m, denom, value=-self.lr / bc1)


OPTIMIZERS = {'sgd': Sgd, 'momentum': CaffeMomentum, 'adam': Adam}


class DeviceClock:
    """perf_counter() that, on CUDA, first waits for the device, so queued work is counted."""

    def __init__(self, torch, device):
        self.sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)

    def now(self):
        self.sync()
        return time.perf_counter()


def split_tensors(torch, np, images, labels, recipe, device, limit):
    """Images (shaped for the model), one-hot targets with the recipe's values, and labels, on the device."""
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(normalised(np, images, recipe.normalization))
    if not recipe.layers:
        x = x.reshape(-1, 1, 28, 28)
    off, on = recipe.targets
    t = np.full((labels.shape[0], 10), off, dtype=np.float32)
    t[np.arange(labels.shape[0]), labels] = on
    y = torch.from_numpy(labels.astype(np.int64))
    return x.to(device), torch.from_numpy(t).to(device), y.to(device)


def evaluate_torch(torch, model, loss_fn, split):
    """Accuracy and mean loss (the recipe's loss and targets) over a whole split, dropout off."""
    x, t, y = split
    model.eval()
    correct = torch.zeros((), dtype=torch.int64, device=x.device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=x.device)
    with torch.no_grad():
        for start in range(0, x.shape[0], EVAL_BATCH):
            end = min(start + EVAL_BATCH, x.shape[0])
            out = model(x[start:end])
            correct += (out.argmax(1) == y[start:end]).sum()
            loss_sum += loss_fn(out, t[start:end], y[start:end]).double() * (end - start)
    model.train()
    n = x.shape[0]
    return {'accuracy': correct.item() / n, 'loss': loss_sum.item() / n, 'count': n}


def run_torch(torch, np, recipe, args, mnist):
    started = time.perf_counter()
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    train_count = min(x for x in (recipe.train_limit, args.limit, 60000) if x is not None)
    test_count = min(args.limit or 10000, 10000)
    train = split_tensors(torch, np, mnist['train_images'], mnist['train_labels'], recipe, device, train_count)
    test = split_tensors(torch, np, mnist['test_images'], mnist['test_labels'], recipe, device, test_count)
    model = build_model(torch, recipe).to(device).train()
    params = trainable(torch, model)
    weights = [p for p, _ in params]
    optimizer = OPTIMIZERS[recipe.optimizer['kind']](torch, params, recipe.optimizer)
    loss_fn = make_loss(torch, recipe.loss)
    sampler = Sampler(np, train_count, recipe.batch_size, recipe.sampling, args.seed)

    planned = recipe_steps(recipe, train_count, args.steps)
    run = Run(recipe, 'torch', args.device, args.seed, planned, min(args.warmup, planned // 2), train_count)
    loss_buf = torch.zeros(planned, device=device)
    clock = DeviceClock(torch, device)
    # CPU clocks cost nothing to read; CUDA needs a synchronisation, so it reads them every SYNC_INTERVAL steps.
    budget = Budget(run, args.max_seconds, SYNC_INTERVAL if device.type == 'cuda' else 1)
    x_train, t_train, y_train = train
    checked = 0
    last_progress = time.perf_counter()

    def check_losses(upto):
        nonlocal checked
        if upto > checked:
            window = loss_buf[checked:upto]
            if not bool(torch.isfinite(window).all()):
                bad = checked + int((~torch.isfinite(window)).nonzero()[0])
                raise TrainingError(f'{recipe.id}: loss became {loss_buf[bad].item()} at step {bad}; training stopped')
            checked = upto

    def evaluate_now(step_index):
        budget.pause(clock.now())
        e = evaluate_torch(torch, model, loss_fn, test)
        run.evals.append({'step': step_index, 'train_seconds': run.train_seconds,
                          'test_accuracy': e['accuracy'], 'test_loss': e['loss']})
        log(f"{recipe.id}: step {step_index}: test acc {e['accuracy'] * 100:.2f}%, loss {e['loss']:.4f}")
        budget.resume(clock.now())

    budget.resume(clock.now())
    step = 0
    stop = False
    while step < planned and not stop:
        flat, bounds = sampler.chunk(min(planned - step, max(1, 60000 // recipe.batch_size)))
        index = torch.from_numpy(flat).to(device)
        for start, end in bounds:
            idx = index[start:end]
            out = model(x_train.index_select(0, idx))
            loss = loss_fn(out, t_train.index_select(0, idx), y_train.index_select(0, idx))
            grads = torch.autograd.grad(loss, weights)
            with torch.no_grad():
                optimizer.step(grads, step)
                loss_buf[step] = loss.detach()
            step += 1
            run.samples += end - start
            if budget.clock_due(step):
                stop = budget.at(step, clock.now())
                if step % SYNC_INTERVAL == 0 or step == planned or stop:
                    check_losses(step)
                if time.perf_counter() - last_progress >= PROGRESS_SECONDS:
                    last_progress = time.perf_counter()
                    log(f'{recipe.id}: step {step}/{planned}, loss {loss_buf[step - 1].item():.4f}, '
                        f'{run.samples / max(budget.last_check_seconds, 1e-9):,.0f} samples/s')
            if args.eval_interval and (step - 1) % args.eval_interval == 0:
                evaluate_now(step - 1)
            if stop or step >= planned:
                if step < planned:
                    run.stopped = 'time-limit'
                break
    budget.pause(clock.now())
    run.steps = step
    check_losses(step)
    run.losses = loss_buf[:step].cpu().tolist()
    test_result = evaluate_torch(torch, model, loss_fn, test)
    if device.type == 'cuda':
        run.extra['cuda_peak_memory_mib'] = torch.cuda.max_memory_allocated() / 2**20
    run.extra['params'] = sum(p.numel() for p in weights)
    return run.result(time.perf_counter() - started, test_result, curve_interval_for(recipe, step, args.curve_interval))


# ----------------------------------------------------------------------------------------------
# NumPy: source 004's TwoLayerNet, as the source writes it


def numpy_two_layer_net(np):
    """Source 004's functions and simpleNet class, arithmetic unchanged (float64 weights)."""

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def softmax(x):
        if x.ndim == 2:
            x = x.T
            x = x - np.max(x, axis=0)
            y = np.exp(x) / np.sum(np.exp(x), axis=0)
            return y.T
        x = x - np.max(x)
        return np.exp(x) / np.sum(np.exp(x))

    def sigmoid_grad(x):
        return (1.0 - sigmoid(x)) * sigmoid(x)

    def cross_entropy_error(y, t):
        if y.ndim == 1:
            t = t.reshape(1, t.size)
            y = y.reshape(1, y.size)
        if t.size == y.size:
            t = t.argmax(axis=1)
        batch_size = y.shape[0]
        return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size

    class SimpleNet:
        def __init__(self, input_size, hidden_size, output_size, weight_init_std=TWO_LAYER_WEIGHT_STD):
            self.params = {
                'W1': weight_init_std * np.random.randn(input_size, hidden_size),
                'b1': np.zeros(hidden_size),
                'W2': weight_init_std * np.random.randn(hidden_size, output_size),
                'b2': np.zeros(output_size),
            }

        def predict(self, x):
            W1, W2 = self.params['W1'], self.params['W2']
            b1, b2 = self.params['b1'], self.params['b2']
            a1 = np.dot(x, W1) + b1
            z1 = sigmoid(a1)
            a2 = np.dot(z1, W2) + b2
            return softmax(a2)

        def loss(self, x, t):
            return cross_entropy_error(self.predict(x), t)

        def accuracy(self, x, t):
            y = np.argmax(self.predict(x), axis=1)
            t = np.argmax(t, axis=1)
            return np.sum(y == t) / float(x.shape[0])

        def gradient(self, x, t):
            W1, W2 = self.params['W1'], self.params['W2']
            b1, b2 = self.params['b1'], self.params['b2']
            grads = {}
            batch_num = x.shape[0]
            a1 = np.dot(x, W1) + b1
            z1 = sigmoid(a1)
            a2 = np.dot(z1, W2) + b2
            y = softmax(a2)
            dy = (y - t) / batch_num
            grads['W2'] = np.dot(z1.T, dy)
            grads['b2'] = np.sum(dy, axis=0)
            dz1 = np.dot(dy, W2.T)
            da1 = sigmoid_grad(a1) * dz1
            grads['W1'] = np.dot(x.T, da1)
            grads['b1'] = np.sum(da1, axis=0)
            return grads

    return SimpleNet


def run_numpy(np, recipe, args, mnist):
    """004's loop: np.random.choice batch, gradient, SGD update, then loss(x_batch) as it logs it."""
    started = time.perf_counter()
    train_count = min(args.limit or 60000, 60000)
    test_count = min(args.limit or 10000, 10000)
    # load_mnist(normalize=True, one_hot_label=True): float32 x/255, float64 one-hot labels.
    x_train = mnist['train_images'][:train_count].reshape(train_count, -1).astype(np.float32) / 255.0
    x_test = mnist['test_images'][:test_count].reshape(test_count, -1).astype(np.float32) / 255.0
    t_train = np.zeros((train_count, 10))
    t_train[np.arange(train_count), mnist['train_labels'][:train_count]] = 1
    t_test = np.zeros((test_count, 10))
    t_test[np.arange(test_count), mnist['test_labels'][:test_count]] = 1

    np.random.seed(args.seed)
    network = numpy_two_layer_net(np)(input_size=784, hidden_size=50, output_size=10)
    learning_rate = recipe.optimizer['lr']
    batch_size = recipe.batch_size
    planned = recipe_steps(recipe, train_count, args.steps)
    run = Run(recipe, 'numpy', 'cpu', args.seed, planned, min(args.warmup, planned // 2), train_count)
    budget = Budget(run, args.max_seconds, 1)
    last_progress = time.perf_counter()

    budget.resume(time.perf_counter())
    step = 0
    for i in range(planned):
        batch_mask = np.random.choice(train_count, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = network.gradient(x_batch, t_batch)
        for key in ('W1', 'b1', 'W2', 'b2'):
            network.params[key] -= learning_rate * grad[key]
        loss = network.loss(x_batch, t_batch)
        if not math.isfinite(loss):
            raise TrainingError(f'{recipe.id}: loss became {loss} at step {i}; training stopped')
        run.losses.append(float(loss))
        step = i + 1
        run.samples += batch_size
        stop = budget.at(step, time.perf_counter())
        if time.perf_counter() - last_progress >= PROGRESS_SECONDS:
            last_progress = time.perf_counter()
            log(f'{recipe.id} (numpy): step {step}/{planned}, loss {loss:.4f}, '
                f'{run.samples / max(budget.last_check_seconds, 1e-9):,.0f} samples/s')
        if args.eval_interval and i % args.eval_interval == 0:
            budget.pause(time.perf_counter())
            acc = network.accuracy(x_test, t_test)
            test_loss = network.loss(x_test, t_test)
            run.evals.append({'step': i, 'train_seconds': run.train_seconds,
                              'test_accuracy': float(acc), 'test_loss': float(test_loss)})
            log(f'{recipe.id} (numpy): step {i}: test acc {acc * 100:.2f}%, loss {test_loss:.4f}')
            budget.resume(time.perf_counter())
        if stop and step < planned:
            run.stopped = 'time-limit'
            break
    budget.pause(time.perf_counter())
    run.steps = step
    test_result = {'accuracy': float(network.accuracy(x_test, t_test)),
                   'loss': float(network.loss(x_test, t_test)), 'count': test_count}
    run.extra['params'] = sum(v.size for v in network.params.values())
    run.extra['dtype'] = str(network.params['W1'].dtype)
    run.extra['step_includes'] = "004's loop: gradient(x_batch), SGD update, loss(x_batch) (a second forward pass)"
    return run.result(time.perf_counter() - started, test_result, curve_interval_for(recipe, step, args.curve_interval))


# ----------------------------------------------------------------------------------------------
# Environment


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def numpy_blas(np):
    """Which BLAS NumPy was built with (NumPy 2.x and 1.x keep this in different places)."""
    try:
        config = np.show_config(mode='dicts')
        blas = config['Build Dependencies']['blas']
        return f"{blas.get('name')} {blas.get('version', '')}".strip()
    except (TypeError, KeyError):
        pass
    try:
        for key in ('openblas_info', 'blas_mkl_info', 'blis_info', 'blas_opt_info'):
            info = np.__config__.get_info(key)
            if info:
                return f"{key.replace('_info', '')}: {','.join(info.get('libraries', []))}"
    except AttributeError:
        pass
    return None


def loaded_blas_libraries():
    """The BLAS shared libraries this process has mapped (real paths), from /proc/self/maps."""
    found = []
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                path = line.split(None, 5)[-1].strip() if line.count(' ') >= 5 else ''
                name = os.path.basename(path)
                if re.match(r'lib(open)?blas|libmkl_|libblis|libflexiblas|libscipy_openblas', name):
                    real = os.path.realpath(path)
                    if real not in found:
                        found.append(real)
    except OSError:
        pass
    return found


def is_reference_blas(paths):
    """Debian's libblas3 (netlib's reference Fortran): libblas.so.3 under .../blas/."""
    return any(os.path.basename(os.path.dirname(p)) == 'blas' and os.path.basename(p).startswith('libblas.so') for p in paths)


def torch_blas(torch):
    """BLAS_INFO from torch's build configuration (pip wheels link MKL in statically)."""
    match = re.search(r'BLAS_INFO=([^,\s]+)', torch.__config__.show())
    return match.group(1) if match else None


def environment(np, torch, args):
    libraries = loaded_blas_libraries()
    env = {
        'python': platform.python_version(),
        'numpy': np.__version__,
        'blas': numpy_blas(np),
        'blas_libraries': libraries,
        'reference_blas': is_reference_blas(libraries),
        'blas_threads_env': os.environ.get('OPENBLAS_NUM_THREADS'),
        'torch': None,
        'cuda': None,
        'cudnn': None,
        'device': args.device,
        'device_name': cpu_model(),
        'cpu_model': cpu_model(),
        'cores': available_cores(),
        'threads': args.threads,
        'os': f'{platform.system()} {platform.release()} {platform.machine()}',
    }
    if torch is not None:
        env['torch'] = torch.__version__
        env['cuda'] = torch.version.cuda
        env['cudnn'] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        env['threads'] = torch.get_num_threads()
        env['torch_blas'] = torch_blas(torch)
        env['tf32'] = False if args.device == 'cuda' else None
        if args.device == 'cuda':
            props = torch.cuda.get_device_properties(0)
            env['device_name'] = torch.cuda.get_device_name(0)
            env['gpu_memory_mib'] = props.total_memory / 2**20
    return env


def summary_line(r):
    rate = f"{r['samples_per_sec']:,.0f} samples/s" if r['samples_per_sec'] else 'no timed steps'
    epoch = f", {r['seconds_per_epoch']:.2f} s/epoch" if r['seconds_per_epoch'] else ''
    return (f"{r['recipe']:<14} {r['impl']:<6} {r['device']:<5} {r['steps']:>6} steps (batch {r['batch_size']}): "
            f"{rate}{epoch}; test acc {r['test_accuracy'] * 100:.2f}%, loss {r['test_loss']:.4f}; "
            f"train {r['train_seconds']:.1f} s, wall {r['wall_seconds']:.1f} s")


def main(argv):
    args = parse_args(argv)
    # BLAS and OpenMP read their thread counts once, when loaded: set them before NumPy/torch load.
    for var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ.setdefault(var, str(args.threads))
    import numpy as np

    t0 = time.perf_counter()
    mnist = load_mnist(np, args.data_dir)
    load_seconds = time.perf_counter() - t0
    torch = import_torch(args.device, args.threads) if args.impl == 'torch' else None
    env = environment(np, torch, args)
    if env['reference_blas'] and args.device == 'cpu':
        log(f"{PROG}: warning: matrix products run on the reference BLAS ({', '.join(env['blas_libraries'])}), "
            'about 10x slower than OpenBLAS; the dense-layer speeds are not representative of '
            f"{'PyTorch' if torch is not None else 'NumPy'} (Debian: apt-get install libopenblas0-pthread)")
    log(f"{PROG}: {args.impl} {env['torch'] or ''} on {args.device} ({env['device_name']}), "
        f"{env['threads']} thread(s), seed {args.seed}; MNIST from {args.data_dir} in {load_seconds:.2f} s")

    results = []
    for recipe in args.recipes:
        optimizer = ', '.join(f'{k} {v}' for k, v in recipe.optimizer.items())
        log(f'{recipe.id}: {recipe.loss} loss, {optimizer}, batch {recipe.batch_size}, {recipe.sampling} sampling')
        r = run_torch(torch, np, recipe, args, mnist) if torch is not None else run_numpy(np, recipe, args, mnist)
        log(summary_line(r))
        results.append(r)

    if args.json:
        doc = {'tool': PROG, 'tool_version': TOOL_VERSION, 'environment': env,
               'data': {'dir': os.path.abspath(args.data_dir), 'load_seconds': load_seconds}, 'results': results}
        print(json.dumps(doc, indent=1))
    else:
        for r in results:
            print(summary_line(r))
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except UsageError as e:
        print(f'{PROG}: error: {e}', file=sys.stderr)
        sys.exit(2)
    except TrainingError as e:
        print(f'{PROG}: error: {e}', file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f'{PROG}: interrupted', file=sys.stderr)
        sys.exit(130)
