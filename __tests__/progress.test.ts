import { spawnSync } from 'child_process';
import * as fs from 'fs';
import type { ProgressState } from '../lib/training/progress';
import { formatProgress } from '../lib/training/progress';
import {
  BAR_MAX_WIDTH,
  liveProgressLine,
  progressBar,
  progressFraction,
  stderrProgress,
  writeAboveProgress,
} from '../lib/training/stderr-progress';

import { BUILT_CLI as CLI, dataDirArgs, mnistEnv } from './helpers/run-node';
import { skipUnless } from './helpers/skips';

const state = (over: Partial<ProgressState> = {}): ProgressState => ({
  epoch: 3,
  epochs: 17,
  step: 1500,
  steps: 10000,
  loss: 0.23456,
  elapsedSeconds: 12,
  samplesPerSec: 29556.4,
  etaSeconds: 68,
  accuracy: { value: 0.9312, split: 'test' },
  ...over,
});

/** A stand-in for process.stderr that records what is written. */
function fakeStream(isTTY: boolean, columns = 120): NodeJS.WriteStream & { text: () => string } {
  const chunks: string[] = [];
  return {
    isTTY,
    columns,
    write(chunk: string) {
      chunks.push(chunk);
      return true;
    },
    text: () => chunks.join(''),
  } as unknown as NodeJS.WriteStream & { text: () => string };
}

describe('the live line', () => {
  test('fraction: by steps, by a time budget, whichever is further, clamped', () => {
    expect(progressFraction(state({ etaSeconds: undefined }))).toBeCloseTo(0.15);
    // A time budget running out before the steps do.
    expect(progressFraction(state({ step: 100, elapsedSeconds: 45, etaSeconds: 15 }))).toBeCloseTo(0.75);
    expect(progressFraction(state({ steps: Infinity, elapsedSeconds: 30, etaSeconds: 30 }))).toBeCloseTo(0.5);
    expect(progressFraction(state({ steps: Infinity, etaSeconds: undefined }))).toBeUndefined();
    expect(progressFraction(state({ step: 10000 }))).toBe(1);
  });

  test('bar', () => {
    expect(progressBar(0, 10)).toBe('[          ]');
    expect(progressBar(0.45, 10)).toBe('[====>     ]');
    expect(progressBar(1, 10)).toBe('[==========]');
    expect(progressBar(7, 4)).toBe('[====]');
  });

  test('fits the terminal, dropping the bar, then the least needed parts, never the ETA', () => {
    const wide = liveProgressLine(state(), 160);
    expect(wide).toBe(
      ` 15% [====>${' '.repeat(BAR_MAX_WIDTH - 5)}] epoch 3/17 step 1500/10000 loss 0.2346 test acc 93.12% 29,556 samples/s elapsed 12s ETA 1m08s`,
    );
    for (const columns of [40, 60, 80, 100, 120]) {
      const line = liveProgressLine(state(), columns);
      expect(line.length).toBeLessThan(columns);
      expect(line).toMatch(/^ 15% /);
      if (columns >= 60) expect(line).toMatch(/ETA 1m08s$/);
    }
    expect(liveProgressLine(state(), 80)).toBe(' 15% epoch 3/17 step 1500/10000 loss 0.2346 29,556 samples/s ETA 1m08s');
    // No fraction known: no percentage, no bar.
    expect(liveProgressLine(state({ steps: Infinity, etaSeconds: undefined }), 200)).toBe(formatProgress(state({ steps: Infinity, etaSeconds: undefined })));
  });
});

