/**
 * A checkpoint save killed at any point (simulated: every call into fs.promises in turn never
 * returns, as after SIGKILL; helpers/crash-saves.js) leaves the previous checkpoint loadable, or,
 * on a first save, no folder at all, never an empty or partial one; the next save removes what
 * the killed one left behind.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { useBackend } from '../lib/backends';
import { loadCheckpoint, saveCheckpoint } from '../lib/io/checkpoint';
import { runNode } from './helpers/run-node';

const CHILD = path.resolve(__dirname, 'helpers/crash-saves.js');
const DIST = path.resolve(__dirname, '../dist');

beforeAll(async () => {
  await useBackend('cpu');
});

/** Files a finished checkpoint folder holds: model.json, one weights file, one state (two files). */
function expectTidy(ckpt: string): void {
  const names = fs.readdirSync(ckpt).sort();
  expect(names).toHaveLength(4);
  expect(names).toEqual([
    'model.json',
    expect.stringMatching(/^train-state\.[0-9a-f]{16}\.data$/),
    expect.stringMatching(/^train-state\.[0-9a-f]{16}\.json$/),
    expect.stringMatching(/^weights\.[0-9a-f]{16}\.bin$/),
  ]);
  // Nothing temporary beside the folder either (a first save's staging folder).
  expect(fs.readdirSync(path.dirname(ckpt)).filter((n) => n.startsWith('.'))).toEqual([]);
}

describe.each(['update', 'first'] as const)('a checkpoint save killed at each point (%s save)', (mode) => {
  let work: string;
  let crash: { points: number[]; before: number; after: number };
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), `mnist-nets-crash-${mode}-`));
    const r = runNode(CHILD, [DIST, work, mode]);
    if (r.code !== 0) throw new Error(`crash-saves.js exited ${r.code}: ${r.stderr}`);
    crash = JSON.parse(r.stdout);
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('was cut at every fs call of the save (more than a dozen points)', () => {
    expect(crash.points.length).toBeGreaterThan(12);
    expect(crash.points).toEqual(crash.points.map((_, i) => i + 1));
  });

  it(mode === 'update' ? 'leaves the previous checkpoint or the new one, loadable' : 'leaves no folder or a complete one, never an empty or partial one', async () => {
    const seen = new Set<number>();
    for (const point of crash.points) {
      const ckpt = path.join(work, `snapshot-${point}`, 'ckpt');
      if (mode === 'first' && !fs.existsSync(ckpt)) {
        seen.add(0);
        continue;
      }
      const c = await loadCheckpoint(ckpt).catch((err: Error) => {
        throw new Error(`after a crash at fs call ${point}: ${err.message}`);
      });
      c.model.dispose();
      expect([crash.before, crash.after]).toContain(c.state.step);
      expect(c.metadata.savedStep).toBe(c.state.step);
      seen.add(c.state.step);
    }
    // An update is cut before the switch to the new model.json or after it; a first save's last
    // call is the rename of the whole folder into place, so every cut leaves no folder.
    expect([...seen].sort()).toEqual(mode === 'update' ? [crash.before, crash.after] : [0]);
  });

  it('the next save removes what the killed one left: temporary files, folders, markers, unreferenced weights', async () => {
    const reference = await loadCheckpoint(path.join(work, 'reference'));
    let leftovers = 0;
    for (const point of crash.points) {
      const ckpt = path.join(work, `snapshot-${point}`, 'ckpt');
      const present = fs.existsSync(ckpt);
      const before = [...(present ? fs.readdirSync(ckpt) : []), ...fs.readdirSync(path.dirname(ckpt))];
      if (before.some((n) => n.startsWith('.') || n.endsWith('.tmp'))) leftovers++;
      const c = present ? await loadCheckpoint(ckpt) : reference;
      await saveCheckpoint(ckpt, c.model, c.metadata, c.state);
      if (c !== reference) c.model.dispose();
      expectTidy(ckpt);
      const again = await loadCheckpoint(ckpt);
      again.model.dispose();
      expect(again.state.step).toBe(c.state.step);
    }
    reference.model.dispose();
    // The crashes did leave things behind to clean up.
    expect(leftovers).toBeGreaterThan(3);
  });
});