describe('stderrProgress', () => {
  test('on a terminal: one line rewritten in place; epoch and evaluation lines fold in; other lines go above it', () => {
    const stream = fakeStream(true);
    const sink = stderrProgress({ stream });
    sink.update(state({ step: 1, elapsedSeconds: 0.1, etaSeconds: 600 }));
    sink.log('epoch 1/17 done: mean loss 0.5000, 3.0 s elapsed', 'epoch');
    sink.log('step 599: train acc 93.00%, test acc 92.00%', 'eval');
    writeAboveProgress('interrupted: finishing the current step', stream);
    sink.update(state({ step: 10000, etaSeconds: 0 }));
    sink.done();
    const out = stream.text();
    expect(out).not.toContain('epoch 1/17 done');
    expect(out).not.toContain('step 599:');
    expect(out.split('\n')).toHaveLength(3);
    expect(out).toMatch(/^\r\x1b\[K {2}0% \[ +\] epoch 3\/17 step 1\/10000/);
    expect(out).toContain('\r\x1b[Kinterrupted: finishing the current step\n\r\x1b[K  0% ');
    expect(out).toMatch(/\r\x1b\[K100% \[=+\] epoch 3\/17 step 10000\/10000 .*ETA 0s\n$/);
    // Nothing on screen any more: a later line is written plainly.
    writeAboveProgress('next', stream);
    expect(stream.text().endsWith('0s\nnext\n')).toBe(true);
  });

  test('in a log (or live: false): every epoch and evaluation line, progress lines at most every interval', () => {
    for (const stream of [fakeStream(false), fakeStream(true)]) {
      const sink = stderrProgress({ stream, intervalSeconds: 3600, live: stream.isTTY ? false : undefined });
      sink.update(state({ step: 1 }));
      sink.update(state({ step: 2 }));
      sink.log('epoch 1/17 done: mean loss 0.5000, 3.0 s elapsed', 'epoch');
      sink.log('step 599: train acc 93.00%, test acc 92.00%', 'eval');
      sink.update(state({ step: 3 }));
      sink.done();
      expect(stream.text()).toBe(
        `${formatProgress(state({ step: 1 }))}\nepoch 1/17 done: mean loss 0.5000, 3.0 s elapsed\nstep 599: train acc 93.00%, test acc 92.00%\n`,
      );
    }
  });
});

const script = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
const describeTty = skipUnless(script !== undefined, 'no `script` command to give the CLI a pseudo-terminal (apt-get install bsdutils)').describe;

describeTty('under a pseudo-terminal (script)', () => {
  /** Runs the CLI with stdout and stderr on a pseudo-terminal; returns everything the terminal got. */
  function onTerminal(args: string[]): { code: number | null; out: string } {
    const command = ['stty cols 120;', process.execPath, CLI, ...args].map((a) => (a.endsWith(';') ? a : `'${a}'`)).join(' ');
    const r = spawnSync(script as string, ['-qfec', command, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, ...mnistEnv() },
      timeout: 300_000,
    });
    return { code: r.status, out: r.stdout };
  }
  const trainArgs = ['train', '--model', 'two-layer-net', '--steps', '600', '--limit', '6000', '--backend', 'wasm', ...dataDirArgs()];

  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
  });

  test('train: one line updated in place, no epoch lines scrolling, left as the summary', () => {
    const { code, out } = onTerminal(trainArgs);
    expect(code).toBe(0);
    // From the first live line (the lines above it: the backend, and offline the npm sample's warning).
    const progress = out.slice(out.lastIndexOf('\n', out.indexOf('\x1b[K')) + 1, out.indexOf('two-layer-net on mnist'));
    // 600 steps of batch 100 on 6,000 images: 10 epochs and 2 evaluations, none on its own line.
    expect(progress.split('\n')).toHaveLength(2);
    expect((progress.match(/\r\x1b\[K/g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect(progress).not.toMatch(/done: mean loss|step \d+: train acc/);
    const lines = progress.split('\r\x1b[K').filter(Boolean);
    for (const l of lines) expect(l.replace(/\r?\n$/, '').length).toBeLessThan(120);
    expect(lines[lines.length - 1]).toMatch(/^100% \[=+\] epoch 10\/10 step 600\/600 loss \d\.\d{4} test acc \d+\.\d\d% [\d,]+ samples\/s elapsed \d+s ETA 0s\r\n$/);
  });

  test('train --json: plain lines even on a terminal', () => {
    const { code, out } = onTerminal([...trainArgs, '--json']);
    expect(code).toBe(0);
    expect(out).not.toContain('\x1b[K');
    expect(out).toContain('epoch 10/10 done: mean loss');
  });

  test('bench: one live line per run, from each model\'s own process', () => {
    const { code, out } = onTerminal(['bench', '--models', 'two-layer-net,mlp', '--seeds', '2', '--steps', '300', '--limit', '3000', '--backend', 'wasm', ...dataDirArgs()]);
    expect(code).toBe(0);
    const finals = out.split('\n').filter((l) => l.includes('\x1b[K'));
    expect(finals).toHaveLength(4);
    for (const l of finals) expect(l).toMatch(/100% \[=+\] epoch \d+\/\d+ step 300\/300 .*ETA 0s\r$/);
    for (const model of ['two-layer-net', 'mlp']) {
      for (const seed of [1, 2]) expect(out).toMatch(new RegExp(`bench: ${model}, seed ${seed} \\(${seed} of 2\\), 300 steps of batch 100\\r\\n`));
    }
  });
});
